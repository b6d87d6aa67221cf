package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test

/** Kotlin Flows over the listeners: the conversation list, the unread total, one conversation's new messages. */
class FlowsTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }
    }

    @Test
    fun conversationListUnreadTotalAndNewMessagesAsFlows(): Unit = runBlocking {
        val reader = server.login("flow-reader")
        val a = server.login("flow-a")
        val b = server.login("flow-b")
        a.sendC2CTextMessage("before", "flow-reader")

        withTimeout(15_000) {
            // The reader has it (a send returns once the server stored it, not once delivered).
            while (reader.conversationManager.getTotalUnreadMessageCount() == 0L) delay(10)

            val lists = Channel<List<V2TIMConversation>>(Channel.UNLIMITED)
            val totals = Channel<Long>(Channel.UNLIMITED)
            val listJob = launch { reader.conversationManager.conversationListFlow().collect { lists.send(it) } }
            val totalJob = launch { reader.conversationManager.totalUnreadMessageCountFlow().collect { totals.send(it) } }
            val fromB = async { reader.messageManager.newMessagesFlow("c2c_flow-b").take(2).toList() }

            // Each flow starts with the current state (its listener is registered by then: the
            // message flow's too, started before the unread flow answered).
            assertEquals(listOf("c2c_flow-a" to 1), lists.receive().map { it.conversationID to it.unreadCount })
            assertEquals(1L, totals.receive())

            a.sendC2CTextMessage("from a", "flow-reader")
            b.sendC2CTextMessage("from b 1", "flow-reader")
            b.sendC2CTextMessage("from b 2", "flow-reader")

            // Only b's messages, in order.
            assertEquals(listOf("from b 1", "from b 2"), fromB.await().map { it.textElem.text })
            // The total after each change, without repeats, up to the 4 unread messages.
            val seen = mutableListOf(1L)
            while (seen.last() != 4L) seen.add(totals.receive())
            assertTrue("the total only grows here: $seen", seen.zipWithNext().all { (x, y) -> y > x })
            // The list after each change: newest activity first, each with its unread count.
            var list = lists.receive()
            while (list.map { it.conversationID to it.unreadCount } != listOf("c2c_flow-b" to 2, "c2c_flow-a" to 2)) {
                list = lists.receive()
            }
            assertEquals("from b 2", list.first().lastMessage.textElem.text)
            listJob.cancel()
            totalJob.cancel()
        }
        for (sdk in listOf(reader, a, b)) sdk.unInitSDK()
    }
}
