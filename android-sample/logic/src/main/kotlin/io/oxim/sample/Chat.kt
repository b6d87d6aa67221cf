package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMAdvancedMsgListener
import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMImageElem
import io.oxim.imsdk.v2.V2TIMMessage
import io.oxim.imsdk.v2.V2TIMMessageReceipt
import io.oxim.imsdk.v2.V2TIMOfflinePushInfo
import io.oxim.imsdk.v2.V2TIMValueCallback
import java.io.File
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * One bubble of the chat: the SDK's message, and what changes while it is on screen.
 *
 * V2TIMMessage is a mutable Java object, as Tencent's, and the SDK hands out a new one with each
 * event. The fields that change while the bubble is shown (its status, "read") are kept here as
 * values, so each change is a new ChatItem that the screen's StateFlow emits.
 */
data class ChatItem(
    /** The SDK's record: text, image variants, sender, seq, ... */
    val message: V2TIMMessage,
    /** `V2TIMMessage.V2TIM_MSG_STATUS_*`. */
    val status: Int = message.status,
    /** My message, read by the peer ("Read" under the bubble). */
    val isReadByPeer: Boolean = message.isPeerRead,
    /** Upload progress (0-100) while an image is being sent; null otherwise. */
    val uploadProgress: Int? = null,
    /** Why sending failed (the status is then SEND_FAIL). */
    val error: V2TIMException? = null,
) {
    val msgID: String get() = message.msgID
    val isMine: Boolean get() = message.isSelf
    val isRevoked: Boolean get() = status == V2TIMMessage.V2TIM_MSG_STATUS_LOCAL_REVOKED
    val isSending: Boolean get() = status == V2TIMMessage.V2TIM_MSG_STATUS_SENDING
    val isFailed: Boolean get() = status == V2TIMMessage.V2TIM_MSG_STATUS_SEND_FAIL
}

/** The chat screen: the loaded messages, oldest first, and whether older ones exist. */
data class ChatState(
    val items: List<ChatItem> = emptyList(),
    val hasOlder: Boolean = true,
)

/**
 * A one-to-one chat with [peerUserID] (V2TIMMessageManager + V2TIMAdvancedMsgListener): history
 * pages, sending with progress, receiving, revoking, read receipts both ways.
 */
class ChatModel(
    private val session: ImSession,
    val peerUserID: String,
    private val pageSize: Int = 20,
) : AutoCloseable {
    private val messages = session.sdk.messageManager
    private val _state = MutableStateFlow(ChatState())
    val state: StateFlow<ChatState> = _state.asStateFlow()

    /** The screen is on screen: incoming messages are read as they arrive. */
    @Volatile var isVisible = false

    // One listener for the three events, rather than the SDK's newMessagesFlow(conversationID)
    // for the new messages: they must apply in the order they happened (a revoke after its message).
    private val listener = object : V2TIMAdvancedMsgListener() {
        override fun onRecvNewMessage(msg: V2TIMMessage) {
            // Every conversation's messages come here: keep this chat's. (Mine from my other
            // devices come too: their userID is the peer as well.)
            if (msg.userID != peerUserID || msg.groupID.isNotEmpty()) return
            upsert(ChatItem(msg))
            // Fire and forget, from a listener: the callback form (null: no callback).
            if (isVisible && !msg.isSelf) messages.markC2CMessageAsRead(peerUserID, null)
        }

        override fun onRecvMessageRevoked(msgID: String) {
            updateItem(msgID) { it.copy(status = V2TIMMessage.V2TIM_MSG_STATUS_LOCAL_REVOKED) }
        }

        override fun onRecvC2CReadReceipt(receiptList: List<V2TIMMessageReceipt>) {
            if (receiptList.any { it.userID == peerUserID }) refreshReadByPeer()
        }
    }

    init {
        messages.addAdvancedMsgListener(listener)
    }

    /** Opens the chat: the newest page (local first, older pages from the server), then marks it read. */
    suspend fun open() = imCall {
        isVisible = true
        val newest = messages.getC2CHistoryMessageList(peerUserID, pageSize, null)
        _state.update { current ->
            // What the listener told meanwhile is newer than the page: it wins.
            ChatState(items = merge(newest.reversed().map { ChatItem(it) }, current.items), hasOlder = newest.size == pageSize)
        }
        messages.markC2CMessageAsRead(peerUserID)
    }

    /** The page before the oldest loaded message (scrolled to the top). */
    suspend fun loadOlder() = imCall {
        val oldest = _state.value.items.firstOrNull()?.message ?: return@imCall
        val page = messages.getC2CHistoryMessageList(peerUserID, pageSize, oldest)
        _state.update { it.copy(items = merge(page.reversed().map { m -> ChatItem(m) }, it.items), hasOlder = page.size == pageSize) }
    }

    /** Marks everything read: the unread count drops to 0 and the peer gets a read receipt. */
    suspend fun markRead() = imCall { messages.markC2CMessageAsRead(peerUserID) }

    /** Sends a text. It shows at once (SENDING), then as sent (or failed, with the reason). */
    suspend fun sendText(text: String): Result<V2TIMMessage> = send(messages.createTextMessage(text), withProgress = false)

    /**
     * Sends an image file; the bubble shows the upload's progress. The server makes the large and
     * thumbnail variants. A missing file fails at once (BaseConstants.ERR_SDK_COMM_FILE_NOT_FOUND).
     */
    suspend fun sendImage(path: String): Result<V2TIMMessage> {
        val message = try {
            messages.createImageMessage(path)
        } catch (e: V2TIMException) {
            return Result.failure(e)
        }
        return send(message, withProgress = true)
    }

    private suspend fun send(message: V2TIMMessage, withProgress: Boolean): Result<V2TIMMessage> {
        upsert(ChatItem(message, uploadProgress = if (withProgress) 0 else null))
        // The notification the peer sees when the app is in the background.
        val push = V2TIMOfflinePushInfo()
        push.title = session.userID
        push.desc = session.preview(message)
        // Runs on the SDK's upload thread, always before sendMessage returns.
        val onProgress: ((Int) -> Unit)? =
            if (withProgress) { progress -> updateItem(message.msgID) { it.copy(uploadProgress = progress) } } else null
        return try {
            // The SDK stores it before sending and resends it (same msgID) after a dropped
            // connection or an app restart, so a message is never lost or doubled.
            val sent = messages.sendMessage(message, peerUserID, null, V2TIMMessage.V2TIM_PRIORITY_DEFAULT, false, push, onProgress)
            // (A read receipt may have overtaken this answer: keep what it said.)
            updateItem(sent.msgID) { ChatItem(sent, isReadByPeer = sent.isPeerRead || it.isReadByPeer) }
            Result.success(sent)
        } catch (e: V2TIMException) {
            updateItem(message.msgID) { it.copy(status = V2TIMMessage.V2TIM_MSG_STATUS_SEND_FAIL, error = e, uploadProgress = null) }
            Result.failure(e)
        }
    }

    /** Revokes one of my messages (within the server's window, 2 minutes by default). */
    suspend fun revoke(msgID: String) = imCall {
        val item = _state.value.items.first { it.msgID == msgID }
        messages.revokeMessage(item.message)
        updateItem(msgID) { it.copy(status = V2TIMMessage.V2TIM_MSG_STATUS_LOCAL_REVOKED) }
    }

    /**
     * Downloads an image's thumbnail (198 px) into [cacheDir], named by its uuid so each is
     * fetched once; returns the file. [onProgress] hears bytes so far and in all.
     */
    suspend fun downloadThumbnail(item: ChatItem, cacheDir: File, onProgress: ((Long, Long) -> Unit)? = null): Result<File> = imCall {
        val images = item.message.imageElem?.imageList.orEmpty()
        val thumb = images.firstOrNull { it.type == V2TIMImageElem.V2TIM_IMAGE_TYPE_THUMB } ?: images.first()
        val file = File(cacheDir, "oxim-${thumb.uuid}")
        if (!file.exists()) messages.downloadImage(thumb, file.absolutePath, onProgress)
        file
    }

    // The receipt names a time with one-second resolution; the SDK's store knows exactly which of
    // my messages it covers (by seq), so ask it rather than compare times.
    private fun refreshReadByPeer() {
        val unread = _state.value.items.filter { it.isMine && !it.isReadByPeer && !it.isFailed }.map { it.msgID }
        if (unread.isEmpty()) return
        messages.findMessages(unread, object : V2TIMValueCallback<List<V2TIMMessage>> {
            override fun onSuccess(stored: List<V2TIMMessage>) {
                for (m in stored) if (m.isPeerRead) updateItem(m.msgID) { it.copy(isReadByPeer = true) }
            }

            override fun onError(code: Int, desc: String) {} // the next receipt asks again
        })
    }

    private fun upsert(item: ChatItem) = _state.update { it.copy(items = merge(it.items, listOf(item))) }

    private fun updateItem(msgID: String, change: (ChatItem) -> ChatItem) = _state.update { state ->
        state.copy(items = state.items.map { if (it.msgID == msgID) change(it) else it })
    }

    /**
     * One item per msgID ([newer] wins), in conversation order. Sent messages sort by their seq; a
     * message still being sent (seq 0) stays at the bottom, where it was typed.
     */
    private fun merge(older: List<ChatItem>, newer: List<ChatItem>): List<ChatItem> {
        val byID = LinkedHashMap<String, ChatItem>()
        for (item in older) byID[item.msgID] = item
        for (item in newer) byID[item.msgID] = item
        return byID.values.sortedWith(compareBy({ it.message.seq == 0L }, { it.message.seq }, { it.message.timestamp }))
    }

    override fun close() {
        isVisible = false
        messages.removeAdvancedMsgListener(listener)
    }
}
