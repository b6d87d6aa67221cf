package io.oxim.imsdk.v2.test

import android.os.Looper
import io.oxim.imsdk.v2.*
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test

/**
 * Where callbacks and listener events run. The tests' classpath has a fake `android.os.Looper`
 * (fakeandroid/), so the SDK takes its Android path: everything is posted to that "main thread".
 * Posting is proved by blocking the main thread: the SDK has handed the event over (the post
 * count grows) but the listener runs only once the main thread is free. Calls back into the SDK
 * from callbacks, on the main thread and directly on the SDK's event thread, complete: nothing
 * is called while the SDK holds a lock (a held lock would deadlock them; the test would time out).
 */
class MainThreadDeliveryTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }
    }

    private val main: Looper get() = Looper.getMainLooper()

    @Test
    fun callbacksAndListenerEventsArePostedToTheMainThread() {
        val alice = V2TIMManager()
        assertNotNull("Android's main thread is found through android.os.Looper", alice.getCallbackExecutor())
        assertTrue(alice.initSDK(null, server.sdkAppID, server.config("main-alice")))
        val threads = LinkedBlockingQueue<Thread>()
        val loggedIn = CountDownLatch(1)
        alice.login("main-alice", server.userSig("main-alice"), object : V2TIMCallback {
            override fun onSuccess() {
                threads.add(Thread.currentThread())
                loggedIn.countDown()
            }
            override fun onError(code: Int, desc: String?) = fail("login: $code $desc")
        })
        assertTrue(loggedIn.await(15, TimeUnit.SECONDS))
        assertSame(main.thread, threads.take())

        val heard = LinkedBlockingQueue<Pair<String, Thread>>()
        alice.addSimpleMsgListener(object : V2TIMSimpleMsgListener() {
            override fun onRecvC2CTextMessage(msgID: String?, sender: V2TIMUserInfo?, text: String?) {
                heard.add(text!! to Thread.currentThread())
            }
        })
        val bob = server.login("main-bob")

        // Block the main thread; the SDK posts the event and does not wait for it.
        val release = CountDownLatch(1)
        val blocked = CountDownLatch(1)
        android.os.Handler(main).post {
            blocked.countDown()
            release.await(30, TimeUnit.SECONDS)
        }
        assertTrue(blocked.await(15, TimeUnit.SECONDS))
        val postedBefore = main.postedCount()
        runBlocking { bob.sendC2CTextMessage("while main is busy", "main-alice") }
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15)
        while (main.postedCount() == postedBefore) {
            assertTrue("the SDK posted the event", System.nanoTime() < deadline)
            Thread.sleep(5)
        }
        assertNull("the listener waits for the main thread", heard.poll(200, TimeUnit.MILLISECONDS))
        release.countDown()
        val (text, thread) = heard.poll(15, TimeUnit.SECONDS)!!
        assertEquals("while main is busy", text)
        assertSame(main.thread, thread)

        alice.unInitSDK()
        bob.unInitSDK()
    }

    @Test
    fun callingBackIntoTheSdkFromCallbacksCompletes() {
        val carol = server.login("main-carol")
        val dave = server.login("main-dave")
        // On the main thread: synchronous calls, suspend calls, registering and removing a
        // listener (the SDK's listener list is written while the event that called us is
        // being delivered), sending.
        val results = LinkedBlockingQueue<String>()
        carol.addSimpleMsgListener(object : V2TIMSimpleMsgListener() {
            override fun onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {
                if (text != "call back") return
                val extra = object : V2TIMSimpleMsgListener() {}
                carol.addSimpleMsgListener(extra)
                carol.removeSimpleMsgListener(extra)
                val unread = runBlocking { carol.conversationManager.getTotalUnreadMessageCount() }
                val reply = runBlocking { carol.sendC2CTextMessage("answer", "main-dave") }
                results.add("${Thread.currentThread() === main.thread} ${carol.getLoginStatus()} $unread ${reply.status}")
            }
        })
        runBlocking { dave.sendC2CTextMessage("call back", "main-carol") }
        assertEquals("true ${V2TIMManager.V2TIM_STATUS_LOGINED} 1 ${V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC}", results.poll(15, TimeUnit.SECONDS))

        // Directly on the SDK's event thread (no executor): the same calls complete there too.
        dave.setCallbackExecutor(null)
        dave.addSimpleMsgListener(object : V2TIMSimpleMsgListener() {
            override fun onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {
                if (text != "direct") return
                val extra = object : V2TIMSimpleMsgListener() {}
                dave.addSimpleMsgListener(extra)
                dave.removeSimpleMsgListener(extra)
                val history = runBlocking { dave.messageManager.getC2CHistoryMessageList("main-carol", 10, null) }
                results.add("${Thread.currentThread() !== main.thread} ${history.size} $text")
            }
        })
        runBlocking { carol.sendC2CTextMessage("direct", "main-dave") }
        assertEquals("true 3 direct", results.poll(15, TimeUnit.SECONDS))
        carol.unInitSDK()
        dave.unInitSDK()
    }

    @Test
    fun anExecutorOfTheAppsChoiceRunsCallbacksAndEvents() {
        val executor = Executors.newSingleThreadExecutor { r -> Thread(r, "app-executor") }
        val erin = V2TIMManager()
        erin.setCallbackExecutor(executor)
        assertTrue(erin.initSDK(null, server.sdkAppID, server.config("main-erin")))
        val threads = LinkedBlockingQueue<String>()
        erin.login("main-erin", server.userSig("main-erin"), object : V2TIMCallback {
            override fun onSuccess() { threads.add("login " + Thread.currentThread().name) }
            override fun onError(code: Int, desc: String?) { threads.add("login failed $code") }
        })
        assertEquals("login app-executor", threads.poll(15, TimeUnit.SECONDS))
        // A failure is delivered there too, with V2TIM's code.
        erin.messageManager.revokeMessage(null, object : V2TIMCallback {
            override fun onSuccess() { threads.add("revoked?") }
            override fun onError(code: Int, desc: String?) { threads.add("$code " + Thread.currentThread().name) }
        })
        assertEquals("${io.oxim.imsdk.BaseConstants.ERR_INVALID_PARAMETERS} app-executor", threads.poll(15, TimeUnit.SECONDS))
        erin.unInitSDK()
        executor.shutdown()
    }
}
