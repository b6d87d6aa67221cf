import Foundation
import OximSDK

/// The conversation list screen: every conversation with its unread count, and the unread total.
public struct ConversationListState: Sendable {
    /// Pinned first, then by last activity (the SDK's `orderKey`, descending).
    public var conversations: [V2TIMConversation] = []
    /// The badge on the app icon: unread messages of the conversations that notify.
    public var totalUnread: Int64 = 0
    /// The first load from the SDK's store finished.
    public var loaded = false
}

/// The conversation list (V2TIMConversationManager), kept current by V2TIMConversationListener.
///
/// The SDK computes unread counts from read positions (never by counting up and down), so the
/// numbers shown here are the SDK's, as they are: this model never does arithmetic on them.
public final class ConversationListModel: @unchecked Sendable {
    private let manager: V2TIMConversationManager
    public let state = LiveState(ConversationListState())
    private let listener: Listener

    public init(session: ImSession) {
        manager = session.sdk.getConversationManager()
        listener = Listener()
        listener.model = self
        // Listen first, then read: nothing that happens in between is missed.
        manager.addConversationListener(listener: listener)
    }

    // What the listener told while load() was reading is newer than (or as new as) the page
    // read, so load() must not overwrite it. Guarded by `lock`.
    private let lock = NSLock()
    private var loading = false
    private var changedWhileLoading = Set<String>()
    private var totalChangedWhileLoading = false

    /// Reads the whole list from the SDK's local store, page by page, and the unread total.
    public func load(pageSize: Int32 = 100) async throws {
        startLoading()
        defer { stopLoading() }
        var all: [V2TIMConversation] = []
        var nextSeq: Int64 = 0
        while true {
            let page = try await manager.getConversationList(nextSeq: nextSeq, count: pageSize)
            all += page.conversationList
            nextSeq = page.nextSeq
            if page.isFinished { break }
        }
        let total = try await manager.getTotalUnreadMessageCount()
        show(loaded: all, total: total)
    }

    private func startLoading() {
        lock.lock()
        defer { lock.unlock() }
        loading = true
        changedWhileLoading = []
        totalChangedWhileLoading = false
    }

    private func stopLoading() {
        lock.lock()
        defer { lock.unlock() }
        loading = false
    }

    private func show(loaded all: [V2TIMConversation], total: Int64) {
        lock.lock()
        defer { lock.unlock() }
        state.update { current in
            let fromListener = current.conversations.filter { changedWhileLoading.contains($0.conversationID) }
            let read = all.filter { !changedWhileLoading.contains($0.conversationID) }
            current.conversations = Self.sorted(read + fromListener)
            if !totalChangedWhileLoading { current.totalUnread = total }
            current.loaded = true
        }
    }

    /// Pins a conversation to the top (synced to the user's other devices).
    public func pin(_ conversationID: String, _ pinned: Bool) async throws {
        try await manager.pinConversation(conversationID: conversationID, isPinned: pinned)
    }

    fileprivate func upsert(_ changed: [V2TIMConversation]) {
        lock.lock()
        defer { lock.unlock() }
        if loading { changedWhileLoading.formUnion(changed.map(\.conversationID)) }
        let ids = Set(changed.map(\.conversationID))
        state.update { $0.conversations = Self.sorted($0.conversations.filter { !ids.contains($0.conversationID) } + changed) }
    }

    fileprivate func total(_ total: Int64) {
        lock.lock()
        defer { lock.unlock() }
        if loading { totalChangedWhileLoading = true }
        state.update { $0.totalUnread = total }
    }

    private static func sorted(_ list: [V2TIMConversation]) -> [V2TIMConversation] {
        list.sorted { $0.orderKey > $1.orderKey }
    }

    public func close() {
        manager.removeConversationListener(listener: listener)
    }

    // Each change arrives once, with the conversation's state after it (on an SDK thread).
    private final class Listener: V2TIMConversationListener, @unchecked Sendable {
        weak var model: ConversationListModel?
        func onNewConversation(conversationList: [V2TIMConversation]) { model?.upsert(conversationList) }
        func onConversationChanged(conversationList: [V2TIMConversation]) { model?.upsert(conversationList) }
        func onTotalUnreadMessageCountChanged(totalUnreadCount: Int64) { model?.total(totalUnreadCount) }
    }
}
