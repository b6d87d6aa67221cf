package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMLogLevel
import io.oxim.imsdk.v2.V2TIMManager
import io.oxim.imsdk.v2.V2TIMSDKConfig
import io.oxim.imsdk.v2.V2TIMSDKListener
import io.oxim.imsdk.v2.getInstance
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** Where the app's Oxim server is, and where this device keeps the SDK's local database. */
data class ServerSettings(
    /** The server's WebSocket address, e.g. "wss://im.example.com" ("ws://10.0.2.2:8080" from the emulator). */
    val serverURL: String,
    /** The app's SDKAppID (the server prints it at start). */
    val sdkAppID: Long,
    /** App-private storage for the SDK's SQLite files (Android: context.filesDir). */
    val dataDir: String,
    /** Device class for "one login per platform"; empty = this OS. Tests use it to be two phones. */
    val platform: String = "",
)

/** A failed SDK call: V2TIM's error code (docs/compat.md lists them) and what went wrong. */
data class ImError(val code: Int, val desc: String) {
    companion object {
        /** V2TIM's error codes the sample reacts to. */
        const val USERSIG_EXPIRED = 70001
        const val USERSIG_VERIFY_FAILED = 70009
        const val USERSIG_IDENTIFIER_MISMATCH = 70013
        const val MESSAGE_TOO_LONG = 8001
        const val FILE_NOT_FOUND = 7004
        const val SIGNALING_INVALID_INVITE_ID = 8010
        const val GROUP_ALREADY_MEMBER = 10013
        const val GROUP_ATTRIBUTE_WRITE_CONFLICT = 10056
    }
}

/** Every SDK call throws [V2TIMException.Failure] with V2TIM's code; screens keep it as data. */
fun V2TIMException.Failure.toImError() = ImError(code, desc)

/** Runs an SDK call and turns its failure into an [ImError] (a `Result` for the screen). */
inline fun <T> imCall(block: () -> T): Result<T> = try {
    Result.success(block())
} catch (e: V2TIMException.Failure) {
    Result.failure(ImException(e.toImError()))
}

/** An [ImError] carried by a `Result`. */
class ImException(val error: ImError) : Exception("${error.code}: ${error.desc}")

/** The login screen's state. */
sealed interface LoginState {
    data object LoggedOut : LoginState
    data class LoggingIn(val userID: String) : LoginState
    data class LoggedIn(val userID: String) : LoginState
    data class Failed(val userID: String, val error: ImError) : LoginState
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
 * Creating an ImSession is `initSDK`: an app makes one at start (on the process-wide
 * [V2TIMManager.getInstance], as V2TIM apps do) and keeps it. Tests make one per user, each on its
 * own `V2TIMManager()`, to put several users in one process.
 */
class ImSession(
    val settings: ServerSettings,
    val sdk: V2TIMManager = V2TIMManager.getInstance(),
) : AutoCloseable {
    private val _login = MutableStateFlow<LoginState>(LoginState.LoggedOut)
    val login: StateFlow<LoginState> = _login.asStateFlow()

    // Who logged in last: the SDK forgets the user when it is kicked offline.
    @Volatile private var loggedInAs = ""

    private val _connection = MutableStateFlow(ConnectionState.CONNECTING)
    val connection: StateFlow<ConnectionState> = _connection.asStateFlow()

    // Called on an SDK thread: StateFlow is safe to set from any thread.
    private val sdkListener = object : V2TIMSDKListener() {
        override fun onConnecting() { _connection.value = ConnectionState.CONNECTING }
        override fun onConnectSuccess() { _connection.value = ConnectionState.CONNECTED }
        override fun onConnectFailed(code: Int, error: String) { _connection.value = ConnectionState.FAILED }
        override fun onKickedOffline() { _login.value = LoginState.KickedOffline(loggedInAs) }
        override fun onUserSigExpired() { _login.value = LoginState.UserSigExpired(loggedInAs) }
    }

    init {
        val config = V2TIMSDKConfig(
            serverURL = settings.serverURL,
            dataDir = settings.dataDir,
            logLevel = V2TIMLogLevel.V2TIM_LOG_WARN,
            platform = settings.platform,
        )
        // Connects at once and keeps reconnecting; the listener hears how it goes.
        sdk.initSDK(settings.sdkAppID, config, sdkListener)
    }

    /** The logged-in user ("" before login). */
    val userID: String get() = sdk.getLoginUser()

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
        } catch (e: V2TIMException.Failure) {
            LoginState.Failed(userID, e.toImError())
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
