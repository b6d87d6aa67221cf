// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

import io.oxim.imsdk.v2.ListenerRegistry.Kind
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.distinctUntilChanged

/**
 * The conversation list and its unread counts (V2TIMConversationManager), read from this
 * device's store. The default instance's is `V2TIMManager.getConversationManager()`.
 */
class V2TIMConversationManager internal constructor(override val sdk: V2TIMManager) : V2TIMConversationManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMConversationManager = sdk.ffi.getConversationManager()

    /** Adds a conversation listener (V2TIM's `addConversationListener`). */
    fun addConversationListener(listener: V2TIMConversationListener?) =
        sdk.addListener(Kind.CONVERSATION, listener) { ffi.addConversationListenerHandle(V2TIMConversationListenerBridge(sdk, it)) }

    /** Removes a listener added with [addConversationListener] or [setConversationListener]. */
    fun removeConversationListener(listener: V2TIMConversationListener?) = sdk.removeListener(Kind.CONVERSATION, listener)

    /** V2TIM's older single conversation listener: replaces every conversation listener. */
    fun setConversationListener(listener: V2TIMConversationListener?) {
        if (listener == null) {
            sdk.registry.removeAll(Kind.CONVERSATION).forEach { ffi.removeListenerHandle(it) }
            return
        }
        sdk.registry.replace(Kind.CONVERSATION, listener) { ffi.setConversationListenerHandle(V2TIMConversationListenerBridge(sdk, listener)) }
    }

    /** The listed ones among up to 100 conversation ids (Tencent's name). */
    @JvmSynthetic
    suspend fun getConversationList(conversationIDList: List<String>): List<V2TIMConversation> =
        getConversationListByConversationIds(conversationIDList)

    /** The listed ones among up to 100 conversation ids, in V2TIM's callback form. */
    fun getConversationList(conversationIDList: List<String>?, callback: V2TIMValueCallback<List<V2TIMConversation>>?) =
        getConversationListByConversationIds(conversationIDList, callback)

    // ---- Kotlin Flows -----------------------------------------------------------------------------

    /**
     * The whole conversation list, pinned first then by last activity, emitted once loaded and
     * again after every change, over a conversation listener that lives while the flow is
     * collected.
     */
    fun conversationListFlow(): Flow<List<V2TIMConversation>> = callbackFlow {
        val byID = LinkedHashMap<String, V2TIMConversation>()
        var loaded = false
        val early = ArrayList<List<V2TIMConversation>>()
        val lock = Any()
        fun publish() {
            trySend(byID.values.sortedByDescending { it.orderKey })
        }
        fun apply(list: List<V2TIMConversation>) {
            synchronized(lock) {
                if (!loaded) {
                    early.add(list) // applied after the first load, which they may postdate
                } else {
                    list.forEach { byID[it.conversationID] = it }
                    publish()
                }
            }
        }
        val listener = object : V2TIMConversationListener() {
            override fun onNewConversation(conversationList: List<V2TIMConversation>) {
                apply(conversationList)
            }
            override fun onConversationChanged(conversationList: List<V2TIMConversation>) {
                apply(conversationList)
            }
        }
        addConversationListener(listener)
        val all = ArrayList<V2TIMConversation>()
        var nextSeq = 0L
        do {
            val page = getConversationList(nextSeq, 100)
            all.addAll(page.conversationList)
            nextSeq = page.nextSeq
        } while (!page.isFinished)
        synchronized(lock) {
            all.forEach { byID[it.conversationID] = it }
            early.forEach { list -> list.forEach { byID[it.conversationID] = it } }
            loaded = true
            publish()
        }
        awaitClose { removeConversationListener(listener) }
    }

    /** The unread total, emitted now and after every change. */
    fun totalUnreadMessageCountFlow(): Flow<Long> = callbackFlow<Long> {
        var loaded = false
        var latest: Long? = null
        val lock = Any()
        val listener = object : V2TIMConversationListener() {
            override fun onTotalUnreadMessageCountChanged(totalUnreadCount: Long) {
                synchronized(lock) {
                    if (loaded) trySend(totalUnreadCount) else latest = totalUnreadCount
                }
            }
        }
        addConversationListener(listener)
        val now = getTotalUnreadMessageCount()
        synchronized(lock) {
            loaded = true
            trySend(latest ?: now) // a change told while reading is newer than what was read
        }
        awaitClose { removeConversationListener(listener) }
    }.distinctUntilChanged()
}
