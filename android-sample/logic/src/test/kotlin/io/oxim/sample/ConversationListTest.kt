package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The conversation list: unread counts per conversation and in total, live and after login. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConversationListTest {
    private val server = TestServer.start()

    @AfterAll fun stop() = server.close()

    private fun rows(state: ConversationListState) = state.conversations.map { it.conversationID to it.unreadCount }

    @Test
    fun `messages arriving while the list is shown update their rows and the total`() = runBlocking {
        val reader = server.login("cl-reader")
        val list = ConversationListModel(reader, server.scope)
        val empty = list.state.await("loaded") { it.loaded }
        assertEquals(emptyList<Pair<String, Int>>(), rows(empty))
        assertEquals(0L, empty.totalUnread)
        assertNull(empty.error)

        val alice = server.login("cl-alice")
        val bob = server.login("cl-bob")
        ChatModel(alice, "cl-reader").sendText("one from alice").getOrThrow()
        ChatModel(bob, "cl-reader").apply {
            sendText("one from bob").getOrThrow()
            sendText("two from bob").getOrThrow()
        }

        // The list and the total are two Flows, each changing on its own: wait for both.
        val shown = list.state.await("3 unread") { s -> s.totalUnread == 3L && s.conversations.map { it.unreadCount } == listOf(2, 1) }
        // The most recent conversation first, each with its own count and last message.
        assertEquals(listOf("c2c_cl-bob" to 2, "c2c_cl-alice" to 1), rows(shown))
        assertEquals("two from bob", reader.preview(shown.conversations[0].lastMessage))

        // Opening bob's chat reads it: his row drops to 0, the total to alice's 1.
        val chat = ChatModel(reader, "cl-bob")
        chat.open().getOrThrow()
        val afterRead = list.state.await("bob's chat read") { s -> s.totalUnread == 1L && s.conversations.map { it.unreadCount } == listOf(0, 1) }
        assertEquals(listOf("c2c_cl-bob" to 0, "c2c_cl-alice" to 1), rows(afterRead))

        // Pinning moves alice's conversation to the top.
        list.pin("c2c_cl-alice", true).getOrThrow()
        val pinned = list.state.await("alice pinned") { it.conversations.firstOrNull()?.isPinned == true }
        assertEquals(listOf("c2c_cl-alice", "c2c_cl-bob"), pinned.conversations.map { it.conversationID })

        // A list opened now reads the same rows the first one followed.
        val fresh = ConversationListModel(reader, server.scope)
        val read = fresh.state.await("loaded") { it.loaded }
        assertEquals(rows(list.state.value), rows(read))
        assertEquals(1L, read.totalUnread)
        listOf(list, fresh, chat).forEach { it.close() }
    }

    @Test
    fun `a new device shows the list with the unread counts of messages sent while it was away`() = runBlocking {
        server.login("away-bob", "away-bob-old-phone").close() // bob exists, then is away
        val alice = server.login("away-alice")
        val chat = ChatModel(alice, "away-bob")
        repeat(3) { chat.sendText("missed $it").getOrThrow() }
        chat.close()

        val bob = server.login("away-bob", "away-bob-new-phone")
        val list = ConversationListModel(bob, server.scope)
        // The sync may tell the total before the conversation: wait for both.
        val shown = list.state.await("the synced list") { it.totalUnread == 3L && it.conversations.size == 1 }
        val row = shown.conversations.single()
        assertEquals("c2c_away-alice", row.conversationID)
        assertEquals(3, row.unreadCount)
        assertEquals("missed 2", bob.preview(row.lastMessage))
        list.close()
    }

    @Test
    fun `a list closed stops following, and one opened logged out shows V2TIM's error`() = runBlocking {
        val reader = server.login("closed-reader")
        val list = ConversationListModel(reader, server.scope)
        list.state.await("loaded") { it.loaded }
        list.close()
        ChatModel(server.login("closed-alice"), "closed-reader").sendText("after close").getOrThrow()
        // A list opened after the message shows it; the closed one never does.
        val other = ConversationListModel(reader, server.scope)
        other.state.await("the message") { it.totalUnread == 1L && it.conversations.size == 1 }
        assertEquals(0L, list.state.value.totalUnread)
        assertEquals(emptyList<Pair<String, Int>>(), rows(list.state.value))
        other.close()

        val nobody = server.device("closed-nobody")
        val refused = ConversationListModel(nobody, server.scope)
        val failed = refused.state.await("an error") { it.error != null }
        assertEquals(BaseConstants.ERR_SDK_NOT_LOGGED_IN, failed.error?.code)
        refused.close()
    }
}
