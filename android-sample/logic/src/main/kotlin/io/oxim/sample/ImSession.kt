// How this sample calls the SDK (Oxim's Android API is Tencent's V2TIM, package io.oxim.imsdk.v2).
//
// Every call that talks to the server comes in two forms: V2TIM's, with a callback as the last
// argument (V2TIMCallback, V2TIMValueCallback, V2TIMSendCallback), and a Kotlin `suspend` function
// without it, which returns the value or throws V2TIMException (`e.code` is V2TIM's code, named in
// BaseConstants.ERR_*). The models use the suspend forms: their logic is sequential (send, then
// show the sent message; read a page, then merge it), which reads top to bottom as coroutines and
// would nest as callbacks. They use the callback form where nothing waits for the outcome (calls
// made from inside a listener: marking a chat read as a message arrives, declining a second call
// as busy) and for `invite`, whose callback form returns the inviteID at once.
//
// Listeners (and callbacks) run on Android's main thread, as Tencent's do; on a plain JVM (these
// tests) on the SDK's event thread. The models keep each screen's state in a StateFlow, which any
// thread may set, and the Compose screens collect it.
package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMManager
import io.oxim.imsdk.v2.V2TIMSDKConfig
import io.oxim.imsdk.v2.V2TIMSDKListener
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** Where the app's Oxim server is (Tencent's SDK knows its cloud; a self-hosted one is told). */
data class ServerSettings(
    /** The server's WebSocket address, e.g. "wss://im.example.com" ("ws://10.0.2.2:8080" from the emulator). */
    val serverUrl: String,
    /** The app's SDKAppID (the server prints it at start). */
    val sdkAppID: Int,
    /** The SDK's SQLite files; empty = the SDK's default, `<Context.getFilesDir()>/oxim` on Android. */
    val dataDir: String = "",
    /** Device class for "one login per platform"; empty = this OS. Tests use it to be two phones. */
    val platform: String = "",
)

/**
 * Runs `suspend` SDK calls and turns V2TIM's error into a failed `Result`, which a screen shows
 * (`V2TIMException.code`, `.desc`) instead of crashing.
 */
inline fun <T> imCall(block: () -> T): Result<T> =
    try {
        Result.success(block())
    } catch (e: V2TIMException) {
        Result.failure(e)
    }

/** The login screen's state. */
sealed interface LoginState {
    data object LoggedOut : LoginState
    data class LoggingIn(val userID: String) : LoginState
    data class LoggedIn(val userID: String) : LoginState
    /** Refused: `error.code` says why (e.g. BaseConstants.ERR_SVR_ACCOUNT_USERSIG_EXPIRED). */
    data class Failed(val userID: String, val error: V2TIMException) : LoginState
    /** The same user logged in on another device of this platform: V2TIM allows one. */
    data class KickedOffline(val userID: String) : LoginState
    /** The UserSig ran out while logged in: fetch a new one from your backend and log in again. */
    data class UserSigExpired(val userID: String) : LoginState
}

/** The connection to the server; the SDK reconnects (and logs in again) by itself. */
enum class ConnectionState { CONNECTING, CONNECTED, FAILED }

/**
 * One user's connection to Oxim: V2TIM's `initSDK`, `login`, `logout` and the SDK listener.
 *
 * Creating an ImSession is `initSDK`: an app makes one at start on the process-wide
 * [V2TIMManager.getInstance], passing its Application context (the SDK keeps its files under
 * `getFilesDir()`), and keeps it. The models reach the managers through [sdk]
 * (`sdk.messageManager`, the instance's own; Tencent's static `V2TIMManager.getMessageManager()`
 * is the default instance's), so the tests can put several users in one process, each on its own
 * `V2TIMManager()`.
 *
 * [context] is Android's `Context` (typed `Any?` as the SDK's `initSDK` types it: this module is
 * plain Kotlin, and the tests pass null and name a data directory instead).
 */
class ImSession(
    val settings: ServerSettings,
    context: Any?,
    val sdk: V2TIMManager = V2TIMManager.getInstance(),
) : AutoCloseable {
    private val _login = MutableStateFlow<LoginState>(LoginState.LoggedOut)
    val login: StateFlow<LoginState> = _login.asStateFlow()

    // Who logged in last: the SDK forgets the user when it is kicked offline.
    @Volatile private var loggedInAs = ""

    private val _connection = MutableStateFlow(ConnectionState.CONNECTING)
    val connection: StateFlow<ConnectionState> = _connection.asStateFlow()

    private val sdkListener = object : V2TIMSDKListener() {
        override fun onConnecting() { _connection.value = ConnectionState.CONNECTING }
        override fun onConnectSuccess() { _connection.value = ConnectionState.CONNECTED }
        override fun onConnectFailed(code: Int, error: String) { _connection.value = ConnectionState.FAILED }
        override fun onKickedOffline() { _login.value = LoginState.KickedOffline(loggedInAs) }
        override fun onUserSigExpired() { _login.value = LoginState.UserSigExpired(loggedInAs) }
    }

    init {
        val config = V2TIMSDKConfig()
        config.serverUrl = settings.serverUrl
        config.dataDir = settings.dataDir
        config.platform = settings.platform
        config.logLevel = V2TIMSDKConfig.V2TIM_LOG_WARN
        // Connects at once and keeps reconnecting; the listener hears how it goes. Bad settings
        // return false, and the listener hears onConnectFailed(ERR_INVALID_PARAMETERS, why).
        sdk.initSDK(context, settings.sdkAppID, config, sdkListener)
    }

    /** The logged-in user ("" before login). */
    val userID: String get() = sdk.loginUser

    /**
     * Logs in with a UserSig from your backend (TLSSigAPIv2, as Tencent's; [DevUserSig] during
     * development). Offline messages and the conversation list sync right after.
     */
    suspend fun login(userID: String, userSig: String): LoginState {
        loggedInAs = userID
        _login.value = LoginState.LoggingIn(userID)
        _login.value = try {
            sdk.login(userID, userSig)
            LoginState.LoggedIn(userID)
        } catch (e: V2TIMException) {
            LoginState.Failed(userID, e)
        }
        return _login.value
    }

    /** Logs out; messages still being sent go out at this user's next login. */
    suspend fun logout() {
        imCall { sdk.logout() }
        _login.value = LoginState.LoggedOut
    }

    /** `unInitSDK`: closes the connection. The session cannot be used afterwards. */
    override fun close() {
        sdk.unInitSDK()
    }
}
