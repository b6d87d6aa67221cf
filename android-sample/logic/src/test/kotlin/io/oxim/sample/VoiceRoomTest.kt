package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMGroupListener
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** A voice room's mic seats over group attributes, with three users in the room. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VoiceRoomTest {
    private val server = TestServer.start()

    @AfterAll fun stop() = server.close()

    private val free = listOf<String?>(null, null, null, null)

    /** The host opens a room with 4 seats; the host and [users] join it (the host first). */
    private suspend fun room(roomID: String, vararg users: String): List<VoiceRoomModel> {
        val host = server.login("$roomID-host")
        VoiceRoomModel.open(host, roomID, "Friday night", seatCount = 4).getOrThrow()
        return listOf(host).plus(users.map { server.login(it) }).map { session ->
            VoiceRoomModel(session, roomID).also { it.join().getOrThrow() }
        }
    }

    @Test
    fun `seats are taken and left, and every member sees who sits where`() = runBlocking {
        val (host, ann, ben) = room("v-room1", "v-ann", "v-ben")
        assertEquals(free, ann.state.value.seats)
        assertEquals(free, ben.state.value.seats)

        assertEquals(SeatResult.Taken(1), ann.take(1))
        assertEquals(1, ann.state.await("ann on 1") { it.mySeat == 1 }.mySeat)
        for (member in listOf(host, ben)) member.state.await("ann on 1") { it.seats == listOf(null, "v-ann", null, null) }
        // A seat someone holds is not taken from them.
        assertEquals(SeatResult.Occupied(1, "v-ann"), ben.take(1))

        // Moving is one write: ann is never on two seats.
        assertEquals(SeatResult.Taken(3), ann.take(3))
        ben.state.await("ann moved to 3") { it.seats == listOf(null, null, null, "v-ann") }

        ann.leaveSeat().getOrThrow()
        assertEquals(free, ben.state.await("all free") { it.seats == free }.seats)
        assertEquals(null, ann.state.await("ann stood up") { it.mySeat == null }.mySeat)
        listOf(host, ann, ben).forEach { it.close() }
    }

    @Test
    fun `two users tap the same free seat at once, exactly one sits and the other is told who did`() = runBlocking {
        val (host, ann, ben) = room("v-room2", "v-ann2", "v-ben2")
        // Both start from a view in which seat 2 is free; both writes go out before either answer
        // comes back (each runs undispatched up to its network wait). The loser's write is
        // refused with 10056 and it reads who won (LostRace); on a slow machine the winner's push
        // can reach it before it even writes (Occupied). Either way, one seat, one holder.
        val annTakes = async(start = CoroutineStart.UNDISPATCHED) { ann.take(2) }
        val benTakes = async(start = CoroutineStart.UNDISPATCHED) { ben.take(2) }
        val results = listOf(annTakes.await(), benTakes.await())

        val winner = if (results[0] is SeatResult.Taken) "v-ann2" else "v-ben2"
        assertEquals(1, results.count { it is SeatResult.Taken }, "$results")
        val lost = results.single { it !is SeatResult.Taken }
        assertTrue(lost == SeatResult.LostRace(2, winner) || lost == SeatResult.Occupied(2, winner), "$results")
        for (member in listOf(host, ann, ben)) {
            member.state.await("$winner on 2") { it.seats == listOf(null, null, winner, null) }
        }
        listOf(host, ann, ben).forEach { it.close() }
    }

    @Test
    fun `the loser of a race learns the winner from the 10056 when its screen has not heard the push yet`() = runBlocking {
        val host = server.login("v-room5-host")
        VoiceRoomModel.open(host, "v-room5", "Friday night", seatCount = 4).getOrThrow()
        val ann = VoiceRoomModel(server.login("v-ann5"), "v-room5").also { it.join().getOrThrow() }
        // Ben's listener thread is busy (another listener of his app takes its time), so his
        // screen still shows seat 2 free when he taps it, as in a race.
        val benSession = server.login("v-ben5")
        val busy = CountDownLatch(1)
        val slowListener = object : V2TIMGroupListener() {
            override fun onGroupAttributeChanged(groupID: String, groupAttributeMap: Map<String, String>) {
                busy.await(15, TimeUnit.SECONDS)
            }
        }
        benSession.sdk.addGroupListener(slowListener)
        val ben = VoiceRoomModel(benSession, "v-room5").also { it.join().getOrThrow() }

        assertEquals(SeatResult.Taken(2), ann.take(2))
        assertEquals(null, ben.state.value.seats[2], "ben has not heard it")
        assertEquals(SeatResult.LostRace(2, "v-ann5"), ben.take(2))
        assertEquals("v-ann5", ben.state.value.seats[2], "the read after the 10056 shows the winner")
        busy.countDown()
        benSession.sdk.removeGroupListener(slowListener)
        listOf(ann, ben).forEach { it.close() }
    }

    @Test
    fun `a write from a stale view loses with 10056, and the seat is taken on the second try if it is free`() = runBlocking {
        val (host, ann, ben) = room("v-room3", "v-ann3", "v-ben3")
        assertEquals(SeatResult.Taken(0), ann.take(0))
        ann.leaveSeat().getOrThrow()
        // Ben saw both changes by push; his SDK's view is still his read at join, older than
        // them. Its first write is refused (10056), the model reads again, seat 0 is free: it
        // tries again and sits.
        ben.state.await("seat 0 free again") { it.seats == free }
        assertEquals(SeatResult.Taken(0), ben.take(0))
        ann.state.await("ben on 0") { it.seats == listOf("v-ben3", null, null, null) }
        listOf(host, ann, ben).forEach { it.close() }
    }

    @Test
    fun `leaving the room frees the seat`() = runBlocking {
        val (host, ann, ben) = room("v-room4", "v-ann4", "v-ben4")
        assertEquals(SeatResult.Taken(2), ann.take(2))
        ben.state.await("ann on 2") { it.seats[2] == "v-ann4" }
        ann.leave().getOrThrow()
        ben.state.await("seat 2 free") { it.seats == free }
        assertTrue(ben.refresh().isSuccess)
        assertEquals(free, ben.state.value.seats)
        listOf(host, ann, ben).forEach { it.close() }
    }
}
