package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMAdvancedMsgListener
import io.oxim.imsdk.v2.V2TIMDownloadCallback
import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMImageType
import io.oxim.imsdk.v2.V2TIMMessage
import io.oxim.imsdk.v2.V2TIMMessagePriority
import io.oxim.imsdk.v2.V2TIMMessageReceipt
import io.oxim.imsdk.v2.V2TIMMessageStatus
import io.oxim.imsdk.v2.V2TIMOfflinePushInfo
import io.oxim.imsdk.v2.V2TIMSendCallback
import io.oxim.imsdk.v2.addAdvancedMsgListener
import io.oxim.imsdk.v2.removeAdvancedMsgListener
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** One bubble of the chat. */
data class ChatItem(
    /** The SDK's record: text, image variants, status, isPeerRead, ... */
    val message: V2TIMMessage,
    /** Upload progress (0-100) while an image is being sent; null otherwise. */
    val uploadProgress: Int? = null,
    /** Why sending failed (the message's status is then SEND_FAIL). */
    val error: ImError? = null,
) {
    val msgID: String get() = message.msgID
    val isMine: Boolean get() = message.isSelf
    val isRevoked: Boolean get() = message.status == V2TIMMessageStatus.V2TIM_MSG_STATUS_LOCAL_REVOKED
    val isSending: Boolean get() = message.status == V2TIMMessageStatus.V2TIM_MSG_STATUS_SENDING
    val isFailed: Boolean get() = message.status == V2TIMMessageStatus.V2TIM_MSG_STATUS_SEND_FAIL
    /** My message, read by the peer ("Read" under the bubble). */
    val isReadByPeer: Boolean get() = message.isPeerRead
}

/** The chat screen: the loaded messages, oldest first, and whether older ones exist. */
data class ChatState(
    val items: List<ChatItem> = emptyList(),
    val hasOlder: Boolean = true,
)

/**
 * A one-to-one chat with [peerUserID] (V2TIMMessageManager + V2TIMAdvancedMsgListener): history
 * pages, sending with progress, receiving, revoking, read receipts both ways.
 *
 * [scope] runs the SDK calls that listener callbacks lead to (the screen's scope, e.g.
 * `viewModelScope`); listeners themselves must return quickly.
 */
class ChatModel(
    private val session: ImSession,
    val peerUserID: String,
    private val scope: CoroutineScope,
    private val pageSize: Int = 20,
) : AutoCloseable {
    private val messages = session.sdk.getMessageManager()
    private val _state = MutableStateFlow(ChatState())
    val state: StateFlow<ChatState> = _state.asStateFlow()

    /** The screen is on screen: incoming messages are read as they arrive. */
    @Volatile var isVisible = false

    private val listener = object : V2TIMAdvancedMsgListener() {
        override fun onRecvNewMessage(msg: V2TIMMessage) {
            // Every conversation's messages come here: keep this chat's. (Mine from my other
            // devices come too: their userID is the peer as well.)
            if (msg.userID != peerUserID || msg.groupID.isNotEmpty()) return
            upsert(ChatItem(msg))
            if (isVisible && !msg.isSelf) scope.launch { markRead() }
        }

        override fun onRecvMessageRevoked(msgID: String) {
            updateItem(msgID) { it.copy(message = it.message.copy(status = V2TIMMessageStatus.V2TIM_MSG_STATUS_LOCAL_REVOKED)) }
        }

        override fun onRecvC2CReadReceipt(receiptList: List<V2TIMMessageReceipt>) {
            // The receipt names a time with one-second resolution; the SDK's store knows exactly
            // which of my messages it covers (by seq), so ask it rather than compare times.
            if (receiptList.any { it.userID == peerUserID }) scope.launch { refreshPeerRead() }
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
     * thumbnail variants. A missing file fails at once with 7004.
     */
    suspend fun sendImage(path: String): Result<V2TIMMessage> {
        val message = try {
            messages.createImageMessage(path)
        } catch (e: V2TIMException.Failure) {
            return Result.failure(ImException(e.toImError()))
        }
        return send(message, withProgress = true)
    }

    private suspend fun send(message: V2TIMMessage, withProgress: Boolean): Result<V2TIMMessage> {
        upsert(ChatItem(message, uploadProgress = if (withProgress) 0 else null))
        val progress = object : V2TIMSendCallback {
            override fun onProgress(progress: Int) {
                // On an SDK thread, possibly after sendMessage returned: only while still sending.
                updateItem(message.msgID) { if (it.isSending) it.copy(uploadProgress = progress) else it }
            }
        }
        // The notification the peer sees when the app is in the background.
        val push = V2TIMOfflinePushInfo(title = session.userID, desc = session.preview(message))
        return try {
            // The SDK stores it before sending and resends it (same msgID) after a dropped
            // connection or an app restart, so a message is never lost or doubled.
            val sent = messages.sendMessage(message, peerUserID, null, V2TIMMessagePriority.V2TIM_PRIORITY_DEFAULT,
                false, push, if (withProgress) progress else null)
            // (A read receipt may have overtaken this answer: keep what it said.)
            updateItem(sent.msgID) { ChatItem(sent.copy(isPeerRead = sent.isPeerRead || it.message.isPeerRead)) }
            Result.success(sent)
        } catch (e: V2TIMException.Failure) {
            val error = e.toImError()
            updateItem(message.msgID) {
                it.copy(message = it.message.copy(status = V2TIMMessageStatus.V2TIM_MSG_STATUS_SEND_FAIL), error = error, uploadProgress = null)
            }
            Result.failure(ImException(error))
        }
    }

    /** Revokes one of my messages (within the server's window, 2 minutes by default). */
    suspend fun revoke(msgID: String) = imCall {
        val item = _state.value.items.first { it.msgID == msgID }
        messages.revokeMessage(item.message)
        updateItem(msgID) { it.copy(message = it.message.copy(status = V2TIMMessageStatus.V2TIM_MSG_STATUS_LOCAL_REVOKED)) }
    }

    /**
     * Downloads an image's thumbnail (198 px) into [cacheDir], named by its uuid so each is
     * fetched once; returns the file.
     */
    suspend fun downloadThumbnail(item: ChatItem, cacheDir: File, progress: V2TIMDownloadCallback? = null): Result<File> = imCall {
        val images = item.message.imageElem?.imageList.orEmpty()
        val thumb = images.firstOrNull { it.type == V2TIMImageType.V2TIM_IMAGE_TYPE_THUMB } ?: images.first()
        val file = File(cacheDir, "oxim-${thumb.uuid}")
        if (!file.exists()) messages.downloadImage(thumb, file.absolutePath, progress)
        file
    }

    private suspend fun refreshPeerRead() {
        val unread = _state.value.items.filter { it.isMine && !it.isReadByPeer && !it.isFailed }.map { it.msgID }
        if (unread.isEmpty()) return
        val stored = imCall { messages.findMessages(unread) }.getOrNull() ?: return
        for (m in stored) updateItem(m.msgID) { it.copy(message = it.message.copy(isPeerRead = m.isPeerRead)) }
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
