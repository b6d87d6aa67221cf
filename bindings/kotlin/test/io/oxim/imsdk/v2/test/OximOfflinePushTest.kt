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

/** Offline push (setOfflinePushConfig, doBackground, doForeground) from Kotlin, in Tencent's Android shapes. */
class OximOfflinePushTest {
    companion object {
        lateinit var server: TestServer

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
        }

        @AfterClass @JvmStatic fun stop() {
            server.stop()
        }
    }

    /** The outcome of one V2TIMCallback: 0 for success, else the error code. */
    class Outcome : V2TIMCallback {
        private val codes = LinkedBlockingQueue<Int>()
        override fun onSuccess() {
            codes.add(0)
        }
        override fun onError(code: Int, desc: String?) {
            codes.add(code)
        }
        fun code(): Int = codes.poll(15, TimeUnit.SECONDS) ?: throw AssertionError("no callback within 15 s")
    }

    private fun outcome(call: (V2TIMCallback) -> Unit): Int = Outcome().also(call).code()

    @Test
    fun theCallbackFormsRegisterReportTheAppStateAndRefuseBadInput(): Unit = runBlocking {
        val sdk = V2TIMManager()
        check(sdk.initSDK(null, server.sdkAppID, server.config("ko-alice-phone")))
        val push = sdk.offlinePushManager
        // Tencent's constructors and getters.
        val config = V2TIMOfflinePushConfig(6768L, "fcm-token")
        assertEquals(6768L, config.businessID)
        assertEquals("fcm-token", config.token)
        assertFalse(config.isTPNSToken)
        assertTrue(V2TIMOfflinePushConfig(11L, "tpns", true).isTPNSToken)

        assertEquals(BaseConstants.ERR_SDK_NOT_LOGGED_IN, outcome { push.setOfflinePushConfig(config, it) })
        sdk.login("ko-alice", server.userSig("ko-alice"))

        assertEquals(0, outcome { push.setOfflinePushConfig(config, it) })
        assertEquals(0, outcome { push.doBackground(3, it) })
        assertEquals(0, outcome { push.doForeground(it) })
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS, outcome { push.doBackground(-1, it) })
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS,
            outcome { push.setOfflinePushConfig(V2TIMOfflinePushConfig(0L, "fcm-token"), it) })
        assertEquals(BaseConstants.ERR_INVALID_PARAMETERS,
            outcome { push.setOfflinePushConfig(V2TIMOfflinePushConfig(6768L, ""), it) })
        // The suspend form, on the default-style accessor of this instance.
        sdk.offlinePushManager.setOfflinePushConfig(V2TIMOfflinePushConfig(11L, "tpns", true))
        sdk.offlinePushManager.doBackground(0)
        sdk.logout()
        val e = assertThrows(V2TIMException::class.java) { runBlocking { push.doForeground() } }
        assertEquals(BaseConstants.ERR_SDK_NOT_LOGGED_IN, (e as V2TIMException).code)
        sdk.unInitSDK()
    }
}
