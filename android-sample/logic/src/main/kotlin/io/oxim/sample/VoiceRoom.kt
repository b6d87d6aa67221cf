package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMGroupListener
import io.oxim.imsdk.v2.V2TIMManager
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/** A voice room's mic seats: who holds each (null = free). */
data class VoiceRoomState(
    val roomID: String,
    val seats: List<String?> = emptyList(),
    /** The seat this user holds, if any. */
    val mySeat: Int? = null,
)

/** What taking a seat came to. */
sealed interface SeatResult {
    data class Taken(val seat: Int) : SeatResult
    /** Someone already held it when this user tapped it. */
    data class Occupied(val seat: Int, val holder: String) : SeatResult
    /**
     * Someone else took it in the same moment and won: the write was refused with
     * BaseConstants.ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT (10056).
     */
    data class LostRace(val seat: Int, val winner: String) : SeatResult
    data class Failed(val seat: Int, val error: V2TIMException) : SeatResult
}

/**
 * A voice chat room's mic seats, kept in the attributes of an AVChatRoom group
 * (V2TIMGroupManager `initGroupAttributes` / `setGroupAttributes` / `getGroupAttributes` and
 * V2TIMGroupListener `onGroupAttributeChanged`). Attribute "seat<N>" holds the userID on seat N,
 * or "" when it is free.
 *
 * Two users can tap the same free seat at the same moment. Attribute writes are version-checked:
 * the SDK sends the version of the attributes this device last read (or wrote), and the server
 * refuses a write to a key that changed since with 10056 (ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT). So exactly one of them gets the seat,
 * and the other learns who did. Pushed changes do not move that version (a decision made from an
 * old read must not win because a push happened to arrive first): after a 10056 this model reads
 * again and, if the seat turned out free after all, tries once more.
 */
class VoiceRoomModel(private val session: ImSession, val roomID: String) : AutoCloseable {
    private val groups = session.sdk.groupManager
    private val _state = MutableStateFlow(VoiceRoomState(roomID))
    val state: StateFlow<VoiceRoomState> = _state.asStateFlow()

    private val listener = object : V2TIMGroupListener() {
        // The complete map after every change, to every member (the writer included).
        override fun onGroupAttributeChanged(groupID: String, groupAttributeMap: Map<String, String>) {
            if (groupID == roomID) show(groupAttributeMap)
        }
    }

    init {
        session.sdk.addGroupListener(listener)
    }

    /** Enters the room and reads the seats (the view the SDK versions this user's writes against). */
    suspend fun join(): Result<Unit> = imCall {
        try {
            session.sdk.joinGroup(roomID, "")
        } catch (e: V2TIMException) {
            // The host is in the room it opened.
            if (e.code != BaseConstants.ERR_SVR_GROUP_ALLREADY_MEMBER) throw e
        }
        show(groups.getGroupAttributes(roomID, null))
    }

    /** Reads the seats again. */
    suspend fun refresh(): Result<Unit> = imCall { show(groups.getGroupAttributes(roomID, null)) }

    /**
     * Takes seat [seat]. Moving from another seat is one write of both keys, so the user is never
     * on two seats or on none in between.
     */
    suspend fun take(seat: Int): SeatResult {
        val me = session.userID
        repeat(2) { attempt ->
            val now = _state.value
            val holder = now.seats.getOrNull(seat)
            if (holder == me) return SeatResult.Taken(seat)
            if (holder != null) return SeatResult.Occupied(seat, holder)
            val write = buildMap {
                now.mySeat?.let { put(key(it), "") }
                put(key(seat), me)
            }
            try {
                groups.setGroupAttributes(roomID, write)
                // Show it now; the push of this write (to every member) says the same.
                showWritten(write)
                return SeatResult.Taken(seat)
            } catch (e: V2TIMException) {
                if (e.code != BaseConstants.ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT) return SeatResult.Failed(seat, e)
                // A seat changed since this device last read them: read, then see who has it.
                refresh().onFailure { return SeatResult.Failed(seat, it as V2TIMException) }
                val winner = _state.value.seats.getOrNull(seat)
                if (winner != null && winner != me) return SeatResult.LostRace(seat, winner)
                // Free after all (our read predated a change elsewhere): the loop tries once more.
                if (attempt == 1) return SeatResult.Failed(seat, e)
            }
        }
        error("unreachable")
    }

    /** Leaves the seat this user holds (the seat becomes free for everyone). */
    suspend fun leaveSeat(): Result<Unit> = imCall {
        val seat = _state.value.mySeat ?: return@imCall
        val write = mapOf(key(seat) to "")
        groups.setGroupAttributes(roomID, write)
        showWritten(write)
    }

    /** Leaves the seat, then the room. */
    suspend fun leave(): Result<Unit> {
        leaveSeat().onFailure { return Result.failure(it) }
        return imCall { session.sdk.quitGroup(roomID) }
    }

    private fun showWritten(write: Map<String, String>) = _state.update { now ->
        val seats = now.seats.toMutableList()
        for ((key, holder) in write) {
            key.removePrefix(SEAT_PREFIX).toIntOrNull()?.takeIf { it in seats.indices }?.let { seats[it] = holder.ifEmpty { null } }
        }
        now.copy(seats = seats, mySeat = seats.indexOf(session.userID).takeIf { it >= 0 })
    }

    private fun show(attributes: Map<String, String>) {
        val me = session.userID
        val count = attributes.keys.mapNotNull { it.removePrefix(SEAT_PREFIX).toIntOrNull() }.maxOrNull()?.plus(1) ?: 0
        val seats = List(count) { attributes[key(it)]?.ifEmpty { null } }
        _state.update { it.copy(seats = seats, mySeat = seats.indexOf(me).takeIf { i -> i >= 0 }) }
    }

    override fun close() {
        session.sdk.removeGroupListener(listener)
    }

    companion object {
        private const val SEAT_PREFIX = "seat"
        private fun key(seat: Int) = "$SEAT_PREFIX$seat"

        /**
         * The host opens a room: an AVChatRoom (any number of listeners, online-only messages)
         * whose attributes start as [seatCount] free seats.
         */
        suspend fun open(host: ImSession, roomID: String, name: String, seatCount: Int): Result<Unit> = imCall {
            host.sdk.createGroup(V2TIMManager.GROUP_TYPE_AVCHATROOM, roomID, name)
            host.sdk.groupManager.initGroupAttributes(roomID, (0 until seatCount).associate { key(it) to "" })
        }
    }
}
