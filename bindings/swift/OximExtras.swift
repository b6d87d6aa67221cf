// Hand-written part of the Swift bindings (copied next to the generated code by
// scripts/bindings.sh). OximGenerated.swift, generated from the UDL, gives the listeners their
// V2TIM names and empty default callbacks and every async method its succ/fail closure form;
// this file adds what has V2TIM's own shape:
//  - add/remove listeners by object, keyed by (SDK instance, kind, object): UniFFI hands Rust a
//    new handle each time an object crosses the boundary, so the identity is kept here;
//  - the closure forms that return an id at once (sendMessage, simple sends, invite);
//  - where the closures run (V2TIMCallbackQueue).
import Foundation

/// Success without a value (V2TIMSucc).
public typealias V2TIMSucc = () -> Void
/// Failure with V2TIM's error code and a description (V2TIMFail).
public typealias V2TIMFail = (Int32, String?) -> Void

/// Where succ/fail closures run: the main queue by default, as in Tencent's SDK.
public enum V2TIMCallbackQueue {
    private final class Current: @unchecked Sendable {
        let lock = NSLock()
        var queue: DispatchQueue = .main
    }

    private static let current = Current()

    /// The queue the closures run on.
    public static var queue: DispatchQueue {
        get { current.lock.lock(); defer { current.lock.unlock() }; return current.queue }
        set { current.lock.lock(); current.queue = newValue; current.lock.unlock() }
    }

    static func fail(_ fail: V2TIMFail?, _ error: Error) {
        let (code, desc): (Int32, String)
        if case let V2TIMError.Failure(c, d) = error {
            (code, desc) = (c, d)
        } else {
            (code, desc) = (ERR_SDK_INTERNAL_ERROR, "\(error)")
        }
        queue.async { fail?(code, desc) }
    }

    /// Runs `op` and reports its outcome to `succ` / `fail` on `queue`.
    static func run(succ: V2TIMSucc?, fail: V2TIMFail?, _ op: @escaping @Sendable () async throws -> Void) {
        Task {
            do {
                try await op()
                queue.async { succ?() }
            } catch {
                Self.fail(fail, error)
            }
        }
    }

    /// Runs `op` and reports its value to `succ`, or its failure to `fail`, on `queue`.
    static func runValue<T>(succ: ((T) -> Void)?, fail: V2TIMFail?, _ op: @escaping @Sendable () async throws -> T) {
        Task {
            do {
                let value = try await op()
                queue.async { succ?(value) }
            } catch {
                Self.fail(fail, error)
            }
        }
    }
}

/// The listeners registered by object: (SDK instance, kind, object) -> the handle Rust gave.
final class V2TIMListenerRegistry: @unchecked Sendable {
    static let shared = V2TIMListenerRegistry()

    enum Kind: Hashable { case sdk, simple, advanced, group, conversation, signaling, friendship }

    struct Key: Hashable {
        let instance: Int64
        let kind: Kind
        let object: ObjectIdentifier
    }

    private let lock = NSLock()
    // The listener is kept with its handle, so its ObjectIdentifier is not reused while registered.
    private var handles: [Key: (listener: AnyObject, handle: Int64)] = [:]

    /// Registers `listener` as `kind` of `instance` unless it already is.
    func add(_ instance: Int64, _ kind: Kind, _ listener: AnyObject, register: () -> Int64) {
        lock.lock()
        defer { lock.unlock() }
        let key = Key(instance: instance, kind: kind, object: ObjectIdentifier(listener))
        if handles[key] == nil {
            handles[key] = (listener, register())
        }
    }

    /// The handle of `listener` as `kind` of `instance`, forgotten.
    func remove(_ instance: Int64, _ kind: Kind, _ listener: AnyObject) -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        return handles.removeValue(forKey: Key(instance: instance, kind: kind, object: ObjectIdentifier(listener)))?.handle
    }

    /// Forgets every `kind` listener of `instance` (the SDK replaced them) and registers `listener`.
    func replace(_ instance: Int64, _ kind: Kind, _ listener: AnyObject, register: () -> Int64) {
        lock.lock()
        defer { lock.unlock() }
        handles = handles.filter { !($0.key.instance == instance && $0.key.kind == kind) }
        handles[Key(instance: instance, kind: kind, object: ObjectIdentifier(listener))] = (listener, register())
    }
}

public extension V2TIMManager {
    /// The process-wide default SDK instance (V2TIMManager sharedInstance).
    static func sharedInstance() -> V2TIMManager {
        getDefaultManager()
    }

    /// The process-wide default SDK instance.
    static func getInstance() -> V2TIMManager {
        getDefaultManager()
    }

    /// Adds a listener of connection and login events (V2TIMManager addIMSDKListener:).
    func addIMSDKListener(listener: V2TIMSDKListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .sdk, listener) { self.addSDKListenerHandle(listener: listener) }
    }

    /// Removes a listener added with addIMSDKListener.
    func removeIMSDKListener(listener: V2TIMSDKListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .sdk, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Adds a simple message listener (V2TIMManager addSimpleMsgListener:).
    func addSimpleMsgListener(listener: V2TIMSimpleMsgListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .simple, listener) { self.addSimpleMsgListenerHandle(listener: listener) }
    }

    /// Removes a simple message listener added with addSimpleMsgListener.
    func removeSimpleMsgListener(listener: V2TIMSimpleMsgListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .simple, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Adds a group listener (V2TIMManager addGroupListener:).
    func addGroupListener(listener: V2TIMGroupListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .group, listener) {
            self.getGroupManager().addGroupListenerHandle(listener: listener)
        }
    }

    /// Removes a group listener added with addGroupListener.
    func removeGroupListener(listener: V2TIMGroupListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .group, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Sends a text message to `userID` (sendC2CTextMessage:to:succ:fail:); returns its msgID at once.
    @discardableResult
    func sendC2CTextMessage(text: String, to userID: String, succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let msg = getMessageManager().createTextMessage(text: text)
        return getMessageManager().sendMessage(message: msg, receiver: userID, groupID: nil, priority: .V2TIM_PRIORITY_DEFAULT,
                                               onlineUserOnly: false, offlinePushInfo: nil, progress: nil, succ: succ, fail: fail)
    }

    /// Sends custom data to `userID` (sendC2CCustomMessage:to:succ:fail:); returns its msgID at once.
    @discardableResult
    func sendC2CCustomMessage(customData: Data, to userID: String, succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let msg = getMessageManager().createCustomMessage(data: customData, description: "", extension: "")
        return getMessageManager().sendMessage(message: msg, receiver: userID, groupID: nil, priority: .V2TIM_PRIORITY_DEFAULT,
                                               onlineUserOnly: false, offlinePushInfo: nil, progress: nil, succ: succ, fail: fail)
    }

    /// Sends a text message to a group (sendGroupTextMessage:to:priority:succ:fail:); returns its msgID at once.
    @discardableResult
    func sendGroupTextMessage(text: String, to groupID: String, priority: V2TIMMessagePriority,
                              succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let msg = getMessageManager().createTextMessage(text: text)
        return getMessageManager().sendMessage(message: msg, receiver: nil, groupID: groupID, priority: priority,
                                               onlineUserOnly: false, offlinePushInfo: nil, progress: nil, succ: succ, fail: fail)
    }

    /// Sends custom data to a group (sendGroupCustomMessage:to:priority:succ:fail:); returns its msgID at once.
    @discardableResult
    func sendGroupCustomMessage(customData: Data, to groupID: String, priority: V2TIMMessagePriority,
                                succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let msg = getMessageManager().createCustomMessage(data: customData, description: "", extension: "")
        return getMessageManager().sendMessage(message: msg, receiver: nil, groupID: groupID, priority: priority,
                                               onlineUserOnly: false, offlinePushInfo: nil, progress: nil, succ: succ, fail: fail)
    }
}

/// Upload progress of a send, for the closure form.
private final class V2TIMSendProgress: V2TIMSendCallback, @unchecked Sendable {
    private let progress: (UInt32) -> Void

    init(_ progress: @escaping (UInt32) -> Void) {
        self.progress = progress
    }

    func onProgress(progress: Int32) {
        let report = self.progress
        V2TIMCallbackQueue.queue.async { report(UInt32(max(0, progress))) }
    }
}

public extension V2TIMMessageManager {
    /// Adds an advanced message listener (V2TIMManager addAdvancedMsgListener:).
    func addAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .advanced, listener) { self.addAdvancedMsgListenerHandle(listener: listener) }
    }

    /// Removes an advanced message listener added with addAdvancedMsgListener.
    func removeAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .advanced, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Sends `message` (sendMessage:receiver:groupID:priority:onlineUserOnly:offlinePushInfo:progress:succ:fail:):
    /// returns its msgID at once; `progress` hears the upload (0-100), `succ` / `fail` the outcome.
    @discardableResult
    func sendMessage(message: V2TIMMessage, receiver: String?, groupID: String?, priority: V2TIMMessagePriority,
                     onlineUserOnly: Bool, offlinePushInfo: V2TIMOfflinePushInfo?, progress: ((UInt32) -> Void)?,
                     succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let onProgress = progress.map { V2TIMSendProgress($0) }
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            _ = try await self.sendMessage(message: message, receiver: receiver, groupID: groupID, priority: priority,
                                           onlineUserOnly: onlineUserOnly, offlinePushInfo: offlinePushInfo, progress: onProgress)
        }
        return message.msgID
    }
}

public extension V2TIMSignalingManager {
    /// Adds a signaling listener (V2TIMManager addSignalingListener:).
    func addSignalingListener(listener: V2TIMSignalingListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .signaling, listener) { self.addSignalingListenerHandle(listener: listener) }
    }

    /// Removes a signaling listener added with addSignalingListener.
    func removeSignalingListener(listener: V2TIMSignalingListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .signaling, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Invites `invitee` (invite:data:onlineUserOnly:offlinePushInfo:timeout:succ:fail:); returns the inviteID at once.
    @discardableResult
    func invite(invitee: String, data: String, onlineUserOnly: Bool, offlinePushInfo: V2TIMOfflinePushInfo?,
                timeout: Int32, succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let inviteID = newInviteID()
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            _ = try await self.invite(invitee: invitee, data: data, onlineUserOnly: onlineUserOnly,
                                      offlinePushInfo: offlinePushInfo, timeout: timeout, inviteID: inviteID)
        }
        return inviteID
    }

    /// Invites members of a group (inviteInGroup:inviteeList:data:onlineUserOnly:timeout:succ:fail:); returns the inviteID at once.
    @discardableResult
    func inviteInGroup(groupID: String, inviteeList: [String], data: String, onlineUserOnly: Bool, timeout: Int32,
                       succ: V2TIMSucc?, fail: V2TIMFail?) -> String {
        let inviteID = newInviteID()
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            _ = try await self.inviteInGroup(groupID: groupID, inviteeList: inviteeList, data: data,
                                             onlineUserOnly: onlineUserOnly, timeout: timeout, inviteID: inviteID)
        }
        return inviteID
    }
}

/// iOS V2TIM's name for the push registration (its token is the APNs device token's bytes).
public typealias V2TIMAPNSConfig = V2TIMOfflinePushConfig

public extension V2TIMOfflinePushConfig {
    /// A registration with certificate id `businessID` and the APNs device token as given by
    /// didRegisterForRemoteNotificationsWithDeviceToken (sent as lowercase hex, as APNs takes it).
    init(businessID: Int64, token: Data, isTPNSToken: Bool = false) {
        self.init(businessID: businessID, token: token.map { String(format: "%02x", $0) }.joined(),
                  isTPNSToken: isTPNSToken)
    }
}

public extension V2TIMManager {
    /// Registers this device for offline push (setAPNS:succ:fail:); call it after every login.
    func setAPNS(config: V2TIMAPNSConfig, succ: V2TIMSucc?, fail: V2TIMFail?) {
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            try await self.getOfflinePushManager().setOfflinePushConfig(config: config)
        }
    }

    /// The app went to the background with `unreadCount` as its badge (doBackground:succ:fail:).
    func doBackground(unreadCount: UInt32, succ: V2TIMSucc?, fail: V2TIMFail?) {
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            try await self.getOfflinePushManager().doBackground(unreadCount: Int32(clamping: unreadCount))
        }
    }

    /// The app came to the foreground (doForeground:fail:).
    func doForeground(succ: V2TIMSucc?, fail: V2TIMFail?) {
        V2TIMCallbackQueue.run(succ: succ, fail: fail) {
            try await self.getOfflinePushManager().doForeground()
        }
    }
}

public extension V2TIMFriendshipManager {
    /// Adds a friendship listener (V2TIMManager addFriendListener:).
    func addFriendListener(listener: V2TIMFriendshipListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .friendship, listener) {
            self.addFriendListenerHandle(listener: listener)
        }
    }

    /// Replaces every friendship listener of this instance (the older setFriendListener:).
    func setFriendListener(listener: V2TIMFriendshipListener) {
        V2TIMListenerRegistry.shared.replace(instanceID(), .friendship, listener) {
            self.setFriendListenerHandle(listener: listener)
        }
    }

    /// Removes a friendship listener added with addFriendListener or setFriendListener.
    func removeFriendListener(listener: V2TIMFriendshipListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .friendship, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}

public extension V2TIMConversationManager {
    /// Adds a conversation listener (V2TIMManager addConversationListener:).
    func addConversationListener(listener: V2TIMConversationListener) {
        V2TIMListenerRegistry.shared.add(instanceID(), .conversation, listener) {
            self.addConversationListenerHandle(listener: listener)
        }
    }

    /// Replaces every conversation listener of this instance (the older setConversationListener:).
    func setConversationListener(listener: V2TIMConversationListener) {
        V2TIMListenerRegistry.shared.replace(instanceID(), .conversation, listener) {
            self.setConversationListenerHandle(listener: listener)
        }
    }

    /// Removes a conversation listener added with addConversationListener or setConversationListener.
    func removeConversationListener(listener: V2TIMConversationListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(instanceID(), .conversation, listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}
