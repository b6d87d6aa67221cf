package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.V2TIMSignalingListener
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** A 1:1 call over signaling, seen from both sides: answered, declined, cancelled, missed, busy. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallTest {
    private val server = TestServer.start()

    @AfterAll fun stop() = server.close()

    private suspend fun phone(user: String, ringSeconds: Int = 30) = CallModel(server.login(user), ringSeconds)

    @Test
    fun `the callee rings, answers, and both are in the same room`() = runBlocking {
        val alice = phone("a-alice")
        val bobSession = server.login("a-bob")
        val bob = CallModel(bobSession)
        val inviteID = alice.call("a-bob", CallInvitation(roomID = 4242, video = true))
        assertEquals(CallState.Calling(inviteID, "a-bob", CallInvitation(4242, video = true)), alice.state.value)

        val ringing = bob.state.await("ringing") { it is CallState.Ringing } as CallState.Ringing
        assertEquals(CallState.Ringing(inviteID, "a-alice", CallInvitation(4242, video = true)), ringing)

        bob.accept().getOrThrow()
        assertEquals(CallState.InCall(inviteID, "a-alice", CallInvitation(4242, video = true), outgoing = false), bob.state.value)
        val aliceInCall = alice.state.await("answered") { it is CallState.InCall }
        assertEquals(CallState.InCall(inviteID, "a-bob", CallInvitation(4242, video = true), outgoing = true), aliceInCall)

        alice.hangUp()
        assertEquals(CallState.Ended("a-bob", EndReason.HUNG_UP, outgoing = true), alice.state.value)
        alice.dismiss()
        assertEquals(CallState.Idle, alice.state.value)
        // The call is in both histories; the conversation list shows it.
        val lastOfBob = bobSession.sdk.messageManager.getC2CHistoryMessageList("a-alice", 1, null).single()
        assertEquals("[Call answered]", bobSession.preview(lastOfBob))
        listOf(alice, bob).forEach { it.close() }
    }

    @Test
    fun `the callee declines`() = runBlocking {
        val alice = phone("d-alice")
        val bob = phone("d-bob")
        alice.call("d-bob", CallInvitation(roomID = 1))
        bob.state.await("ringing") { it is CallState.Ringing }
        bob.decline().getOrThrow()
        assertEquals(CallState.Ended("d-alice", EndReason.DECLINED, outgoing = false), bob.state.value)
        assertEquals(CallState.Ended("d-bob", EndReason.DECLINED, outgoing = true), alice.state.await("declined") { it is CallState.Ended })
        listOf(alice, bob).forEach { it.close() }
    }

    @Test
    fun `the caller cancels before an answer and the callee stops ringing`() = runBlocking {
        val alice = phone("c-alice")
        val bob = phone("c-bob")
        alice.call("c-bob", CallInvitation(roomID = 2))
        bob.state.await("ringing") { it is CallState.Ringing }
        alice.cancel().getOrThrow()
        assertEquals(CallState.Ended("c-bob", EndReason.CANCELLED, outgoing = true), alice.state.value)
        assertEquals(CallState.Ended("c-alice", EndReason.CANCELLED, outgoing = false), bob.state.await("cancelled") { it is CallState.Ended })

        // Answering now changes nothing.
        val late = bob.accept()
        assertEquals(CallState.Ended("c-alice", EndReason.CANCELLED, outgoing = false), bob.state.value)
        assertTrue(late.isSuccess) // nothing rings any more: accept() has nothing to answer
        listOf(alice, bob).forEach { it.close() }
    }

    @Test
    fun `when nobody answers, the server times the call out on both sides`() = runBlocking {
        val alice = phone("n-alice", ringSeconds = 1)
        val bobSession = server.login("n-bob")
        val bob = CallModel(bobSession)
        alice.call("n-bob", CallInvitation(roomID = 3))
        bob.state.await("ringing") { it is CallState.Ringing }
        assertEquals(CallState.Ended("n-bob", EndReason.NO_ANSWER, outgoing = true), alice.state.await("timed out") { it is CallState.Ended })
        assertEquals(CallState.Ended("n-alice", EndReason.NO_ANSWER, outgoing = false), bob.state.await("missed") { it is CallState.Ended })

        // Both histories end with the timeout: a missed call in the conversation list.
        val lastOfBob = bobSession.sdk.messageManager.getC2CHistoryMessageList("n-alice", 1, null).single()
        assertEquals("[Missed call]", bobSession.preview(lastOfBob))
        listOf(alice, bob).forEach { it.close() }
    }

    @Test
    fun `a second call during a call is declined as busy`() = runBlocking {
        val alice = phone("b-alice")
        val bob = phone("b-bob")
        val carol = phone("b-carol")
        alice.call("b-bob", CallInvitation(roomID = 5))
        bob.state.await("ringing") { it is CallState.Ringing }
        bob.accept().getOrThrow()

        carol.call("b-bob", CallInvitation(roomID = 6))
        assertEquals(CallState.Ended("b-bob", EndReason.BUSY, outgoing = true), carol.state.await("busy") { it is CallState.Ended })
        // Bob's call with alice goes on.
        assertEquals("b-alice", (bob.state.value as CallState.InCall).peer)
        assertEquals("b-bob", (alice.state.await("in call") { it is CallState.InCall } as CallState.InCall).peer)
        listOf(alice, bob, carol).forEach { it.close() }
    }

    @Test
    fun `calling a user who never logged in ends the call with V2TIM's code`() = runBlocking {
        val alice = phone("u-alice")
        val inviteID = alice.call("u-nobody", CallInvitation(roomID = 8))
        // The inviteID came at once; the server's refusal ends the call.
        assertTrue(inviteID.isNotEmpty())
        val ended = alice.state.await("refused") { it is CallState.Ended } as CallState.Ended
        assertEquals(EndReason.FAILED, ended.reason)
        assertEquals(BaseConstants.ERR_SVR_MSG_INVALID_ID, ended.error?.code)
        // The screen can place the next call.
        alice.dismiss()
        assertEquals(CallState.Idle, alice.state.value)
        alice.close()
    }

    @Test
    fun `answering an invitation cancelled meanwhile is refused with V2TIM's code, then the cancel ends the ringing`() = runBlocking {
        val alice = phone("x-alice")
        // Bob's listener thread is busy with the cancel (another listener of his app takes its
        // time), so his screen still rings when he taps "Accept" after alice hung up.
        val bobSession = server.login("x-bob")
        val busy = CountDownLatch(1)
        bobSession.sdk.signalingManager.addSignalingListener(object : V2TIMSignalingListener() {
            override fun onInvitationCancelled(inviteID: String, inviter: String, data: String) {
                busy.await(15, TimeUnit.SECONDS)
            }
        })
        val bob = CallModel(bobSession)
        alice.call("x-bob", CallInvitation(roomID = 9))
        bob.state.await("ringing") { it is CallState.Ringing }
        alice.cancel().getOrThrow()

        val late = bob.accept()
        assertEquals(BaseConstants.ERR_SDK_SIGNALING_INVALID_INVITE_ID, late.errorCode)
        assertTrue(bob.state.value is CallState.Ringing, "the refusal leaves the event to say what happened")
        busy.countDown()
        assertEquals(CallState.Ended("x-alice", EndReason.CANCELLED, outgoing = false), bob.state.await("cancelled") { it is CallState.Ended })
        listOf(alice, bob).forEach { it.close() }
    }

    @Test
    fun `an invitation that is not a call leaves the call screen alone`() = runBlocking {
        val alice = server.login("o-alice")
        val bob = phone("o-bob")
        // E.g. "raise your hand" in a class app: its data is not a CallInvitation.
        val raise = alice.sdk.signalingManager.invite("o-bob", """{"businessID":"raise_hand"}""", false, null, 30)
        val call = CallModel(alice)
        call.call("o-bob", CallInvitation(roomID = 7))
        val ringing = bob.state.await("ringing") { it is CallState.Ringing } as CallState.Ringing
        assertEquals(7, ringing.invitation.roomID)
        assertNotEquals(raise, ringing.inviteID)
        listOf(bob, call).forEach { it.close() }
    }
}
