package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** The foundation of the SDK from Kotlin, written the way a V2TIM app is. */
class OximFoundationTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun startServer() { server = TestServer.start() }
        @AfterClass @JvmStatic fun stopServer() { server.stop() }
    }

    /** Collects what a simple message listener hears. */
    class Inbox : V2TIMSimpleMsgListener() {
        val texts = LinkedBlockingQueue<String>()
        val customs = LinkedBlockingQueue<ByteArray>()
        override fun onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {
            texts.add("${sender.userID}: $text")
        }
        override fun onRecvC2CCustomMessage(msgID: String, sender: V2TIMUserInfo, customData: ByteArray) {
            customs.add(customData)
        }
    }

    class Connection : V2TIMSDKListener() {
        val events = LinkedBlockingQueue<String>()
        override fun onConnectSuccess() { events.add("connected") }
        override fun onKickedOffline() { events.add("kicked") }
    }

    private fun awaitEvent(queue: LinkedBlockingQueue<String>, wanted: String) {
        while (true) {
            val e = queue.poll(15, TimeUnit.SECONDS) ?: fail("no '$wanted' event") as Nothing
            if (e == wanted) return
        }
    }

    @Test
    fun loginThenSendAndReceiveTextAndCustomThroughListeners(): Unit = runBlocking {
        // The default instance, as V2TIM apps use it.
        val manager = V2TIMManager.getInstance()
        val connection = Connection()
        assertTrue(manager.initSDK(null, server.sdkAppID, server.config("alice-phone"), connection))
        awaitEvent(connection.events, "connected")
        manager.login("alice", server.userSig("alice"))
        assertEquals("alice", V2TIMManager.getInstance().getLoginUser())
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGINED, manager.getLoginStatus())
        assertEquals(1, manager.getLoginStatus())
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGINED, manager.loginStatus)
        assertEquals("alice", manager.loginUser)

        // A second SDK instance in the same process for the other user.
        val bob = V2TIMManager()
        bob.initSDK(null, server.sdkAppID, server.config("bob-phone"), null)
        bob.login("bob", server.userSig("bob"))
        val bobInbox = Inbox()
        bob.addSimpleMsgListener(bobInbox)
        bob.addSimpleMsgListener(bobInbox) // adding the same object twice registers it once
        val aliceInbox = Inbox()
        manager.addSimpleMsgListener(aliceInbox)

        val sent = manager.sendC2CTextMessage("hello from kotlin", "bob")
        assertEquals(V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC, sent.status)
        assertEquals(V2TIMMessage.V2TIM_ELEM_TYPE_TEXT, sent.elemType)
        assertEquals("hello from kotlin", sent.textElem?.text)
        assertEquals("bob", sent.userID)
        assertTrue(sent.isSelf)
        assertEquals(1L, sent.seq)
        assertEquals("alice: hello from kotlin", bobInbox.texts.poll(15, TimeUnit.SECONDS))

        val data = byteArrayOf(1, 2, 3, -1)
        val custom = bob.sendC2CCustomMessage(data, "alice")
        assertEquals(V2TIMMessage.V2TIM_ELEM_TYPE_CUSTOM, custom.elemType)
        assertArrayEquals(data, aliceInbox.customs.poll(15, TimeUnit.SECONDS))

        // Each message arrived once, even with the listener added twice.
        assertNull(bobInbox.texts.poll(500, TimeUnit.MILLISECONDS))

        // A removed listener hears nothing more.
        bob.removeSimpleMsgListener(bobInbox)
        manager.sendC2CTextMessage("not heard", "bob")
        assertNull(bobInbox.texts.poll(1, TimeUnit.SECONDS))

        manager.logout()
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, manager.getLoginStatus())
        bob.unInitSDK()
        manager.unInitSDK() // the default instance is shared by the test classes of this JVM
    }

    @Test
    fun errorsArriveAsExceptionsWithTheirCode(): Unit = runBlocking {
        val sdk = V2TIMManager()
        sdk.initSDK(null, server.sdkAppID, server.config("errors"), null)
        val notLoggedIn = assertThrows(V2TIMException::class.java) {
            runBlocking { sdk.sendC2CTextMessage("hi", "bob") }
        }
        assertEquals(6014, notLoggedIn.code)
        val forged = assertThrows(V2TIMException::class.java) {
            runBlocking { sdk.login("carol", "not-a-usersig") }
        }
        assertEquals(70003, forged.code)
        val badParam = assertThrows(V2TIMException::class.java) {
            runBlocking { sdk.login("", server.userSig("carol")) }
        }
        assertEquals(6017, badParam.code)
        sdk.login("carol", server.userSig("carol"))
        val tooLong = assertThrows(V2TIMException::class.java) {
            runBlocking { sdk.sendC2CTextMessage("x".repeat(12 * 1024 + 1), "carol") }
        }
        assertEquals(8001, tooLong.code)
        sdk.unInitSDK()
    }

    @Test
    fun aSecondLoginOnTheSamePlatformKicksTheFirst(): Unit = runBlocking {
        val first = V2TIMManager()
        val firstEvents = Connection()
        first.initSDK(null, server.sdkAppID, server.config("dave-1", platform = "android"), firstEvents)
        first.login("dave", server.userSig("dave"))

        val second = V2TIMManager()
        second.initSDK(null, server.sdkAppID, server.config("dave-2", platform = "android"), null)
        second.login("dave", server.userSig("dave"))

        awaitEvent(firstEvents.events, "kicked")
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, first.getLoginStatus())
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGINED, second.getLoginStatus())
        first.unInitSDK()
        second.unInitSDK()
    }
}
