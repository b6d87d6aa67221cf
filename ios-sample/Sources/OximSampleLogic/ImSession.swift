import Foundation
import OximSDK

/// Where the app's Oxim server is, and where this device keeps the SDK's local database.
public struct ServerSettings: Equatable, Sendable {
    /// The server's WebSocket address, e.g. "wss://im.example.com" ("ws://127.0.0.1:8080" from the simulator).
    public var serverURL: String
    /// The app's SDKAppID (the server prints it at start).
    public var sdkAppID: Int64
    /// App-private storage for the SDK's SQLite files (iOS: Application Support).
    public var dataDir: String
    /// Device class for "one login per platform"; empty = this OS. Tests use it to be two phones.
    public var platform: String

    public init(serverURL: String, sdkAppID: Int64, dataDir: String, platform: String = "") {
        self.serverURL = serverURL
        self.sdkAppID = sdkAppID
        self.dataDir = dataDir
        self.platform = platform
    }
}

/// A failed SDK call as the screens keep it: V2TIM's error code (compare it with the SDK's
/// `ERR_*` constants, e.g. `ERR_SVR_ACCOUNT_USERSIG_EXPIRED`) and what went wrong.
///
/// The async forms throw `V2TIMError.Failure(code:desc:)` and the `fail:` closures get
/// `(code, desc)`; this is both as one value.
public struct ImError: Error, Equatable, Sendable {
    public let code: Int32
    public let desc: String

    public init(code: Int32, desc: String) {
        self.code = code
        self.desc = desc
    }

    /// What an SDK call threw.
    public init(_ error: Error) {
        if let error = error as? ImError {
            self = error
        } else if case let V2TIMError.Failure(code, desc) = error {
            self.init(code: code, desc: desc)
        } else {
            self.init(code: ERR_SDK_INTERNAL_ERROR, desc: String(describing: error))
        }
    }
}

/// The login screen's state.
public enum LoginState: Equatable, Sendable {
    case loggedOut
    case loggingIn(userID: String)
    case loggedIn(userID: String)
    case failed(userID: String, error: ImError)
    /// The same user logged in on another device of this platform: V2TIM allows one.
    case kickedOffline(userID: String)
    /// The UserSig ran out while logged in: fetch a new one from your backend and log in again.
    case userSigExpired(userID: String)
}

/// The connection to the server; the SDK reconnects (and logs in again) by itself.
public enum ConnectionState: Sendable {
    case connecting, connected, failed
}

/// One user's connection to Oxim: V2TIM's `initSDK`, `login`, `logout` and the SDK listener.
///
/// How this sample calls the SDK: every call that talks to the server comes as an `async throws`
/// function and in V2TIM's form with `succ:` / `fail:` closures. The models use the async forms
/// (their logic is sequential: send, then show the sent message; read a page, then merge it),
/// and the closure form where nothing waits for the outcome (calls made from inside a listener)
/// and for `invite`, whose closure form returns the inviteID at once. Listeners run on the SDK's
/// event thread, closures on `V2TIMCallbackQueue.queue` (the main queue): the models keep each
/// screen's state in a `LiveState`, which any thread may set.
///
/// Creating an ImSession is `initSDK`: an app makes one at start (on the process-wide
/// `V2TIMManager.getInstance()`, as V2TIM apps do) and keeps it. Tests make one per user, each on
/// its own `V2TIMManager()`, to put several users in one process.
public final class ImSession: @unchecked Sendable {
    public let settings: ServerSettings
    public let sdk: V2TIMManager
    public let login = LiveState<LoginState>(.loggedOut)
    public let connection = LiveState<ConnectionState>(.connecting)
    private let listener: ConnectionListener

    public init(settings: ServerSettings, sdk: V2TIMManager = V2TIMManager.getInstance()) throws {
        self.settings = settings
        self.sdk = sdk
        listener = ConnectionListener(login: login, connection: connection)
        let config = V2TIMSDKConfig(serverURL: settings.serverURL, dataDir: settings.dataDir,
                                    logLevel: .v2timLogWarn, platform: settings.platform)
        // Connects at once and keeps reconnecting; the listener hears how it goes.
        _ = try sdk.initSDK(sdkAppID: settings.sdkAppID, config: config, listener: listener)
    }

    /// The logged-in user ("" before login).
    public var userID: String { sdk.getLoginUser() }

    /// Logs in with a UserSig from your backend (TLSSigAPIv2, as Tencent's; `DevUserSig` during
    /// development). Offline messages and the conversation list sync right after.
    @discardableResult
    public func login(userID: String, userSig: String) async -> LoginState {
        listener.user = userID
        login.set(.loggingIn(userID: userID))
        do {
            try await sdk.login(userID: userID, userSig: userSig)
            login.set(.loggedIn(userID: userID))
        } catch {
            login.set(.failed(userID: userID, error: ImError(error)))
        }
        return login.value
    }

    /// Logs out; messages still being sent go out at this user's next login.
    public func logout() async {
        try? await sdk.logout()
        login.set(.loggedOut)
    }

    /// `unInitSDK`: closes the connection. The session cannot be used afterwards.
    public func close() {
        sdk.unInitSDK()
    }
}

/// The SDK listener (called on an SDK thread).
private final class ConnectionListener: V2TIMSDKListener, @unchecked Sendable {
    let login: LiveState<LoginState>
    let connection: LiveState<ConnectionState>
    // Who logged in last: the SDK forgets the user when it is kicked offline.
    var user = ""

    init(login: LiveState<LoginState>, connection: LiveState<ConnectionState>) {
        self.login = login
        self.connection = connection
    }

    func onConnecting() { connection.set(.connecting) }
    func onConnectSuccess() { connection.set(.connected) }
    func onConnectFailed(code: Int32, error: String) { connection.set(.failed) }
    func onKickedOffline() { login.set(.kickedOffline(userID: user)) }
    func onUserSigExpired() { login.set(.userSigExpired(userID: user)) }
}
