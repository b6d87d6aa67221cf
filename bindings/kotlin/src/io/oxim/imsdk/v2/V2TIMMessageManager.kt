// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

import io.oxim.imsdk.v2.ListenerRegistry.Kind
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch

/**
 * Messages (V2TIMMessageManager): create, send, history, revoke, receipts, deletion. The
 * default instance's is `V2TIMManager.getMessageManager()`.
 */
class V2TIMMessageManager internal constructor(override val sdk: V2TIMManager) : V2TIMMessageManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMMessageManager = sdk.ffi.getMessageManager()

    /** A custom message of [data] alone (V2TIM's one-argument `createCustomMessage`). */
    fun createCustomMessage(data: ByteArray?): V2TIMMessage = createCustomMessage(data, "", null)

    /** Adds a listener of every message event (V2TIM's `addAdvancedMsgListener`). */
    fun addAdvancedMsgListener(listener: V2TIMAdvancedMsgListener?) =
        sdk.addListener(Kind.ADVANCED, listener) { ffi.addAdvancedMsgListenerHandle(V2TIMAdvancedMsgListenerBridge(sdk, it)) }

    /** Removes a listener added with [addAdvancedMsgListener]. */
    fun removeAdvancedMsgListener(listener: V2TIMAdvancedMsgListener?) = sdk.removeListener(Kind.ADVANCED, listener)

    /**
     * Sends [message] to [receiver] (C2C) or [groupID] (exactly one), [priority] one of
     * `V2TIMMessage.V2TIM_PRIORITY_*`. It is stored as SENDING first, its file uploaded
     * ([onProgress] 0-100), and resent with the same msgID after network trouble or an app
     * restart until the server stored it once. Returns the sent message (seq, server time).
     * [onProgress] runs on the SDK's upload thread, before this returns.
     */
    @JvmSynthetic
    suspend fun sendMessage(
        message: V2TIMMessage,
        receiver: String?,
        groupID: String?,
        priority: Int,
        onlineUserOnly: Boolean,
        offlinePushInfo: V2TIMOfflinePushInfo?,
        onProgress: ((Int) -> Unit)? = null,
    ): V2TIMMessage {
        val progress = onProgress?.let { report ->
            object : io.oxim.imsdk.v2.ffi.V2timSendCallback {
                override fun onProgress(progress: Int) = report(progress)
            }
        }
        val sent = ffiCall {
            ffi.sendMessage(
                message.toFfi(), receiver, groupID, FfiEnums.V2TIMMessagePriority(priority), onlineUserOnly,
                offlinePushInfo?.toFfi(), progress,
            )
        }
        return V2TIMMessage.fromFfi(sent)
    }

    /**
     * Sends [message] as the suspend form does, in V2TIM's callback form: returns its msgID at
     * once; [callback] hears the upload progress and the outcome, and [message] itself is
     * updated (status, seq, server time) before `onSuccess(message)`.
     */
    fun sendMessage(
        message: V2TIMMessage?,
        receiver: String?,
        groupID: String?,
        priority: Int,
        onlineUserOnly: Boolean,
        offlinePushInfo: V2TIMOfflinePushInfo?,
        callback: V2TIMSendCallback<V2TIMMessage>?,
    ): String {
        if (message == null) {
            sdk.deliver { callback?.onError(io.oxim.imsdk.BaseConstants.ERR_INVALID_PARAMETERS, "message is null") }
            return ""
        }
        // Started on the caller's thread: the SDK queues the message before the first suspension,
        // so messages sent one after the other are sent in that order.
        sdk.scope.launch(start = CoroutineStart.UNDISPATCHED) {
            try {
                val sent = sendMessage(message, receiver, groupID, priority, onlineUserOnly, offlinePushInfo) { progress ->
                    sdk.deliver { callback?.onProgress(progress) } // before onSuccess: the same executor, in order
                }
                sdk.deliver {
                    message.updateFrom(sent)
                    callback?.onSuccess(message)
                }
            } catch (e: V2TIMException) {
                sdk.deliver {
                    message.status = V2TIMMessage.V2TIM_MSG_STATUS_SEND_FAIL
                    callback?.onError(e.code, e.desc)
                }
            }
        }
        return message.msgID
    }

    // ---- downloads (Tencent also offers them on the elements: V2TIMImage.downloadImage, ...) ----

    private fun progressOf(report: ((Long, Long) -> Unit)?) = report?.let {
        object : io.oxim.imsdk.v2.ffi.V2timDownloadCallback {
            override fun onProgress(currentSize: Long, totalSize: Long) = it(currentSize, totalSize)
        }
    }

    private fun download(callback: V2TIMDownloadCallback?, start: suspend (((Long, Long) -> Unit)?) -> Unit) =
        sdk.launchVoid(callback) {
            start { current, total -> sdk.deliver { callback?.onProgress(V2TIMElem.V2ProgressInfo(current, total)) } }
        }

    /**
     * Downloads an image variant to [path]; [onProgress] hears bytes so far and in all, on the
     * SDK's download thread, before this returns.
     */
    @JvmSynthetic
    suspend fun downloadImage(image: V2TIMImageElem.V2TIMImage, path: String, onProgress: ((Long, Long) -> Unit)? = null) =
        ffiCall { ffi.downloadImage(image.toFfi(), path, progressOf(onProgress)) }

    /** Downloads an image variant to [path]; [callback] hears the progress and the outcome. */
    fun downloadImage(image: V2TIMImageElem.V2TIMImage?, path: String?, callback: V2TIMDownloadCallback?) =
        download(callback) { downloadImage(required(image, "image"), path.orEmpty(), it) }

    /** Downloads a voice message's audio to [path]. */
    @JvmSynthetic
    suspend fun downloadSound(elem: V2TIMSoundElem, path: String, onProgress: ((Long, Long) -> Unit)? = null) =
        ffiCall { ffi.downloadSound(elem.toFfi(), path, progressOf(onProgress)) }

    /** Downloads a voice message's audio to [path], in V2TIM's callback form. */
    fun downloadSound(elem: V2TIMSoundElem?, path: String?, callback: V2TIMDownloadCallback?) =
        download(callback) { downloadSound(required(elem, "elem"), path.orEmpty(), it) }

    /** Downloads a video message's video to [path]. */
    @JvmSynthetic
    suspend fun downloadVideo(elem: V2TIMVideoElem, path: String, onProgress: ((Long, Long) -> Unit)? = null) =
        ffiCall { ffi.downloadVideo(elem.toFfi(), path, progressOf(onProgress)) }

    /** Downloads a video message's video to [path], in V2TIM's callback form. */
    fun downloadVideo(elem: V2TIMVideoElem?, path: String?, callback: V2TIMDownloadCallback?) =
        download(callback) { downloadVideo(required(elem, "elem"), path.orEmpty(), it) }

    /** Downloads a video message's snapshot to [path]. */
    @JvmSynthetic
    suspend fun downloadVideoSnapshot(elem: V2TIMVideoElem, path: String, onProgress: ((Long, Long) -> Unit)? = null) =
        ffiCall { ffi.downloadVideoSnapshot(elem.toFfi(), path, progressOf(onProgress)) }

    /** Downloads a video message's snapshot to [path], in V2TIM's callback form. */
    fun downloadVideoSnapshot(elem: V2TIMVideoElem?, path: String?, callback: V2TIMDownloadCallback?) =
        download(callback) { downloadVideoSnapshot(required(elem, "elem"), path.orEmpty(), it) }

    /** Downloads a file message's file to [path]. */
    @JvmSynthetic
    suspend fun downloadFile(elem: V2TIMFileElem, path: String, onProgress: ((Long, Long) -> Unit)? = null) =
        ffiCall { ffi.downloadFile(elem.toFfi(), path, progressOf(onProgress)) }

    /** Downloads a file message's file to [path], in V2TIM's callback form. */
    fun downloadFile(elem: V2TIMFileElem?, path: String?, callback: V2TIMDownloadCallback?) =
        download(callback) { downloadFile(required(elem, "elem"), path.orEmpty(), it) }

    // ---- receive options where Tencent's Android SDK has them ----------------------------------

    /** The receive option for up to 30 C2C peers (`V2TIMMessage.V2TIM_RECEIVE_MESSAGE`, ...). */
    fun setC2CReceiveMessageOpt(userIDList: List<String>?, opt: Int, callback: V2TIMCallback?) =
        sdk.conversationManager.setC2CReceiveMessageOpt(userIDList, opt, callback)

    /** The receive options of up to 30 C2C peers. */
    fun getC2CReceiveMessageOpt(userIDList: List<String>?, callback: V2TIMValueCallback<List<V2TIMReceiveMessageOptInfo>>?) =
        sdk.conversationManager.getC2CReceiveMessageOpt(userIDList, callback)

    /** The user's receive option for a group (newer V2TIM's name for setReceiveMessageOpt). */
    fun setGroupReceiveMessageOpt(groupID: String?, opt: Int, callback: V2TIMCallback?) =
        sdk.groupManager.setReceiveMessageOpt(groupID, opt, callback)

    // ---- Kotlin Flows -----------------------------------------------------------------------------

    /**
     * The new messages of one conversation (`c2c_<userID>` or `group_<groupID>`), as they arrive,
     * over an advanced message listener that lives while the flow is collected. Note V2TIM's
     * rule: while an advanced listener is registered, text and custom messages reach the advanced
     * listeners only, not the simple ones.
     */
    fun newMessagesFlow(conversationID: String): Flow<V2TIMMessage> = callbackFlow {
        val listener = object : V2TIMAdvancedMsgListener() {
            override fun onRecvNewMessage(msg: V2TIMMessage) {
                val id = if (msg.groupID.isNotEmpty()) "group_${msg.groupID}" else "c2c_${msg.userID}"
                if (id == conversationID) trySend(msg)
            }
        }
        addAdvancedMsgListener(listener)
        awaitClose { removeAdvancedMsgListener(listener) }
    }
}
