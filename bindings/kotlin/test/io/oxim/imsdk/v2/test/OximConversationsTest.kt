package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Conversations from Kotlin: the list, the unread total and the listener. */
class OximConversationsTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }

        fun login(user: String, listener: V2TIMConversationListener? = null): V2TIMManager =
            server.login(user, "c-$user") { sdk -> listener?.let { sdk.conversationManager.addConversationListener(it) } }
    }

    class Events : V2TIMConversationListener() {
        val totals = LinkedBlockingQueue<Long>()
        val changed = LinkedBlockingQueue<List<V2TIMConversation>>()
        val finished = LinkedBlockingQueue<Boolean>()
        override fun onSyncServerFinish() { finished.add(true) }
        override fun onConversationChanged(conversationList: List<V2TIMConversation>) { changed.add(conversationList) }
        override fun onTotalUnreadMessageCountChanged(totalUnreadCount: Long) { totals.add(totalUnreadCount) }

        fun waitTotal(n: Long) {
            while (true) {
                val t = totals.poll(15, TimeUnit.SECONDS) ?: fail("no total $n").let { 0L }
                if (t == n) return
            }
        }
    }

    @Test
    fun listUnreadTotalAndListener(): Unit = runBlocking {
        val events = Events()
        val reader = login("kc-reader", events)
        assertEquals(true, events.finished.poll(15, TimeUnit.SECONDS))
        val a = login("kc-a")
        val b = login("kc-b")
        a.sendC2CTextMessage("one", "kc-reader")
        b.sendC2CTextMessage("two", "kc-reader")
        b.sendC2CTextMessage("three", "kc-reader")
        events.waitTotal(3)

        val cm = reader.conversationManager
        assertEquals(3L, cm.getTotalUnreadMessageCount())
        val page = cm.getConversationList(0, 100)
        assertTrue(page.isFinished)
        assertEquals(listOf("c2c_kc-b", "c2c_kc-a"), page.conversationList.map { it.conversationID })
        assertEquals(listOf(2, 1), page.conversationList.map { it.unreadCount })
        assertEquals("three", page.conversationList[0].lastMessage?.textElem?.text)

        reader.messageManager.markC2CMessageAsRead("kc-b")
        events.waitTotal(1)
        cm.setConversationDraft("c2c_kc-a", "later")
        assertEquals("later", cm.getConversation("c2c_kc-a").draftText)

        val e = assertThrows(V2TIMException::class.java) { runBlocking { cm.getConversation("c2c_nobody") } }
        assertEquals(6004, (e as V2TIMException).code)
        cm.removeConversationListener(events)
        for (sdk in listOf(reader, a, b)) sdk.unInitSDK()
    }
}
