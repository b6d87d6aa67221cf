import Foundation
import OximSDK

/// One bubble of the chat.
public struct ChatItem: Sendable, Identifiable {
    /// The SDK's record: text, image variants, status, isPeerRead, ...
    public var message: V2TIMMessage
    /// Upload progress (0-100) while an image is being sent; nil otherwise.
    public var uploadProgress: Int32?
    /// Why sending failed (the message's status is then SEND_FAIL).
    public var error: ImError?

    public init(message: V2TIMMessage, uploadProgress: Int32? = nil, error: ImError? = nil) {
        self.message = message
        self.uploadProgress = uploadProgress
        self.error = error
    }

    public var id: String { message.msgID }
    public var isMine: Bool { message.isSelf }
    public var isRevoked: Bool { message.status == .v2timMsgStatusLocalRevoked }
    public var isSending: Bool { message.status == .v2timMsgStatusSending }
    public var isFailed: Bool { message.status == .v2timMsgStatusSendFail }
    /// My message, read by the peer ("Read" under the bubble).
    public var isReadByPeer: Bool { message.isPeerRead }
}

/// The chat screen: the loaded messages, oldest first, and whether older ones exist.
public struct ChatState: Sendable {
    public var items: [ChatItem] = []
    public var hasOlder = true
}

/// A one-to-one chat with `peerUserID` (V2TIMMessageManager + V2TIMAdvancedMsgListener): history
/// pages, sending with progress, receiving, revoking, read receipts both ways.
public final class ChatModel: @unchecked Sendable {
    public let peerUserID: String
    public let state = LiveState(ChatState())
    private let session: ImSession
    private let messages: V2TIMMessageManager
    private let pageSize: Int32
    private let listener = Listener()

    /// The screen is on screen: incoming messages are read as they arrive.
    public var isVisible: Bool {
        get { visible.value }
        set { visible.set(newValue) }
    }
    private let visible = LiveState(false)

    public init(session: ImSession, peerUserID: String, pageSize: Int32 = 20) {
        self.session = session
        self.peerUserID = peerUserID
        self.pageSize = pageSize
        messages = session.sdk.getMessageManager()
        listener.model = self
        messages.addAdvancedMsgListener(listener: listener)
    }

    /// Opens the chat: the newest page (local first, older pages from the server), then marks it read.
    public func open() async throws {
        isVisible = true
        let newest = try await messages.getC2CHistoryMessageList(userID: peerUserID, count: pageSize, lastMsg: nil)
        state.update { current in
            // What the listener told meanwhile is newer than the page: it wins.
            current.items = Self.merge(newest.reversed().map { ChatItem(message: $0) }, current.items)
            current.hasOlder = newest.count == Int(pageSize)
        }
        try await messages.markC2CMessageAsRead(userID: peerUserID)
    }

    /// The page before the oldest loaded message (scrolled to the top).
    public func loadOlder() async throws {
        guard let oldest = state.value.items.first?.message else { return }
        let page = try await messages.getC2CHistoryMessageList(userID: peerUserID, count: pageSize, lastMsg: oldest)
        state.update { current in
            current.items = Self.merge(page.reversed().map { ChatItem(message: $0) }, current.items)
            current.hasOlder = page.count == Int(pageSize)
        }
    }

    /// Marks everything read: the unread count drops to 0 and the peer gets a read receipt.
    public func markRead() async throws {
        try await messages.markC2CMessageAsRead(userID: peerUserID)
    }

    /// Sends a text. It shows at once (SENDING), then as sent (or failed, with the reason).
    @discardableResult
    public func sendText(_ text: String) async throws -> V2TIMMessage {
        try await send(messages.createTextMessage(text: text), withProgress: false)
    }

    /// Sends an image file; the bubble shows the upload's progress. The server makes the large and
    /// thumbnail variants. A missing file fails at once with `ERR_SDK_COMM_FILE_NOT_FOUND`.
    @discardableResult
    public func sendImage(path: String) async throws -> V2TIMMessage {
        let message: V2TIMMessage
        do {
            message = try messages.createImageMessage(imagePath: path)
        } catch {
            throw ImError(error)
        }
        return try await send(message, withProgress: true)
    }

    private func send(_ message: V2TIMMessage, withProgress: Bool) async throws -> V2TIMMessage {
        upsert(ChatItem(message: message, uploadProgress: withProgress ? 0 : nil))
        let progress = Progress(model: self, msgID: message.msgID)
        // The notification the peer sees when the app is in the background.
        let push = V2TIMOfflinePushInfo(title: session.userID, desc: session.preview(message))
        do {
            // The SDK stores it before sending and resends it (same msgID) after a dropped
            // connection or an app restart, so a message is never lost or doubled.
            let sent = try await messages.sendMessage(message: message, receiver: peerUserID, groupID: nil,
                                                      priority: .v2timPriorityDefault, onlineUserOnly: false,
                                                      offlinePushInfo: push, progress: withProgress ? progress : nil)
            updateItem(sent.msgID) { item in
                // (A read receipt may have overtaken this answer: keep what it said.)
                var sent = sent
                sent.isPeerRead = sent.isPeerRead || item.message.isPeerRead
                item = ChatItem(message: sent)
            }
            return sent
        } catch {
            let failure = ImError(error)
            updateItem(message.msgID) { item in
                item.message.status = .v2timMsgStatusSendFail
                item.error = failure
                item.uploadProgress = nil
            }
            throw failure
        }
    }

    /// Revokes one of my messages (within the server's window, 2 minutes by default).
    public func revoke(_ msgID: String) async throws {
        guard let item = state.value.items.first(where: { $0.id == msgID }) else { return }
        do {
            try await messages.revokeMessage(msg: item.message)
        } catch {
            throw ImError(error)
        }
        updateItem(msgID) { $0.message.status = .v2timMsgStatusLocalRevoked }
    }

    /// Downloads an image's thumbnail (198 px) into `cacheDir`, named by its uuid so each is
    /// fetched once; returns the file.
    public func downloadThumbnail(_ item: ChatItem, cacheDir: URL) async throws -> URL {
        let images = item.message.imageElem?.imageList ?? []
        guard let thumb = images.first(where: { $0.type == .v2timImageTypeThumb }) ?? images.first else {
            throw ImError(code: ERR_INVALID_PARAMETERS, desc: "not an image message")
        }
        let file = cacheDir.appendingPathComponent("oxim-\(thumb.uuid)")
        if !FileManager.default.fileExists(atPath: file.path) {
            try await messages.downloadImage(image: thumb, path: file.path, callback: nil)
        }
        return file
    }

    fileprivate func received(_ message: V2TIMMessage) {
        // Every conversation's messages come here: keep this chat's. (Mine from my other devices
        // come too: their userID is the peer as well.)
        guard message.userID == peerUserID, message.groupID.isEmpty else { return }
        upsert(ChatItem(message: message))
        // Fire and forget, from a listener: the closure form (nil: no closures).
        if isVisible && !message.isSelf {
            messages.markC2CMessageAsRead(userID: peerUserID, succ: nil, fail: nil)
        }
    }

    fileprivate func revoked(_ msgID: String) {
        updateItem(msgID) { $0.message.status = .v2timMsgStatusLocalRevoked }
    }

    fileprivate func receipts(_ receipts: [V2TIMMessageReceipt]) {
        // The receipt names a time with one-second resolution; the SDK's store knows exactly
        // which of my messages it covers (by seq), so ask it rather than compare times.
        guard receipts.contains(where: { $0.userID == peerUserID }) else { return }
        let unread = state.value.items.filter { $0.isMine && !$0.isReadByPeer && !$0.isFailed }.map(\.id)
        guard !unread.isEmpty else { return }
        messages.findMessages(messageIDList: unread, succ: { [weak self] stored in
            for message in stored where message.isPeerRead {
                self?.updateItem(message.msgID) { $0.message.isPeerRead = true }
            }
        }, fail: nil) // the next receipt asks again
    }

    fileprivate func progressed(_ msgID: String, _ progress: Int32) {
        // On an SDK thread, possibly after sendMessage returned: only while still sending.
        updateItem(msgID) { item in
            if item.isSending { item.uploadProgress = progress }
        }
    }

    private func upsert(_ item: ChatItem) {
        state.update { $0.items = Self.merge($0.items, [item]) }
    }

    private func updateItem(_ msgID: String, _ change: (inout ChatItem) -> Void) {
        state.update { state in
            if let index = state.items.firstIndex(where: { $0.id == msgID }) {
                change(&state.items[index])
            }
        }
    }

    /// One item per msgID (`newer` wins), in conversation order. Sent messages sort by their seq; a
    /// message still being sent (seq 0) stays at the bottom, where it was typed.
    private static func merge(_ older: [ChatItem], _ newer: [ChatItem]) -> [ChatItem] {
        var byID: [String: ChatItem] = [:]
        for item in older + newer { byID[item.id] = item }
        return byID.values.sorted { a, b in
            let (pa, pb) = (a.message.seq == 0, b.message.seq == 0)
            if pa != pb { return !pa }
            if a.message.seq != b.message.seq { return a.message.seq < b.message.seq }
            return a.message.timestamp < b.message.timestamp
        }
    }

    public func close() {
        isVisible = false
        messages.removeAdvancedMsgListener(listener: listener)
    }

    private final class Listener: V2TIMAdvancedMsgListener, @unchecked Sendable {
        weak var model: ChatModel?
        func onRecvNewMessage(msg: V2TIMMessage) { model?.received(msg) }
        func onRecvMessageRevoked(msgID: String) { model?.revoked(msgID) }
        func onRecvC2CReadReceipt(receiptList: [V2TIMMessageReceipt]) { model?.receipts(receiptList) }
    }

    private final class Progress: V2TIMSendCallback, @unchecked Sendable {
        weak var model: ChatModel?
        let msgID: String
        init(model: ChatModel, msgID: String) {
            self.model = model
            self.msgID = msgID
        }
        func onProgress(progress: Int32) { model?.progressed(msgID, progress) }
    }
}
