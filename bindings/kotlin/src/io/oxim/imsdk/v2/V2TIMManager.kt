// Hand-written part of the Android/JVM layer (package io.oxim.imsdk.v2, Tencent's
// com.tencent.imsdk.v2 with its shapes): the entry point. The layer has no SDK logic of its own:
// it converts between Tencent's Java types and the UniFFI layer (io.oxim.imsdk.v2.ffi), runs
// calls as coroutines, and delivers results and listener events on the app's executor.
//
// What is generated from udl/oxim.udl (scripts/gen-bindings.py): the Java records and listener
// classes, and per manager a base class with the suspend and callback forms of every method
// (V2TIM*ManagerGenerated). What is written here: the methods whose shape is V2TIM's own
// (returning an id at once, listener registration, getters as properties), delivery, Flows.
package io.oxim.imsdk.v2

import io.oxim.imsdk.v2.ListenerRegistry.Kind
import java.util.concurrent.Executor
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.launch

/**
 * The SDK's entry point (V2TIMManager): init, login, simple messages, groups, and the managers.
 *
 * Every call that talks to the server comes in two forms: V2TIM's, with a callback as last
 * argument ([V2TIMCallback], [V2TIMValueCallback], [V2TIMSendCallback]), and a Kotlin `suspend`
 * function without it that returns the value or throws [V2TIMException].
 *
 * Callbacks and listener events are delivered on the instance's callback executor: Android's
 * main thread by default (as Tencent's SDK does), on a plain JVM directly on the SDK's threads
 * (listeners on its event thread, callbacks on the thread that finished the call), or on the
 * executor the app sets with [setCallbackExecutor]. Never while the SDK holds a lock: calling
 * back into the SDK from a callback is safe.
 */
class V2TIMManager private constructor(override val ffi: io.oxim.imsdk.v2.ffi.V2TIMManager) : V2TIMManagerGenerated() {
    /** A new SDK instance, independent of [getInstance] (Oxim: several can live in one process). */
    constructor() : this(io.oxim.imsdk.v2.ffi.V2TIMManager())

    override val sdk: V2TIMManager get() = this

    internal val registry = ListenerRegistry()
    internal val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @Volatile
    private var executor: Executor? = Platform.mainThreadExecutor()

    /**
     * Where callbacks and listener events run: an executor of the app's choice, or null for the
     * SDK's own threads. The default is Android's main thread when there is one.
     */
    fun setCallbackExecutor(executor: Executor?) {
        this.executor = executor
    }

    /** The executor callbacks and listener events run on (null: the SDK's own threads). */
    fun getCallbackExecutor(): Executor? = executor

    /** Runs [block] on the callback executor (or here, on an SDK thread, without one). */
    internal fun deliver(block: () -> Unit) {
        val ex = executor
        if (ex == null) {
            guarded(block)
        } else {
            try {
                ex.execute { block() }
            } catch (e: RuntimeException) {
                System.err.println("oxim: the callback executor refused a callback: $e")
            }
        }
    }

    private fun guarded(block: () -> Unit) {
        try {
            block()
        } catch (e: Throwable) {
            // An app callback that throws must not take the SDK's thread down.
            System.err.println("oxim: a callback threw: $e")
            e.printStackTrace()
        }
    }

    /** Runs a suspend form for a callback form without a value. */
    internal fun launchVoid(callback: V2TIMCallback?, block: suspend () -> Unit) {
        scope.launch {
            val error = outcome { block() }.exceptionOrNull() as V2TIMException?
            deliver { if (error == null) callback?.onSuccess() else callback?.onError(error.code, error.desc) }
        }
    }

    /**
     * Runs a suspend form for a callback form with a value; [now]: start it on the caller's
     * thread, up to its first suspension (sends: the SDK queues the message there, so messages
     * go in the order of the calls).
     */
    internal fun <T> launchValue(callback: V2TIMValueCallback<T>?, now: Boolean = false, block: suspend () -> T) {
        scope.launch(start = if (now) CoroutineStart.UNDISPATCHED else CoroutineStart.DEFAULT) {
            val result = outcome { block() }
            deliver {
                result.fold(
                    { callback?.onSuccess(it) },
                    { (it as V2TIMException).let { e -> callback?.onError(e.code, e.desc) } },
                )
            }
        }
    }

    private suspend fun <T> outcome(block: suspend () -> T): Result<T> =
        try {
            Result.success(block())
        } catch (e: V2TIMException) {
            Result.failure(e)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            Result.failure(V2TIMException(io.oxim.imsdk.BaseConstants.ERR_SDK_INTERNAL_ERROR, e.toString()))
        }

    /** Registers [listener] (ignoring null) as [kind] of this instance, unless it already is. */
    internal fun <L : Any> addListener(kind: Kind, listener: L?, register: (L) -> Long) {
        if (listener != null) registry.add(kind, listener) { register(listener) }
    }

    /** Removes [listener] (ignoring null) as [kind] of this instance, if it is registered. */
    internal fun removeListener(kind: Kind, listener: Any?) {
        if (listener != null) registry.remove(kind, listener)?.let { ffi.removeListenerHandle(it) }
    }

    // ---- the managers -------------------------------------------------------------------------

    /** This instance's message manager ([getMessageManager] is the default instance's). */
    @get:JvmName("messageManager")
    val messageManager: V2TIMMessageManager by lazy { V2TIMMessageManager(this) }

    /** This instance's group manager. */
    @get:JvmName("groupManager")
    val groupManager: V2TIMGroupManager by lazy { V2TIMGroupManager(this) }

    /** This instance's conversation manager. */
    @get:JvmName("conversationManager")
    val conversationManager: V2TIMConversationManager by lazy { V2TIMConversationManager(this) }

    /** This instance's friendship manager. */
    @get:JvmName("friendshipManager")
    val friendshipManager: V2TIMFriendshipManager by lazy { V2TIMFriendshipManager(this) }

    /** This instance's offline push manager. */
    @get:JvmName("offlinePushManager")
    val offlinePushManager: V2TIMOfflinePushManager by lazy { V2TIMOfflinePushManager(this) }

    /** This instance's signaling manager. */
    @get:JvmName("signalingManager")
    val signalingManager: V2TIMSignalingManager by lazy { V2TIMSignalingManager(this) }

    // ---- init ---------------------------------------------------------------------------------

    /**
     * Starts the SDK for [sdkAppID] (V2TIM's `initSDK(context, sdkAppID, config, listener)`): it
     * connects to the server at once and reports the connection to [listener] and to the
     * listeners added with [addIMSDKListener]. [context] is Android's `Context` (any object on a
     * plain JVM, or null): it gives the default data directory (`getFilesDir()/oxim`) and the
     * server URL (string resource `oxim_server_url`) when [config] sets none. Returns false for
     * bad parameters, which [listener] also hears as `onConnectFailed(6017, reason)`.
     */
    @JvmOverloads
    fun initSDK(context: Any?, sdkAppID: Int, config: V2TIMSDKConfig?, listener: V2TIMSDKListener? = null): Boolean =
        try {
            val cfg = config ?: V2TIMSDKConfig()
            val resolved = cfg.toFfi().copy(
                serverURL = Platform.serverUrl(context, cfg),
                dataDir = Platform.dataDir(context, cfg),
            )
            ffiCall { ffi.initSDK(sdkAppID.toLong(), resolved, listener?.let { V2TIMSDKListenerBridge(this, it) }) }
        } catch (e: V2TIMException) {
            deliver { listener?.onConnectFailed(e.code, e.desc) }
            false
        }

    /** Adds a listener of connection and login events (V2TIM's `addIMSDKListener`). */
    fun addIMSDKListener(listener: V2TIMSDKListener?) =
        addListener(Kind.SDK, listener) { ffi.addSDKListenerHandle(V2TIMSDKListenerBridge(this, it)) }

    /** Removes a listener added with [addIMSDKListener]. */
    fun removeIMSDKListener(listener: V2TIMSDKListener?) = removeListener(Kind.SDK, listener)

    /** The SDK version. */
    fun getVersion(): String = ffi.getVersion()

    /** The server's clock, Unix seconds. */
    fun getServerTime(): Long = ffi.getServerTime()

    /** The logged-in user's id; empty when nobody is logged in. */
    fun getLoginUser(): String = ffi.getLoginUser()

    /** [V2TIM_STATUS_LOGINED], [V2TIM_STATUS_LOGINING] or [V2TIM_STATUS_LOGOUT]. */
    fun getLoginStatus(): Int = ffi.getLoginStatus().value

    /** [getVersion] as a property. */
    @get:JvmSynthetic @get:JvmName("versionProperty")
    val version: String get() = getVersion()

    /** [getServerTime] as a property. */
    @get:JvmSynthetic @get:JvmName("serverTimeProperty")
    val serverTime: Long get() = getServerTime()

    /** [getLoginUser] as a property. */
    @get:JvmSynthetic @get:JvmName("loginUserProperty")
    val loginUser: String get() = getLoginUser()

    /** [getLoginStatus] as a property. */
    @get:JvmSynthetic @get:JvmName("loginStatusProperty")
    val loginStatus: Int get() = getLoginStatus()

    // ---- simple messages ------------------------------------------------------------------------

    /** Adds a text and custom message listener (V2TIM's `addSimpleMsgListener`). */
    fun addSimpleMsgListener(listener: V2TIMSimpleMsgListener?) =
        addListener(Kind.SIMPLE, listener) { ffi.addSimpleMsgListenerHandle(V2TIMSimpleMsgListenerBridge(this, it)) }

    /** Removes a listener added with [addSimpleMsgListener]. */
    fun removeSimpleMsgListener(listener: V2TIMSimpleMsgListener?) = removeListener(Kind.SIMPLE, listener)

    /** Sends a text message to [userID]; returns it with its server seq and time. */
    @JvmSynthetic
    suspend fun sendC2CTextMessage(text: String, userID: String): V2TIMMessage =
        ffiCall { V2TIMMessage.fromFfi(ffi.sendC2CTextMessage(text, userID)) }

    /** Sends a text message to [userID]; returns its msgID at once, the outcome reaches [callback]. */
    fun sendC2CTextMessage(text: String?, userID: String?, callback: V2TIMValueCallback<V2TIMMessage>?): String =
        sendSimple(messageManager.createTextMessage(text), userID, null, V2TIMMessage.V2TIM_PRIORITY_DEFAULT, callback)

    /** Sends custom data to [userID]; returns the sent message. */
    @JvmSynthetic
    suspend fun sendC2CCustomMessage(customData: ByteArray, userID: String): V2TIMMessage =
        ffiCall { V2TIMMessage.fromFfi(ffi.sendC2CCustomMessage(customData, userID)) }

    /** Sends custom data to [userID]; returns its msgID at once, the outcome reaches [callback]. */
    fun sendC2CCustomMessage(customData: ByteArray?, userID: String?, callback: V2TIMValueCallback<V2TIMMessage>?): String =
        sendSimple(messageManager.createCustomMessage(customData), userID, null, V2TIMMessage.V2TIM_PRIORITY_DEFAULT, callback)

    /** Sends a text message to a group ([priority]: `V2TIMMessage.V2TIM_PRIORITY_*`). */
    @JvmSynthetic
    suspend fun sendGroupTextMessage(text: String, groupID: String, priority: Int): V2TIMMessage =
        ffiCall { V2TIMMessage.fromFfi(ffi.sendGroupTextMessage(text, groupID, FfiEnums.V2TIMMessagePriority(priority))) }

    /** Sends a text message to a group; returns its msgID at once, the outcome reaches [callback]. */
    fun sendGroupTextMessage(text: String?, groupID: String?, priority: Int, callback: V2TIMValueCallback<V2TIMMessage>?): String =
        sendSimple(messageManager.createTextMessage(text), null, groupID ?: "", priority, callback)

    /** Sends custom data to a group. */
    @JvmSynthetic
    suspend fun sendGroupCustomMessage(customData: ByteArray, groupID: String, priority: Int): V2TIMMessage =
        ffiCall { V2TIMMessage.fromFfi(ffi.sendGroupCustomMessage(customData, groupID, FfiEnums.V2TIMMessagePriority(priority))) }

    /** Sends custom data to a group; returns its msgID at once, the outcome reaches [callback]. */
    fun sendGroupCustomMessage(customData: ByteArray?, groupID: String?, priority: Int, callback: V2TIMValueCallback<V2TIMMessage>?): String =
        sendSimple(messageManager.createCustomMessage(customData), null, groupID ?: "", priority, callback)

    /** A simple send in V2TIM's callback form: the message is made here, so its id is known at once. */
    private fun sendSimple(msg: V2TIMMessage, userID: String?, groupID: String?, priority: Int, callback: V2TIMValueCallback<V2TIMMessage>?): String {
        launchValue(callback, now = true) { messageManager.sendMessage(msg, if (groupID == null) userID.orEmpty() else null, groupID, priority, false, null) }
        return msg.msgID
    }

    // ---- groups ---------------------------------------------------------------------------------

    /** Adds a group listener (V2TIM's `addGroupListener`). */
    fun addGroupListener(listener: V2TIMGroupListener?) =
        addListener(Kind.GROUP, listener) { groupManager.ffi.addGroupListenerHandle(V2TIMGroupListenerBridge(this, it)) }

    /** Removes a listener added with [addGroupListener]. */
    fun removeGroupListener(listener: V2TIMGroupListener?) = removeListener(Kind.GROUP, listener)

    /** V2TIM's older single group listener: replaces every group listener (null: removes them). */
    @Deprecated("use addGroupListener", ReplaceWith("addGroupListener(listener)"))
    fun setGroupListener(listener: V2TIMGroupListener?) {
        registry.removeAll(Kind.GROUP).forEach { ffi.removeListenerHandle(it) }
        addGroupListener(listener)
    }

    companion object {
        /** Login status: logged in. */
        const val V2TIM_STATUS_LOGINED = 1

        /** Login status: logging in. */
        const val V2TIM_STATUS_LOGINING = 2

        /** Login status: logged out. */
        const val V2TIM_STATUS_LOGOUT = 3

        /** Work group: members invite each other, no applications. */
        const val GROUP_TYPE_WORK = "Work"

        /** Public group: users apply, the owner or an administrator approves. */
        const val GROUP_TYPE_PUBLIC = "Public"

        /** Meeting group: anyone joins; history before joining is visible. */
        const val GROUP_TYPE_MEETING = "Meeting"

        /** Live room: anyone joins, online membership, nothing stored. */
        const val GROUP_TYPE_AVCHATROOM = "AVChatRoom"

        private val defaultInstance by lazy { V2TIMManager(io.oxim.imsdk.v2.ffi.getDefaultManager()) }

        /** The process-wide default instance (V2TIM's `getInstance`). */
        @JvmStatic
        fun getInstance(): V2TIMManager = defaultInstance

        /** The default instance's message manager (V2TIM's static `getMessageManager`). */
        @JvmStatic
        fun getMessageManager(): V2TIMMessageManager = defaultInstance.messageManager

        /** The default instance's group manager. */
        @JvmStatic
        fun getGroupManager(): V2TIMGroupManager = defaultInstance.groupManager

        /** The default instance's conversation manager. */
        @JvmStatic
        fun getConversationManager(): V2TIMConversationManager = defaultInstance.conversationManager

        /** The default instance's signaling manager. */
        @JvmStatic
        fun getSignalingManager(): V2TIMSignalingManager = defaultInstance.signalingManager

        /** The default instance's friendship manager. */
        @JvmStatic
        fun getFriendshipManager(): V2TIMFriendshipManager = defaultInstance.friendshipManager

        /** The default instance's offline push manager. */
        @JvmStatic
        fun getOfflinePushManager(): V2TIMOfflinePushManager = defaultInstance.offlinePushManager
    }
}
