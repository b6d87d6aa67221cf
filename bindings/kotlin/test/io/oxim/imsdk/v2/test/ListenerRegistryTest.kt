package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test

/**
 * Listener registration by object cannot leak: registries are per SDK instance and keyed by
 * (kind, object). (One object cannot be two kinds here: V2TIM's listeners are abstract classes,
 * as in Tencent's SDK; the Python and Swift tests cover that case.)
 */
class ListenerRegistryTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }
    }

    class Texts : V2TIMSimpleMsgListener() {
        val heard = LinkedBlockingQueue<String>()
        override fun onRecvC2CTextMessage(msgID: String?, sender: V2TIMUserInfo?, text: String?) {
            heard.add(text!!)
        }
    }

    class Conversations : V2TIMConversationListener() {
        val texts = LinkedBlockingQueue<String>()
        override fun onConversationChanged(conversationList: MutableList<V2TIMConversation>?) {
            conversationList?.forEach { texts.add(it.lastMessage?.textElem?.text ?: "") }
        }
        override fun onNewConversation(conversationList: MutableList<V2TIMConversation>?) = onConversationChanged(conversationList)
    }

    private fun <T> LinkedBlockingQueue<T>.hears(wanted: T) {
        while (true) {
            val e = poll(15, TimeUnit.SECONDS) ?: fail("never heard $wanted") as Nothing
            if (e == wanted) return
        }
    }

    private fun <T> LinkedBlockingQueue<T>.neverHears(unwanted: T) {
        while (true) {
            val e = poll(1, TimeUnit.SECONDS) ?: return
            assertNotEquals(unwanted, e)
        }
    }

    @Test
    fun theSameObjectOnTwoInstancesAndRemovalFromOne(): Unit = runBlocking {
        val a = server.login("kreg-a")
        val b = server.login("kreg-b")
        val sender = server.login("kreg-sender")
        val listener = Texts()
        a.addSimpleMsgListener(listener)
        b.addSimpleMsgListener(listener)
        b.addSimpleMsgListener(listener) // twice on one instance: registered once

        sender.sendC2CTextMessage("to a", "kreg-a")
        sender.sendC2CTextMessage("to b", "kreg-b")
        assertEquals(setOf("to a", "to b"), setOf(listener.heard.poll(15, TimeUnit.SECONDS), listener.heard.poll(15, TimeUnit.SECONDS)))
        assertNull(listener.heard.poll(1, TimeUnit.SECONDS))

        a.removeSimpleMsgListener(listener)
        sender.sendC2CTextMessage("to a again", "kreg-a")
        sender.sendC2CTextMessage("to b again", "kreg-b")
        assertEquals("to b again", listener.heard.poll(15, TimeUnit.SECONDS))
        assertNull(listener.heard.poll(1, TimeUnit.SECONDS))
        for (sdk in listOf(a, b, sender)) sdk.unInitSDK()
    }

    @Test
    fun setConversationListenerReplacesAndRemovalIsPerInstance(): Unit = runBlocking {
        val user = server.login("kreg-conv")
        val other = server.login("kreg-conv-2")
        val sender = server.login("kreg-conv-sender")
        val first = Conversations()
        val second = Conversations()
        user.conversationManager.addConversationListener(first)
        other.conversationManager.addConversationListener(first)
        sender.sendC2CTextMessage("one", "kreg-conv")
        first.texts.hears("one")

        // Replaces every conversation listener of `user` (the added one too), not `other`'s.
        user.conversationManager.setConversationListener(second)
        user.conversationManager.removeConversationListener(first) // already gone: harmless
        sender.sendC2CTextMessage("two", "kreg-conv")
        second.texts.hears("two")
        first.texts.neverHears("two")
        sender.sendC2CTextMessage("three", "kreg-conv-2")
        first.texts.hears("three")

        // Forgotten when replaced, so it can be added again, and removed again.
        user.conversationManager.addConversationListener(first)
        sender.sendC2CTextMessage("four", "kreg-conv")
        first.texts.hears("four")
        user.conversationManager.removeConversationListener(first)
        sender.sendC2CTextMessage("five", "kreg-conv")
        second.texts.hears("five")
        first.texts.neverHears("five")
        for (sdk in listOf(user, other, sender)) sdk.unInitSDK()
    }

    @Test
    fun sdkListenersAddedBesideInitSdksAndNullsAreHarmless() {
        val sdk = V2TIMManager()
        val events = LinkedBlockingQueue<String>()
        val added = object : V2TIMSDKListener() {
            override fun onConnectSuccess() { events.add("added") }
        }
        sdk.addIMSDKListener(added)
        sdk.addIMSDKListener(null)
        sdk.removeSimpleMsgListener(null)
        assertTrue(sdk.initSDK(null, server.sdkAppID, server.config("kreg-sdk"), object : V2TIMSDKListener() {
            override fun onConnectSuccess() { events.add("init") }
        }))
        assertEquals(setOf("added", "init"), setOf(events.poll(15, TimeUnit.SECONDS), events.poll(15, TimeUnit.SECONDS)))
        sdk.removeIMSDKListener(added)
        sdk.unInitSDK()
        assertTrue(sdk.initSDK(null, server.sdkAppID, server.config("kreg-sdk")))
        assertNull(events.poll(2, TimeUnit.SECONDS))
        sdk.unInitSDK()
    }
}
