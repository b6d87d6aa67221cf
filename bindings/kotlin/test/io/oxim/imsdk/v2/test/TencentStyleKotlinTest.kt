package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.V2TIMManager
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

/**
 * Kotlin code written against Tencent's Android SDK (TencentStyleKotlinApp, only its import
 * changed) runs against a live server: init with a Context, login, simple and custom messages,
 * the conversation list and total unread, a Work group with attributes, an invitation each way.
 */
class TencentStyleKotlinTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }
    }

    /** Waits for the app to see an event starting with [wanted]; returns it. */
    private fun TencentStyleKotlinApp.expect(wanted: String): String {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15)
        while (true) {
            val event = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)
                ?: throw AssertionError("the app never saw '$wanted'")
            if (event.startsWith(wanted)) return event
        }
    }

    /** Waits for the app to see every one of [wanted] (exact events), in any order. */
    private fun TencentStyleKotlinApp.expectAll(vararg wanted: String) {
        val missing = wanted.toMutableSet()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15)
        while (missing.isNotEmpty()) {
            val event = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)
                ?: throw AssertionError("the app never saw $missing")
            missing.remove(event)
        }
    }

    @Test
    fun kotlinCodeWrittenForTencentsSdkRunsWithOnlyTheImportChanged() {
        val filesDir = Files.createTempDirectory("oxim-kotlin-app").toFile()
        val bob = Peer(server, "kt-bob")
        val app = TencentStyleKotlinApp()

        app.initSDK(Peer.androidContext(filesDir, server.url), server.sdkAppID)
        app.expect("connected")
        app.login("kt-alice", server.userSig("kt-alice"))
        assertEquals("login ok kt-alice true", app.expect("login ok"))

        app.listenToAllMessages()
        val simpleID = app.sendSimpleText("kt-bob", "hello bob")
        assertEquals("simple sent $simpleID", app.expect("simple sent"))
        assertEquals("kt-alice: hello bob", bob.next(bob.texts))
        val customID = app.sendCustom("kt-bob", "{\"like\":1}")
        assertFalse(customID.isEmpty())
        assertEquals("sent $customID true seq 2", app.expect("sent "))
        bob.sendText("kt-alice", "hi alice")
        assertEquals("new text from kt-bob: hi alice", app.expect("new text"))

        app.loadConversations()
        app.expectAll("conversation c2c_kt-bob unread 1", "conversations finished true", "total unread 1")

        app.createGroupWithAttributes("kt work", "kt-bob")
        app.expect("group created")
        val groupID = bob.joinedGroupIDs().single()
        assertTrue(groupID.startsWith("@TGS#"))
        // The write's callback and the listener's event come in either order.
        app.expectAll("attributes set", "attributes of $groupID: {seat1=kt-alice, seat2=}")
        assertEquals(mapOf("seat1" to "kt-alice", "seat2" to ""), bob.groupAttributes(groupID))

        app.listenToInvitations()
        val inviteID = app.invite("kt-bob")
        app.expect("invite sent")
        assertEquals(inviteID, bob.next(bob.invitations))
        bob.accept(inviteID)
        assertEquals("invitee accepted $inviteID kt-bob", app.expect("invitee accepted"))
        val bobsCall = bob.invite("kt-alice")
        assertEquals("invited by kt-bob", app.expect("invited by"))
        assertEquals("accepted $bobsCall", app.expect("accepted"))
        assertEquals("$bobsCall by kt-alice", bob.next(bob.accepted))

        app.logout()
        app.expect("logged out")
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, V2TIMManager.getInstance().loginStatus)
        bob.close()
    }
}
