package io.oxim.imsdk.v2.test

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.*
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test

/**
 * Tencent's constants with Tencent's values (com.tencent.imsdk.v2 / com.tencent.imsdk.BaseConstants
 * of the Android SDK), the error codes the SDK reports equal to them, and a Java caller's nulls and
 * unknown numbers reported as V2TIM's 6017 instead of a crash.
 */
class ConstantsTest {
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
    fun tencentsValues() {
        assertEquals(1, V2TIMMessage.V2TIM_ELEM_TYPE_TEXT)
        assertEquals(10, V2TIMMessage.V2TIM_ELEM_TYPE_MERGER)
        assertEquals(2, V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC)
        assertEquals(3, V2TIMMessage.V2TIM_PRIORITY_LOW)
        assertEquals(2, V2TIMMessage.V2TIM_RECEIVE_NOT_NOTIFY_MESSAGE)
        assertEquals(1, V2TIMConversation.V2TIM_C2C)
        assertEquals(2, V2TIMConversation.V2TIM_GROUP)
        assertEquals("Work", V2TIMManager.GROUP_TYPE_WORK)
        assertEquals("AVChatRoom", V2TIMManager.GROUP_TYPE_AVCHATROOM)
        assertEquals(1, V2TIMManager.V2TIM_STATUS_LOGINED)
        assertEquals(4, V2TIMSDKConfig.V2TIM_LOG_INFO)
        assertEquals(1, V2TIMGroupMemberOperationResult.OPERATION_RESULT_SUCC)
        assertEquals(400, V2TIMGroupMemberFullInfo.V2TIM_GROUP_MEMBER_ROLE_OWNER)
        assertEquals(4, V2TIMGroupChangeInfo.V2TIM_GROUP_INFO_CHANGE_TYPE_FACE_URL)
        assertEquals(2, V2TIMImageElem.V2TIM_IMAGE_TYPE_LARGE)
        assertEquals(3, V2TIMGroupAtInfo.TIM_AT_ALL_AT_ME)
        assertEquals(5, V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_INVITE_TIMEOUT)
        assertEquals(6014, BaseConstants.ERR_SDK_NOT_LOGGED_IN)
        assertEquals(6017, BaseConstants.ERR_INVALID_PARAMETERS)
        assertEquals(10056, BaseConstants.ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT)
        assertEquals(70001, BaseConstants.ERR_SVR_ACCOUNT_USERSIG_EXPIRED)
        // A new config is Tencent's default, and the fields Tencent types as int are ints.
        assertEquals(V2TIMSDKConfig.V2TIM_LOG_INFO, V2TIMSDKConfig().logLevel)
        // A self-hosted server's CA: no extra CA by default, a setter as for every field.
        assertEquals("", V2TIMSDKConfig().trustedCaPem)
        assertEquals(9501, BaseConstants.ERR_SDK_NET_ENCODE_FAILED)
        val withCa = V2TIMSDKConfig()
        withCa.setTrustedCaPem("-----BEGIN CERTIFICATE-----")
        assertEquals("-----BEGIN CERTIFICATE-----", withCa.getTrustedCaPem())
        val msg: Int = V2TIMMessage().elemType
        assertEquals(V2TIMMessage.V2TIM_ELEM_TYPE_NONE, msg)
    }

    @Test
    fun errorsCarryTheConstantsAndJavaNullsAreInvalidParameters(): Unit = runBlocking {
        val sdk = V2TIMManager()
        assertTrue(sdk.initSDK(null, server.sdkAppID, server.config("const-a")))
        val notLoggedIn = assertThrows(V2TIMException::class.java) { runBlocking { sdk.sendC2CTextMessage("hi", "x") } }
        assertEquals(BaseConstants.ERR_SDK_NOT_LOGGED_IN, notLoggedIn.code)

        val errors = LinkedBlockingQueue<Int>()
        val record = object : V2TIMCallback {
            override fun onSuccess() { errors.add(0) }
            override fun onError(code: Int, desc: String?) { errors.add(code) }
        }
        sdk.login(null, null, record)
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS, errors.poll(15, TimeUnit.SECONDS))
        sdk.login("const-a", server.userSig("const-a"), record)
        assertEquals(0, errors.poll(15, TimeUnit.SECONDS))

        // Unknown numbers where V2TIM has named ones.
        val priority = assertThrows(V2TIMException::class.java) {
            runBlocking { sdk.sendGroupTextMessage("hi", "g", 42) }
        }
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS, priority.code)
        val sent = LinkedBlockingQueue<String>()
        val msgID = sdk.messageManager.sendMessage(null, "x", null, 0, false, null, object : V2TIMSendCallback<V2TIMMessage> {
            override fun onProgress(progress: Int) {}
            override fun onSuccess(t: V2TIMMessage?) { sent.add("ok") }
            override fun onError(code: Int, desc: String?) { sent.add("$code") }
        })
        assertEquals("", msgID)
        assertEquals("${BaseConstants.ERR_INVALID_PARAMETERS}", sent.poll(15, TimeUnit.SECONDS))

        // initSDK with bad parameters returns false and says why through the listener.
        val other = V2TIMManager()
        val reason = LinkedBlockingQueue<Int>()
        val config = V2TIMSDKConfig().apply { dataDir = server.deviceDir("const-b") } // no server URL anywhere
        assertFalse(other.initSDK(null, server.sdkAppID, config, object : V2TIMSDKListener() {
            override fun onConnectFailed(code: Int, error: String?) { reason.add(code) }
        }))
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS, reason.poll(15, TimeUnit.SECONDS))
        sdk.unInitSDK()
    }
}
