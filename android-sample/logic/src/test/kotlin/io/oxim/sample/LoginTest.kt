package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.V2TIMManager
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** Login: UserSigs signed on the device, refusals with V2TIM's codes, one login per platform. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginTest {
    private val server = TestServer.start()

    @AfterAll fun stop() = server.close()

    @Test
    fun `a UserSig signed with the development key logs in and the connection is up`() = runBlocking {
        val alice = server.device("alice-phone")
        alice.connection.await("connected") { it == ConnectionState.CONNECTED }
        assertEquals(LoginState.LoggedIn("alice"), alice.login("alice", DevUserSig(server.sdkAppID).sign("alice")))
        assertEquals("alice", alice.userID)
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGINED, alice.sdk.loginStatus)

        alice.logout()
        assertEquals(LoginState.LoggedOut, alice.login.value)
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, alice.sdk.loginStatus)
    }

    @Test
    fun `a UserSig signed with another key, or expired, is refused with V2TIM's code`() = runBlocking {
        val mallory = server.device("mallory-phone")
        val forged = mallory.login("mallory", DevUserSig(server.sdkAppID, secretKey = "not the server's key").sign("mallory"))
        assertEquals(BaseConstants.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_PUBLICKEY, (forged as LoginState.Failed).error.code)

        val longAgo = System.currentTimeMillis() / 1000 - 3600
        val expired = mallory.login("mallory", DevUserSig(server.sdkAppID).sign("mallory", expireSeconds = 60, now = longAgo))
        assertEquals(BaseConstants.ERR_SVR_ACCOUNT_USERSIG_EXPIRED, (expired as LoginState.Failed).error.code)

        // Signed for someone else.
        val stolen = mallory.login("mallory", DevUserSig(server.sdkAppID).sign("alice"))
        assertEquals(BaseConstants.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID, (stolen as LoginState.Failed).error.code)
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, mallory.sdk.loginStatus)
    }

    @Test
    fun `logging in on a second phone kicks the first, another platform stays`() = runBlocking {
        val phone = server.login("dave", "dave-phone", platform = "android")
        val pad = server.login("dave", "dave-pad", platform = "ipad")
        val newPhone = server.login("dave", "dave-new-phone", platform = "android")

        phone.login.await("kicked offline") { it == LoginState.KickedOffline("dave") }
        assertEquals(LoginState.LoggedIn("dave"), newPhone.login.value)
        assertEquals(LoginState.LoggedIn("dave"), pad.login.value)
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGINED, pad.sdk.loginStatus)
    }

    @Test
    fun `settings the SDK refuses fail at initSDK, and a login then says the SDK is not initialised`() = runBlocking {
        val settings = server.settings("bad-settings-phone").copy(serverUrl = "not a server address")
        val session = ImSession(settings, context = null, sdk = V2TIMManager())
        session.connection.await("refused") { it == ConnectionState.FAILED }
        val state = session.login("erin", DevUserSig(server.sdkAppID).sign("erin"))
        assertEquals(BaseConstants.ERR_SDK_NOT_INITIALIZED, (state as LoginState.Failed).error.code)
        session.close()
    }
}
