// Hand-written part of the Kotlin bindings (copied next to the generated code by
// scripts/bindings.sh). It gives Kotlin V2TIM's listener shapes:
//  - abstract listener classes with empty callbacks, so an app overrides only what it needs
//    (`object : V2TIMSimpleMsgListener() { override fun onRecvC2CTextMessage(...) }`); they
//    implement the generated callback interfaces (V2timsdkListener, V2timSimpleMsgListener:
//    UniFFI cannot rename callback interfaces without breaking their symbols);
//  - add/remove by object: UniFFI hands Rust a new handle each time an object crosses the
//    boundary, so the identity of a listener is kept here, mapped to the handle Rust returned.
package io.oxim.imsdk.v2

/** Connection and login events (V2TIMSDKListener). Override the callbacks you need. */
abstract class V2TIMSDKListener : V2timsdkListener {
    override fun onConnecting() {}
    override fun onConnectSuccess() {}
    override fun onConnectFailed(code: Int, error: String) {}
    override fun onKickedOffline() {}
    override fun onUserSigExpired() {}
    override fun onSelfInfoUpdated(info: V2TIMUserFullInfo) {}
}

/** Text and custom messages (V2TIMSimpleMsgListener). Override the callbacks you need. */
abstract class V2TIMSimpleMsgListener : V2timSimpleMsgListener {
    override fun onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {}
    override fun onRecvC2CCustomMessage(msgID: String, sender: V2TIMUserInfo, customData: ByteArray) {}
    override fun onRecvGroupTextMessage(msgID: String, groupID: String, sender: V2TIMGroupMemberInfo, text: String) {}
    override fun onRecvGroupCustomMessage(msgID: String, groupID: String, sender: V2TIMGroupMemberInfo, customData: ByteArray) {}
}

/** Listener objects -> the handle Rust gave them. Adding an object twice registers it once. */
internal object V2TIMListenerRegistry {
    private val handles = java.util.IdentityHashMap<Any, Long>()

    @Synchronized
    fun add(listener: Any, register: () -> Long) {
        if (!handles.containsKey(listener)) handles[listener] = register()
    }

    @Synchronized
    fun remove(listener: Any): Long? = handles.remove(listener)
}

/** Adds a simple message listener (V2TIMManager.addSimpleMsgListener). */
fun V2TIMManager.addSimpleMsgListener(listener: V2TIMSimpleMsgListener) =
    V2TIMListenerRegistry.add(listener) { addSimpleMsgListenerHandle(listener) }

/** Removes a simple message listener added with [addSimpleMsgListener]. */
fun V2TIMManager.removeSimpleMsgListener(listener: V2TIMSimpleMsgListener) {
    V2TIMListenerRegistry.remove(listener)?.let { removeListenerHandle(it) }
}

/** The process-wide default SDK instance (V2TIMManager.getInstance()). */
fun V2TIMManager.Companion.getInstance(): V2TIMManager = getDefaultManager()

/** All message events (V2TIMAdvancedMsgListener). Override the callbacks you need. */
abstract class V2TIMAdvancedMsgListener : V2timAdvancedMsgListener {
    override fun onRecvNewMessage(msg: V2TIMMessage) {}
    /** A burst of new messages, in one crossing from the SDK; calls [onRecvNewMessage] for each. */
    override fun onRecvNewMessages(msgList: List<V2TIMMessage>) { msgList.forEach { onRecvNewMessage(it) } }
    override fun onRecvC2CReadReceipt(receiptList: List<V2TIMMessageReceipt>) {}
    override fun onRecvMessageRevoked(msgID: String) {}
}

/** Upload progress of sendMessage (V2TIMSendCallback.onProgress, 0-100). */
typealias V2TIMSendCallback = V2timSendCallback

/** Download progress (V2TIMDownloadCallback.onProgress, bytes). */
typealias V2TIMDownloadCallback = V2timDownloadCallback

/** The default instance's message manager (V2TIMManager.getMessageManager()). */
fun V2TIMManager.Companion.getMessageManager(): V2TIMMessageManager = getInstance().getMessageManager()

/** Adds an advanced message listener (V2TIMMessageManager.addAdvancedMsgListener). */
fun V2TIMMessageManager.addAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) =
    V2TIMListenerRegistry.add(listener) { addAdvancedMsgListenerHandle(listener) }

/** Removes an advanced message listener added with [addAdvancedMsgListener]. */
fun V2TIMMessageManager.removeAdvancedMsgListener(listener: V2TIMAdvancedMsgListener) {
    V2TIMListenerRegistry.remove(listener)?.let { removeListenerHandle(it) }
}

/** What happens in the user's groups (V2TIMGroupListener). Override the callbacks you need. */
abstract class V2TIMGroupListener : V2timGroupListener {
    override fun onMemberEnter(groupID: String, memberList: List<V2TIMGroupMemberInfo>) {}
    override fun onMemberLeave(groupID: String, member: V2TIMGroupMemberInfo) {}
    override fun onMemberInvited(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: List<V2TIMGroupMemberInfo>) {}
    override fun onMemberKicked(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: List<V2TIMGroupMemberInfo>) {}
    override fun onMemberInfoChanged(groupID: String, changeInfoList: List<V2TIMGroupMemberChangeInfo>) {}
    override fun onGroupCreated(groupID: String) {}
    override fun onGroupDismissed(groupID: String, opUser: V2TIMGroupMemberInfo) {}
    override fun onGroupRecycled(groupID: String, opUser: V2TIMGroupMemberInfo) {}
    override fun onGroupInfoChanged(groupID: String, changeInfos: List<V2TIMGroupChangeInfo>) {}
    override fun onReceiveJoinApplication(groupID: String, member: V2TIMGroupMemberInfo, opReason: String) {}
    override fun onApplicationProcessed(groupID: String, opUser: V2TIMGroupMemberInfo, isAgreeJoin: Boolean, opReason: String) {}
    override fun onGrantAdministrator(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: List<V2TIMGroupMemberInfo>) {}
    override fun onRevokeAdministrator(groupID: String, opUser: V2TIMGroupMemberInfo, memberList: List<V2TIMGroupMemberInfo>) {}
    override fun onQuitFromGroup(groupID: String) {}
    override fun onGroupAttributeChanged(groupID: String, groupAttributeMap: Map<String, String>) {}
}

/** The default instance's group manager (V2TIMManager.getGroupManager()). */
fun V2TIMManager.Companion.getGroupManager(): V2TIMGroupManager = getInstance().getGroupManager()

/** Adds a group listener (V2TIMManager.addGroupListener). */
fun V2TIMManager.addGroupListener(listener: V2TIMGroupListener) =
    V2TIMListenerRegistry.add(listener) { getGroupManager().addGroupListenerHandle(listener) }

/** Removes a group listener added with [addGroupListener]. */
fun V2TIMManager.removeGroupListener(listener: V2TIMGroupListener) {
    V2TIMListenerRegistry.remove(listener)?.let { removeListenerHandle(it) }
}

/** Invitations (V2TIMSignalingListener). Override the callbacks you need. */
abstract class V2TIMSignalingListener : V2timSignalingListener {
    override fun onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: List<String>, data: String) {}
    override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) {}
    override fun onInviteeRejected(inviteID: String, invitee: String, data: String) {}
    override fun onInvitationCancelled(inviteID: String, inviter: String, data: String) {}
    override fun onInvitationTimeout(inviteID: String, inviteeList: List<String>) {}
}

/** The default instance's signaling manager (V2TIMManager.getSignalingManager()). */
fun V2TIMManager.Companion.getSignalingManager(): V2TIMSignalingManager = getInstance().getSignalingManager()

/** Adds a signaling listener (V2TIMSignalingManager.addSignalingListener). */
fun V2TIMSignalingManager.addSignalingListener(listener: V2TIMSignalingListener) =
    V2TIMListenerRegistry.add(listener) { addSignalingListenerHandle(listener) }

/** Removes a signaling listener added with [addSignalingListener]. */
fun V2TIMSignalingManager.removeSignalingListener(listener: V2TIMSignalingListener) {
    V2TIMListenerRegistry.remove(listener)?.let { removeListenerHandle(it) }
}

/** The conversation list and its unread total (V2TIMConversationListener). Override the callbacks you need. */
abstract class V2TIMConversationListener : V2timConversationListener {
    override fun onSyncServerStart() {}
    override fun onSyncServerFinish() {}
    override fun onSyncServerFailed() {}
    override fun onNewConversation(conversationList: List<V2TIMConversation>) {}
    override fun onConversationChanged(conversationList: List<V2TIMConversation>) {}
    override fun onTotalUnreadMessageCountChanged(totalUnreadCount: Long) {}
}

/** The default instance's conversation manager (V2TIMManager.getConversationManager()). */
fun V2TIMManager.Companion.getConversationManager(): V2TIMConversationManager = getInstance().getConversationManager()

/** Adds a conversation listener (V2TIMConversationManager.addConversationListener). */
fun V2TIMConversationManager.addConversationListener(listener: V2TIMConversationListener) =
    V2TIMListenerRegistry.add(listener) { addConversationListenerHandle(listener) }

/** Replaces every conversation listener (the older V2TIMConversationManager.setConversationListener). */
fun V2TIMConversationManager.setConversationListener(listener: V2TIMConversationListener) =
    V2TIMListenerRegistry.add(listener) { setConversationListenerHandle(listener) }

/** Removes a conversation listener added with [addConversationListener]. */
fun V2TIMConversationManager.removeConversationListener(listener: V2TIMConversationListener) {
    V2TIMListenerRegistry.remove(listener)?.let { removeListenerHandle(it) }
}
