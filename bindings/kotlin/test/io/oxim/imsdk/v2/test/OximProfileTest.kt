package io.oxim.imsdk.v2.test

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Profiles (getUsersInfo, setSelfInfo, onSelfInfoUpdated) from Kotlin, in Tencent's Android shapes. */
class OximProfileTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }

        /** [user] logged in on a new device of its own ([platform] differs per device of a user). */
        fun device(user: String, device: String, platform: String = "android"): V2TIMManager = runBlocking {
            val sdk = V2TIMManager()
            check(sdk.initSDK(null, server.sdkAppID, server.config(device, platform)))
            sdk.login(user, server.userSig(user))
            sdk
        }
    }

    /** Records onSelfInfoUpdated. */
    class SelfInfo : V2TIMSDKListener() {
        val told = LinkedBlockingQueue<V2TIMUserFullInfo>()
        override fun onSelfInfoUpdated(info: V2TIMUserFullInfo) {
            told.add(info)
        }
        fun next(): V2TIMUserFullInfo =
            told.poll(15, TimeUnit.SECONDS) ?: throw AssertionError("no onSelfInfoUpdated within 15 s")
    }

    @Test
    fun setSelfInfoReachesEveryDeviceAndGetUsersInfoReadsIt(): Unit = runBlocking {
        val phone = device("kf-alice", "kf-alice-phone", "android")
        val laptop = device("kf-alice", "kf-alice-laptop", "linux")
        val bob = device("kf-bob", "kf-bob")
        val onPhone = SelfInfo().also { phone.addIMSDKListener(it) }
        val onLaptop = SelfInfo().also { laptop.addIMSDKListener(it) }

        // Tencent's setters, including setNickname's spelling; only the fields set change.
        val info = V2TIMUserFullInfo()
        info.setNickname("Alice")
        info.faceUrl = "https://example.com/alice.png"
        info.gender = V2TIMUserFullInfo.V2TIM_GENDER_FEMALE
        info.birthday = 20000101L
        info.allowType = V2TIMUserFullInfo.V2TIM_FRIEND_ALLOW_ANY
        info.customInfo = hashMapOf("Blood" to "A".toByteArray())
        phone.setSelfInfo(info)

        for (told in listOf(onPhone.next(), onLaptop.next())) {
            assertEquals("kf-alice", told.userID)
            assertEquals("Alice", told.nickName)
            assertEquals(V2TIMUserFullInfo.V2TIM_FRIEND_ALLOW_ANY, told.allowType)
            assertEquals(20000101L, told.birthday)
            assertEquals("A", String(told.customInfo["Blood"]!!))
        }

        // V2TIM's callback form of getUsersInfo, from another user.
        val got = LinkedBlockingQueue<List<V2TIMUserFullInfo>>()
        bob.getUsersInfo(listOf("kf-alice", "kf-nobody"), object : V2TIMValueCallback<List<V2TIMUserFullInfo>> {
            override fun onSuccess(t: List<V2TIMUserFullInfo>) {
                got.add(t)
            }
            override fun onError(code: Int, desc: String?) {
                fail("getUsersInfo: $code $desc")
            }
        })
        val read = got.poll(15, TimeUnit.SECONDS)!!
        assertEquals(listOf("kf-alice"), read.map { it.userID })
        assertEquals(V2TIMUserFullInfo.V2TIM_GENDER_FEMALE, read[0].gender)
        assertEquals("https://example.com/alice.png", read[0].faceUrl)

        // A bad custom key is refused by the SDK with V2TIM's code, and changes nothing.
        val bad = V2TIMUserFullInfo().apply { customInfo = hashMapOf("key1" to "v".toByteArray()) }
        val e = assertThrows(V2TIMException::class.java) { runBlocking { phone.setSelfInfo(bad) } }
        assertEquals(BaseConstants.ERR_SDK_FRIENDSHIP_INVALID_PROFILE_KEY, (e as V2TIMException).code)
        assertEquals("Alice", bob.getUsersInfo(listOf("kf-alice"))[0].nickName)
        listOf(phone, laptop, bob).forEach { it.unInitSDK() }
    }
}
