package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.V2TIMCallback
import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMOfflinePushInfo
import io.oxim.imsdk.v2.V2TIMSignalingListener
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * What a call invitation carries in its `data`: which media room both sides join (the audio and
 * video go through your RTC service, e.g. TRTC; signaling only sets the call up). The JSON shape
 * is this sample's own; `businessID` tells calls apart from other invitations.
 */
data class CallInvitation(val roomID: Int, val video: Boolean = false) {
    fun toData() = """{"businessID":"$BUSINESS_ID","callType":${if (video) 2 else 1},"roomID":$roomID}"""

    companion object {
        const val BUSINESS_ID = "av_call"
        private val pattern = Regex(""""businessID":"$BUSINESS_ID","callType":([12]),"roomID":(-?\d+)""")

        /** The call in an invitation's data, or null for an invitation that is not a call. */
        fun fromData(data: String): CallInvitation? =
            pattern.find(data)?.let { CallInvitation(roomID = it.groupValues[2].toInt(), video = it.groupValues[1] == "2") }
    }
}

/** Why a call ended. */
enum class EndReason {
    /** The callee declined. */
    DECLINED,
    /** The callee was in another call (declined automatically). */
    BUSY,
    /** The caller hung up before the callee answered. */
    CANCELLED,
    /** Nobody answered before the invitation's timeout (a missed call for the callee). */
    NO_ANSWER,
    /** This side hung up after talking. */
    HUNG_UP,
    /** A call to the SDK failed (see the error). */
    FAILED,
}

/** The call screen. [outgoing]: this user placed the call. */
sealed interface CallState {
    data object Idle : CallState
    /** Ringing at the callee. */
    data class Calling(val inviteID: String, val callee: String, val invitation: CallInvitation) : CallState
    /** Ringing here. */
    data class Ringing(val inviteID: String, val caller: String, val invitation: CallInvitation) : CallState
    /** Both accepted: join [CallInvitation.roomID] of your RTC service now. */
    data class InCall(val inviteID: String, val peer: String, val invitation: CallInvitation, val outgoing: Boolean) : CallState
    data class Ended(val peer: String, val reason: EndReason, val outgoing: Boolean, val error: V2TIMException? = null) : CallState
}

/**
 * A one-to-one audio or video call set up over V2TIMSignalingManager: invite, ring, accept,
 * decline, cancel, time out; and "busy" when a second call comes in during one.
 *
 * The server owns each invitation's state and timer, so both sides hear the same outcome even
 * when the caller's app has died: a timeout reaches the callee too, and an invitation that ended
 * while the callee was offline does not ring at the next login.
 */
class CallModel(
    private val session: ImSession,
    /** Seconds an invitation rings before the server times it out. */
    private val ringSeconds: Int = 30,
) : AutoCloseable {
    private val signaling = session.sdk.signalingManager
    private val _state = MutableStateFlow<CallState>(CallState.Idle)
    val state: StateFlow<CallState> = _state.asStateFlow()

    // Listener events and the model's own steps change the state under this lock.
    private val lock = Any()

    private val listener = object : V2TIMSignalingListener() {
        override fun onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: List<String>, data: String) {
            if (groupID.isNotEmpty()) return // group calls are not part of this sample
            val invitation = CallInvitation.fromData(data) ?: return // another kind of invitation
            val busy = synchronized(lock) {
                val now = _state.value
                if (now is CallState.Idle || now is CallState.Ended) {
                    _state.value = CallState.Ringing(inviteID, inviter, invitation)
                    false
                } else true
            }
            // A second call during a call: decline it at once, saying why (fire and forget).
            if (busy) signaling.reject(inviteID, BUSY_DATA, null)
        }

        override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) = on(inviteID) { now ->
            if (now is CallState.Calling) CallState.InCall(inviteID, now.callee, now.invitation, outgoing = true) else null
        }

        override fun onInviteeRejected(inviteID: String, invitee: String, data: String) = on(inviteID) { now ->
            if (now is CallState.Calling) CallState.Ended(now.callee, if (data == BUSY_DATA) EndReason.BUSY else EndReason.DECLINED, outgoing = true) else null
        }

        override fun onInvitationCancelled(inviteID: String, inviter: String, data: String) = on(inviteID) { now ->
            if (now is CallState.Ringing) CallState.Ended(now.caller, EndReason.CANCELLED, outgoing = false) else null
        }

        override fun onInvitationTimeout(inviteID: String, inviteeList: List<String>) = on(inviteID) { now ->
            when (now) {
                is CallState.Calling -> CallState.Ended(now.callee, EndReason.NO_ANSWER, outgoing = true)
                is CallState.Ringing -> CallState.Ended(now.caller, EndReason.NO_ANSWER, outgoing = false)
                else -> null
            }
        }
    }

    init {
        signaling.addSignalingListener(listener)
    }

    /**
     * Calls [userID]: it rings there (and as an offline push) until answered, cancelled or timed
     * out. V2TIM's callback form of `invite` returns the inviteID at once, before the server has
     * it: the screen shows [CallState.Calling] right away, and an answer that overtakes the
     * server's reply finds the call it belongs to. A failure (e.g. BaseConstants.ERR_SVR_MSG_INVALID_ID,
     * no such user) ends the call with the error.
     */
    fun call(userID: String, invitation: CallInvitation): String = synchronized(lock) {
        val now = _state.value
        check(now is CallState.Idle || now is CallState.Ended) { "already in a call: $now" }
        val push = V2TIMOfflinePushInfo()
        push.title = session.userID
        push.desc = if (invitation.video) "Video call" else "Audio call"
        lateinit var calling: CallState.Calling
        val inviteID = signaling.invite(userID, invitation.toData(), false, push, ringSeconds, object : V2TIMCallback {
            override fun onSuccess() {} // it rings; the listener tells what comes next

            override fun onError(code: Int, desc: String) = synchronized(lock) { // taken once call() has set [calling]
                transition(calling) { CallState.Ended(userID, EndReason.FAILED, outgoing = true, error = V2TIMException(code, desc)) }
            }
        })
        calling = CallState.Calling(inviteID, userID, invitation)
        _state.value = calling
        inviteID
    }

    /** The caller hangs up before an answer; the callee stops ringing. */
    suspend fun cancel() = imCall {
        val calling = _state.value as? CallState.Calling ?: return@imCall
        signaling.cancel(calling.inviteID, "")
        transition(calling) { CallState.Ended(calling.callee, EndReason.CANCELLED, outgoing = true) }
    }

    /** The callee answers: both sides are [CallState.InCall]. */
    suspend fun accept() = answer(accept = true)

    /** The callee declines: the caller hears [EndReason.DECLINED]. */
    suspend fun decline() = answer(accept = false)

    private suspend fun answer(accept: Boolean): Result<Unit> {
        val ringing = _state.value as? CallState.Ringing ?: return Result.success(Unit)
        return try {
            if (accept) signaling.accept(ringing.inviteID, "") else signaling.reject(ringing.inviteID, "")
            transition(ringing) {
                if (accept) CallState.InCall(ringing.inviteID, ringing.caller, ringing.invitation, outgoing = false)
                else CallState.Ended(ringing.caller, EndReason.DECLINED, outgoing = false)
            }
            Result.success(Unit)
        } catch (e: V2TIMException) {
            // The invitation ended first (cancelled or timed out): its event says which.
            if (e.code != BaseConstants.ERR_SDK_SIGNALING_INVALID_INVITE_ID) {
                transition(ringing) { CallState.Ended(ringing.caller, EndReason.FAILED, outgoing = false, error = e) }
            }
            Result.failure(e)
        }
    }

    /**
     * Ends a call in progress on this side. Leaving the media room is what the other side notices
     * (your RTC service tells it); signaling's part ended with the answer.
     */
    fun hangUp() {
        val inCall = _state.value as? CallState.InCall ?: return
        transition(inCall) { CallState.Ended(inCall.peer, EndReason.HUNG_UP, inCall.outgoing) }
    }

    /** Closes the "call ended" screen. */
    fun dismiss() {
        val ended = _state.value as? CallState.Ended ?: return
        transition(ended) { CallState.Idle }
    }

    // Applies a listener event to the call it is about (events of other invitations are ignored):
    // [next] gives the new state, or null to stay.
    private fun on(inviteID: String, next: (CallState) -> CallState?) = synchronized(lock) {
        val now = _state.value
        val current = when (now) {
            is CallState.Calling -> now.inviteID
            is CallState.Ringing -> now.inviteID
            else -> null
        }
        if (current == inviteID) next(now)?.let { _state.value = it }
    }

    // Moves on only if the state is still [from] (a listener event may have moved it meanwhile).
    private fun transition(from: CallState, to: () -> CallState) = synchronized(lock) {
        if (_state.value == from) _state.value = to()
    }

    override fun close() {
        signaling.removeSignalingListener(listener)
    }

    companion object {
        /** The `data` of an automatic decline during another call. */
        const val BUSY_DATA = """{"businessID":"av_call","reason":"busy"}"""
    }
}
