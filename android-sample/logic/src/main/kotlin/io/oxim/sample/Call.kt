package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMOfflinePushInfo
import io.oxim.imsdk.v2.V2TIMSignalingListener
import io.oxim.imsdk.v2.addSignalingListener
import io.oxim.imsdk.v2.removeSignalingListener
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

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
    /** The invitation is on its way; the server has not given its inviteID yet. */
    data class Dialing(val callee: String, val invitation: CallInvitation) : CallState
    /** Ringing at the callee. */
    data class Calling(val inviteID: String, val callee: String, val invitation: CallInvitation) : CallState
    /** Ringing here. */
    data class Ringing(val inviteID: String, val caller: String, val invitation: CallInvitation) : CallState
    /** Both accepted: join [CallInvitation.roomID] of your RTC service now. */
    data class InCall(val inviteID: String, val peer: String, val invitation: CallInvitation, val outgoing: Boolean) : CallState
    data class Ended(val peer: String, val reason: EndReason, val outgoing: Boolean, val error: ImError? = null) : CallState
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
    private val scope: CoroutineScope,
    /** Seconds an invitation rings before the server times it out. */
    private val ringSeconds: Int = 30,
) : AutoCloseable {
    private val signaling = session.sdk.getSignalingManager()
    private val _state = MutableStateFlow<CallState>(CallState.Idle)
    val state: StateFlow<CallState> = _state.asStateFlow()

    /** What the listener heard, as one type, so events can wait while [CallState.Dialing]. */
    private sealed interface Event {
        val inviteID: String
        data class Accepted(override val inviteID: String) : Event
        data class Declined(override val inviteID: String, val busy: Boolean) : Event
        data class Cancelled(override val inviteID: String) : Event
        data class TimedOut(override val inviteID: String) : Event
    }

    private val lock = Any()
    // Answers that came before invite() returned the inviteID (a callee that is busy answers at once).
    private val early = mutableListOf<Event>()

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
            // A second call during a call: decline it at once, saying why.
            if (busy) scope.launch { imCall { signaling.reject(inviteID, BUSY_DATA) } }
        }
        override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) = handle(Event.Accepted(inviteID))
        override fun onInviteeRejected(inviteID: String, invitee: String, data: String) = handle(Event.Declined(inviteID, data == BUSY_DATA))
        override fun onInvitationCancelled(inviteID: String, inviter: String, data: String) = handle(Event.Cancelled(inviteID))
        override fun onInvitationTimeout(inviteID: String, inviteeList: List<String>) = handle(Event.TimedOut(inviteID))
    }

    init {
        signaling.addSignalingListener(listener)
    }

    /** Calls [userID]: it rings there (and as an offline push) until answered, cancelled or timed out. */
    suspend fun call(userID: String, invitation: CallInvitation): Result<String> {
        synchronized(lock) {
            val now = _state.value
            check(now is CallState.Idle || now is CallState.Ended) { "already in a call: $now" }
            early.clear()
            _state.value = CallState.Dialing(userID, invitation)
        }
        val push = V2TIMOfflinePushInfo(title = session.userID, desc = if (invitation.video) "Video call" else "Audio call")
        return try {
            val inviteID = signaling.invite(userID, invitation.toData(), false, push, ringSeconds)
            synchronized(lock) {
                if (_state.value is CallState.Dialing) {
                    _state.value = CallState.Calling(inviteID, userID, invitation)
                    early.filter { it.inviteID == inviteID }.forEach { apply(it) }
                }
                early.clear()
            }
            Result.success(inviteID)
        } catch (e: V2TIMException.Failure) {
            _state.value = CallState.Ended(userID, EndReason.FAILED, outgoing = true, error = e.toImError())
            Result.failure(ImException(e.toImError()))
        }
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
        } catch (e: V2TIMException.Failure) {
            // 8010: the invitation ended first (cancelled or timed out); its event says which.
            val error = e.toImError()
            if (error.code != ImError.SIGNALING_INVALID_INVITE_ID) {
                transition(ringing) { CallState.Ended(ringing.caller, EndReason.FAILED, outgoing = false, error = error) }
            }
            Result.failure(ImException(error))
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

    private fun handle(event: Event) = synchronized(lock) {
        if (_state.value is CallState.Dialing) early += event else apply(event)
    }

    // Applies a listener event to the call it belongs to; events of other calls are ignored.
    private fun apply(event: Event) {
        val next = when (val now = _state.value) {
            is CallState.Calling -> if (now.inviteID != event.inviteID) null else when (event) {
                is Event.Accepted -> CallState.InCall(now.inviteID, now.callee, now.invitation, outgoing = true)
                is Event.Declined -> CallState.Ended(now.callee, if (event.busy) EndReason.BUSY else EndReason.DECLINED, outgoing = true)
                is Event.TimedOut -> CallState.Ended(now.callee, EndReason.NO_ANSWER, outgoing = true)
                is Event.Cancelled -> null
            }
            is CallState.Ringing -> if (now.inviteID != event.inviteID) null else when (event) {
                is Event.Cancelled -> CallState.Ended(now.caller, EndReason.CANCELLED, outgoing = false)
                is Event.TimedOut -> CallState.Ended(now.caller, EndReason.NO_ANSWER, outgoing = false)
                else -> null
            }
            else -> null
        }
        if (next != null) _state.value = next
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
