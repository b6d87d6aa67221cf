package io.oxim.sample

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The conversation list: unread counts per conversation and in total, live and after login. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConversationListTest {
    private val server = TestServer.start()

    @AfterAll fun stop() = server.close()

    @Test
    fun `messages arriving while the list is shown update their rows and the total`() = runBlocking {
        val reader = server.login("cl-reader")
        val list = ConversationListModel(reader)
        list.load().getOrThrow()
        assertEquals(ConversationListState(loaded = true), list.state.value)

        val alice = server.login("cl-alice")
        val bob = server.login("cl-bob")
        ChatModel(alice, "cl-reader", server.scope).sendText("one from alice").getOrThrow()
        ChatModel(bob, "cl-reader", server.scope).apply {
            sendText("one from bob").getOrThrow()
            sendText("two from bob").getOrThrow()
        }

        // Each change is told once, the total and each row on their own: wait for all three.
        val shown = list.state.await("3 unread") { s -> s.totalUnread == 3L && s.conversations.map { it.unreadCount } == listOf(2, 1) }
        // The most recent conversation first, each with its own count and last message.
        assertEquals(listOf("c2c_cl-bob", "c2c_cl-alice"), shown.conversations.map { it.conversationID })
        assertEquals(listOf(2, 1), shown.conversations.map { it.unreadCount })
        assertEquals("two from bob", reader.preview(shown.conversations[0].lastMessage))

        // Opening bob's chat reads it: his row drops to 0, the total to alice's 1.
        val chat = ChatModel(reader, "cl-bob", server.scope)
        chat.open().getOrThrow()
        val afterRead = list.state.await("bob's chat read") { s -> s.totalUnread == 1L && s.conversations.map { it.unreadCount } == listOf(0, 1) }
        assertEquals(listOf(0, 1), afterRead.conversations.map { it.unreadCount })

        // Pinning moves alice's conversation to the top.
        list.pin("c2c_cl-alice", true).getOrThrow()
        val pinned = list.state.await("alice pinned") { it.conversations.firstOrNull()?.isPinned == true }
        assertEquals(listOf("c2c_cl-alice", "c2c_cl-bob"), pinned.conversations.map { it.conversationID })

        // A fresh load reads the same list the listener built.
        val fresh = ConversationListModel(reader)
        fresh.load().getOrThrow()
        assertEquals(list.state.value.conversations.map { it.conversationID to it.unreadCount },
            fresh.state.value.conversations.map { it.conversationID to it.unreadCount })
        assertEquals(1L, fresh.state.value.totalUnread)
        listOf(list, fresh, chat).forEach { it.close() }
    }

    @Test
    fun `a new device shows the list with the unread counts of messages sent while it was away`() = runBlocking {
        server.login("away-bob", "away-bob-old-phone").close() // bob exists, then is away
        val alice = server.login("away-alice")
        val chat = ChatModel(alice, "away-bob", server.scope)
        repeat(3) { chat.sendText("missed $it").getOrThrow() }
        chat.close()

        val bob = server.login("away-bob", "away-bob-new-phone")
        val list = ConversationListModel(bob)
        list.load().getOrThrow()
        // The sync may tell the total before the conversation: wait for both.
        val shown = list.state.await("the synced list") { it.totalUnread == 3L && it.conversations.size == 1 }
        val row = shown.conversations.single()
        assertEquals("c2c_away-alice", row.conversationID)
        assertEquals(3, row.unreadCount)
        assertEquals("missed 2", bob.preview(row.lastMessage))
        assertTrue(shown.loaded)
        list.close()
    }
}
