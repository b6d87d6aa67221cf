package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Adding a friend and the blacklist from Kotlin, in Tencent's Android shapes. */
class OximFriendshipTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }

        fun device(user: String, allowType: Int): V2TIMManager = runBlocking {
            val sdk = V2TIMManager()
            check(sdk.initSDK(null, server.sdkAppID, server.config(user, "android")))
            sdk.login(user, server.userSig(user))
            sdk.setSelfInfo(V2TIMUserFullInfo().apply { this.allowType = allowType })
            sdk
        }
    }

    /** Records V2TIMFriendshipListener callbacks as short strings. */
    class Friends : V2TIMFriendshipListener() {
        val told = LinkedBlockingQueue<String>()
        override fun onFriendApplicationListAdded(applicationList: List<V2TIMFriendApplication>) {
            applicationList.forEach { told.add("apps+:${it.userID}/${it.type}") }
        }
        override fun onFriendApplicationListDeleted(userIDList: List<String>) {
            told.add("apps-:" + userIDList.joinToString(","))
        }
        override fun onFriendListAdded(users: List<V2TIMFriendInfo>) {
            told.add("added:" + users.joinToString(",") { it.userID })
        }
        override fun onFriendListDeleted(userList: List<String>) {
            told.add("deleted:" + userList.joinToString(","))
        }
        override fun onBlackListAdd(infoList: List<V2TIMFriendInfo>) {
            told.add("black+:" + infoList.joinToString(",") { it.userID })
        }
        fun next(): String = told.poll(15, TimeUnit.SECONDS) ?: throw AssertionError("no friendship callback within 15 s")
    }

    @Test
    fun addingAFriendWithConfirmationTellsBothSides(): Unit = runBlocking {
        val a = device("kf-fa", V2TIMUserFullInfo.V2TIM_FRIEND_NEED_CONFIRM)
        val b = device("kf-fb", V2TIMUserFullInfo.V2TIM_FRIEND_NEED_CONFIRM)
        val onA = Friends().also { a.friendshipManager.addFriendListener(it) }
        val onB = Friends().also { b.friendshipManager.setFriendListener(it) }

        // Tencent's constructor and setters; 30539 comes inside the success callback.
        val app = V2TIMFriendAddApplication("kf-fb")
        app.setAddWording("hello")
        app.setAddType(V2TIMFriendInfo.V2TIM_FRIEND_TYPE_BOTH)
        val results = LinkedBlockingQueue<V2TIMFriendOperationResult>()
        a.friendshipManager.addFriend(app, object : V2TIMValueCallback<V2TIMFriendOperationResult> {
            override fun onSuccess(t: V2TIMFriendOperationResult) {
                results.add(t)
            }
            override fun onError(code: Int, desc: String?) {
                fail("addFriend: $code $desc")
            }
        })
        assertEquals(30539, results.poll(15, TimeUnit.SECONDS)!!.resultCode)
        assertEquals("apps+:kf-fb/${V2TIMFriendApplication.V2TIM_FRIEND_APPLICATION_SEND_OUT}", onA.next())
        assertEquals("apps+:kf-fa/${V2TIMFriendApplication.V2TIM_FRIEND_APPLICATION_COME_IN}", onB.next())

        val pending = b.friendshipManager.getFriendApplicationList()
        assertEquals(1, pending.unreadCount)
        assertEquals("hello", pending.friendApplicationList[0].addWording)
        b.friendshipManager.acceptFriendApplication(pending.friendApplicationList[0], V2TIMFriendApplication.V2TIM_FRIEND_ACCEPT_AGREE_AND_ADD)
        assertEquals(setOf("added:kf-fa", "apps-:kf-fa"), setOf(onB.next(), onB.next()))
        assertEquals("added:kf-fb", onA.next())
        val check = a.friendshipManager.checkFriend(listOf("kf-fb"), V2TIMFriendInfo.V2TIM_FRIEND_TYPE_BOTH)
        assertEquals(V2TIMFriendCheckResult.V2TIM_FRIEND_RELATION_TYPE_BOTH_WAY, check[0].resultType)
        assertEquals(listOf("kf-fb"), a.friendshipManager.getFriendList().map { it.userID })
        listOf(a, b).forEach { it.unInitSDK() }
    }

    @Test
    fun blockingAFriendEndsTheFriendshipAndSilencesThem(): Unit = runBlocking {
        val a = device("kb-a", V2TIMUserFullInfo.V2TIM_FRIEND_ALLOW_ANY)
        val b = device("kb-b", V2TIMUserFullInfo.V2TIM_FRIEND_ALLOW_ANY)
        val onA = Friends().also { a.friendshipManager.addFriendListener(it) }
        val onB = Friends().also { b.friendshipManager.addFriendListener(it) }
        assertEquals(0, a.friendshipManager.addFriend(V2TIMFriendAddApplication("kb-b")).resultCode)
        assertEquals("added:kb-b", onA.next())
        assertEquals("added:kb-a", onB.next())

        assertEquals(0, a.friendshipManager.addToBlackList(listOf("kb-b"))[0].resultCode)
        assertEquals("black+:kb-b", onA.next())
        assertEquals("deleted:kb-b", onA.next())
        assertEquals("deleted:kb-a", onB.next())
        assertEquals(listOf("kb-b"), a.friendshipManager.getBlackList().map { it.userID })
        // Neither may ask again; the blocked user's message looks sent (no seq) and never arrives.
        assertEquals(30525, b.friendshipManager.addFriend(V2TIMFriendAddApplication("kb-a")).resultCode)
        val sent = b.sendC2CTextMessage("hi", "kb-a")
        assertEquals(0L, sent.seq)
        listOf(a, b).forEach { it.unInitSDK() }
    }
}
