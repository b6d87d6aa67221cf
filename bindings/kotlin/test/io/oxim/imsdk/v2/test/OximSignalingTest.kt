package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Signaling from Kotlin: a 1:1 call (invite with a room id, accept) and a timeout. */
class OximSignalingTest {
    companion object {
        lateinit var server: TestServer
        lateinit var alice: V2TIMManager
        lateinit var bob: V2TIMManager

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
            alice = server.login("s-alice", "s-alice")
            bob = server.login("s-bob", "s-bob")
        }

        @AfterClass @JvmStatic fun stop() {
            alice.unInitSDK()
            bob.unInitSDK()
            server.stop()
        }
    }

    /** Records signaling callbacks as strings, in order. */
    class Calls : V2TIMSignalingListener() {
        val seen = LinkedBlockingQueue<String>()
        override fun onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: List<String>, data: String) {
            seen.add("invited $inviteID $inviter $inviteeList $data")
        }
        override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) { seen.add("accepted $inviteID $invitee $data") }
        override fun onInvitationTimeout(inviteID: String, inviteeList: List<String>) { seen.add("timeout $inviteID $inviteeList") }
    }

    @Test
    fun oneToOneCallThenATimeout(): Unit = runBlocking {
        val aliceCalls = Calls()
        val bobCalls = Calls()
        val signaling = alice.signalingManager
        val bobSignaling = bob.signalingManager
        signaling.addSignalingListener(aliceCalls)
        bobSignaling.addSignalingListener(bobCalls)

        // The caller puts the room id in data; the callee rings and accepts.
        val push = V2TIMOfflinePushInfo().apply { desc = "Alice is calling" }
        val call = signaling.invite("s-bob", "{\"roomID\":42}", false, push, 30)
        assertEquals("invited $call s-alice [s-bob] {\"roomID\":42}", bobCalls.seen.poll(15, TimeUnit.SECONDS))
        bobSignaling.accept(call, "picked up")
        assertEquals("accepted $call s-bob picked up", aliceCalls.seen.poll(15, TimeUnit.SECONDS))

        // The call is a message in the history; getSignalingInfo decodes it.
        val history = bob.messageManager.getC2CHistoryMessageList("s-alice", 10, null)
        val infos = history.map { bobSignaling.getSignalingInfo(it) }
        assertEquals(listOf(call, call), infos.map { it.inviteID })
        assertEquals(listOf(V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_ACCEPT_INVITE,
            V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_INVITE), infos.map { it.actionType })
        assertEquals("{\"roomID\":42}", infos[1].data)
        val e = assertThrows(V2TIMException::class.java) { runBlocking { bobSignaling.accept(call, "") } }
        assertEquals(8010, e.code)

        // Unanswered for 1 s: both sides hear the timeout from the server.
        val unanswered = signaling.invite("s-bob", "", false, null, 1)
        assertEquals("invited $unanswered s-alice [s-bob] ", bobCalls.seen.poll(15, TimeUnit.SECONDS))
        assertEquals("timeout $unanswered [s-bob]", aliceCalls.seen.poll(15, TimeUnit.SECONDS))
        assertEquals("timeout $unanswered [s-bob]", bobCalls.seen.poll(15, TimeUnit.SECONDS))
        assertTrue(aliceCalls.seen.isEmpty() && bobCalls.seen.isEmpty())
        signaling.removeSignalingListener(aliceCalls)
        bobSignaling.removeSignalingListener(bobCalls)
    }
}
