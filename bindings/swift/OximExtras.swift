// Hand-written part of the Swift bindings (copied next to the generated code by
// scripts/bindings.sh). It gives Swift V2TIM's listener shapes:
//  - every listener callback has an empty default, so a type adopts a protocol and implements
//    only what it needs, as with V2TIM's optional protocol methods;
//  - add/remove by object: UniFFI hands Rust a new handle each time an object crosses the
//    boundary, so the identity of a listener is kept here, mapped to the handle Rust returned.
import Foundation

// UniFFI re-cases callback protocol names (and cannot rename them without breaking their
// symbols): give them V2TIM's names.
public typealias V2TIMSDKListener = V2timsdkListener
public typealias V2TIMSimpleMsgListener = V2timSimpleMsgListener
public typealias V2TIMAdvancedMsgListener = V2timAdvancedMsgListener
public typealias V2TIMGroupListener = V2timGroupListener
public typealias V2TIMConversationListener = V2timConversationListener
public typealias V2TIMSendCallback = V2timSendCallback
public typealias V2TIMDownloadCallback = V2timDownloadCallback
public typealias V2TIMSignalingListener = V2timSignalingListener

public extension V2TIMSDKListener {
    func onConnecting() {}
    func onConnectSuccess() {}
    func onConnectFailed(code: Int32, error: String) {}
    func onKickedOffline() {}
    func onUserSigExpired() {}
    func onSelfInfoUpdated(info: V2TIMUserFullInfo) {}
}

public extension V2TIMSimpleMsgListener {
    func onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {}
    func onRecvC2CCustomMessage(msgID: String, sender: V2TIMUserInfo, customData: Data) {}
    func onRecvGroupTextMessage(msgID: String, groupID: String, sender: V2TIMGroupMemberInfo, text: String) {}
    func onRecvGroupCustomMessage(msgID: String, groupID: String, sender: V2TIMGroupMemberInfo, customData: Data) {}
}

public extension V2TIMConversationListener {
    func onSyncServerStart() {}
    func onSyncServerFinish() {}
    func onSyncServerFailed() {}
    func onNewConversation(conversationList: [V2TIMConversation]) {}
    func onConversationChanged(conversationList: [V2TIMConversation]) {}
    func onTotalUnreadMessageCountChanged(totalUnreadCount: Int64) {}
}

public extension V2TIMConversationManager {
    /// Adds a conversation listener (V2TIMManager addConversationListener:).
    func addConversationListener(listener: V2TIMConversationListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.addConversationListenerHandle(listener: listener) }
    }

    /// Replaces every conversation listener (the older setConversationListener:).
    func setConversationListener(listener: V2TIMConversationListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.setConversationListenerHandle(listener: listener) }
    }

    /// Removes a conversation listener added with addConversationListener.
    func removeConversationListener(listener: V2TIMConversationListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}

public extension V2TIMGroupListener {
    func onMemberEnter(groupID: String, memberList: [V2TIMGroupMemberInfo]) {}
    func onMemberLeave(groupID: String, member: V2TIMGroupMemberInfo) {}
    func onMemberInvited(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: [V2TIMGroupMemberInfo]) {}
    func onMemberKicked(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: [V2TIMGroupMemberInfo]) {}
    func onMemberInfoChanged(groupID: String, changeInfoList: [V2TIMGroupMemberChangeInfo]) {}
    func onGroupCreated(groupID: String) {}
    func onGroupDismissed(groupID: String, opUser: V2TIMGroupMemberInfo) {}
    func onGroupRecycled(groupID: String, opUser: V2TIMGroupMemberInfo) {}
    func onGroupInfoChanged(groupID: String, changeInfos: [V2TIMGroupChangeInfo]) {}
    func onReceiveJoinApplication(groupID: String, member: V2TIMGroupMemberInfo, opReason: String) {}
    func onApplicationProcessed(groupID: String, opUser: V2TIMGroupMemberInfo, isAgreeJoin: Bool, opReason: String) {}
    func onGrantAdministrator(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: [V2TIMGroupMemberInfo]) {}
    func onRevokeAdministrator(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: [V2TIMGroupMemberInfo]) {}
    func onQuitFromGroup(groupID: String) {}
    func onGroupAttributeChanged(groupID: String, groupAttributeMap: [String: String]) {}
}

public extension V2TIMAdvancedMsgListener {
    func onRecvNewMessage(msg: V2TIMMessage) {}
    /// A burst of new messages, in one crossing from the SDK; calls onRecvNewMessage for each.
    func onRecvNewMessages(msgList: [V2TIMMessage]) { for msg in msgList { onRecvNewMessage(msg: msg) } }
    func onRecvC2CReadReceipt(receiptList: [V2TIMMessageReceipt]) {}
    func onRecvMessageRevoked(msgID: String) {}
}

public extension V2TIMSignalingListener {
    func onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: [String], data: String) {}
    func onInviteeAccepted(inviteID: String, invitee: String, data: String) {}
    func onInviteeRejected(inviteID: String, invitee: String, data: String) {}
    func onInvitationCancelled(inviteID: String, inviter: String, data: String) {}
    func onInvitationTimeout(inviteID: String, inviteeList: [String]) {}
}

/// Listener objects -> the handle Rust gave them. Adding an object twice registers it once.
final class V2TIMListenerRegistry: @unchecked Sendable {
    static let shared = V2TIMListenerRegistry()
    private let lock = NSLock()
    private var handles: [ObjectIdentifier: Int64] = [:]

    func add(_ listener: AnyObject, register: () -> Int64) {
        lock.lock()
        defer { lock.unlock() }
        let key = ObjectIdentifier(listener)
        if handles[key] == nil {
            handles[key] = register()
        }
    }

    func remove(_ listener: AnyObject) -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        return handles.removeValue(forKey: ObjectIdentifier(listener))
    }
}

public extension V2TIMManager {
    /// The process-wide default SDK instance (V2TIMManager sharedInstance).
    static func getInstance() -> V2TIMManager {
        getDefaultManager()
    }

    /// Adds a simple message listener (V2TIMManager addSimpleMsgListener:).
    func addSimpleMsgListener(listener: V2TIMSimpleMsgListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.addSimpleMsgListenerHandle(listener: listener) }
    }

    /// Removes a simple message listener added with addSimpleMsgListener.
    func removeSimpleMsgListener(listener: V2TIMSimpleMsgListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }

    /// Adds a group listener (V2TIMManager addGroupListener:).
    func addGroupListener(listener: V2TIMGroupListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.getGroupManager().addGroupListenerHandle(listener: listener) }
    }

    /// Removes a group listener added with addGroupListener.
    func removeGroupListener(listener: V2TIMGroupListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}

public extension V2TIMMessageManager {
    /// Adds an advanced message listener (V2TIMManager addAdvancedMsgListener:).
    func addAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.addAdvancedMsgListenerHandle(listener: listener) }
    }

    /// Removes an advanced message listener added with addAdvancedMsgListener.
    func removeAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}

public extension V2TIMSignalingManager {
    /// Adds a signaling listener (V2TIMManager addSignalingListener:).
    func addSignalingListener(listener: V2TIMSignalingListener) {
        V2TIMListenerRegistry.shared.add(listener) { self.addSignalingListenerHandle(listener: listener) }
    }

    /// Removes a signaling listener added with addSignalingListener.
    func removeSignalingListener(listener: V2TIMSignalingListener) {
        if let handle = V2TIMListenerRegistry.shared.remove(listener) {
            _ = removeListenerHandle(handle: handle)
        }
    }
}
