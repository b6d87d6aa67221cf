package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMConversation
import io.oxim.imsdk.v2.V2TIMConversationListener
import io.oxim.imsdk.v2.addConversationListener
import io.oxim.imsdk.v2.removeConversationListener
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** The conversation list screen: every conversation with its unread count, and the unread total. */
data class ConversationListState(
    /** Pinned first, then by last activity (the SDK's `orderKey`, descending). */
    val conversations: List<V2TIMConversation> = emptyList(),
    /** The badge on the app icon: unread messages of the conversations that notify. */
    val totalUnread: Long = 0,
    /** The first load from the SDK's store finished. */
    val loaded: Boolean = false,
)

/**
 * The conversation list (V2TIMConversationManager), kept current by V2TIMConversationListener.
 *
 * The SDK computes unread counts from read positions (never by counting up and down), so the
 * numbers shown here are the SDK's, as they are: this model never does arithmetic on them.
 */
class ConversationListModel(private val session: ImSession) : AutoCloseable {
    private val manager = session.sdk.getConversationManager()
    private val _state = MutableStateFlow(ConversationListState())
    val state: StateFlow<ConversationListState> = _state.asStateFlow()

    // What the listener told while load() was reading: newer than (or as new as) the page read,
    // so load() must not overwrite it. Guarded by `this`.
    private var loading = false
    private val changedWhileLoading = mutableSetOf<String>()
    private var totalChangedWhileLoading = false

    // Each change arrives once, with the conversation's state after it (on an SDK thread).
    private val listener = object : V2TIMConversationListener() {
        override fun onNewConversation(conversationList: List<V2TIMConversation>) = upsert(conversationList)
        override fun onConversationChanged(conversationList: List<V2TIMConversation>) = upsert(conversationList)
        override fun onTotalUnreadMessageCountChanged(totalUnreadCount: Long) = synchronized(this@ConversationListModel) {
            if (loading) totalChangedWhileLoading = true
            _state.value = _state.value.copy(totalUnread = totalUnreadCount)
        }
    }

    init {
        // Listen first, then read: nothing that happens in between is missed.
        manager.addConversationListener(listener)
    }

    /** Reads the whole list from the SDK's local store, page by page, and the unread total. */
    suspend fun load(pageSize: Int = 100) = imCall {
        synchronized(this) {
            loading = true
            changedWhileLoading.clear()
            totalChangedWhileLoading = false
        }
        try {
            val all = mutableListOf<V2TIMConversation>()
            var nextSeq = 0L
            do {
                val page = manager.getConversationList(nextSeq, pageSize)
                all += page.conversationList
                nextSeq = page.nextSeq
            } while (!page.isFinished)
            val total = manager.getTotalUnreadMessageCount()
            synchronized(this) {
                val current = _state.value
                val fromListener = current.conversations.filter { it.conversationID in changedWhileLoading }
                val read = all.filter { it.conversationID !in changedWhileLoading }
                _state.value = ConversationListState(
                    conversations = sorted(read + fromListener),
                    totalUnread = if (totalChangedWhileLoading) current.totalUnread else total,
                    loaded = true,
                )
            }
        } finally {
            synchronized(this) { loading = false }
        }
    }

    /** Pins a conversation to the top (synced to the user's other devices). */
    suspend fun pin(conversationID: String, pinned: Boolean) = imCall { manager.pinConversation(conversationID, pinned) }

    private fun upsert(changed: List<V2TIMConversation>) = synchronized(this) {
        if (loading) changed.mapTo(changedWhileLoading) { it.conversationID }
        val ids = changed.map { it.conversationID }.toSet()
        val kept = _state.value.conversations.filter { it.conversationID !in ids }
        _state.value = _state.value.copy(conversations = sorted(kept + changed))
    }

    private fun sorted(list: List<V2TIMConversation>) = list.sortedByDescending { it.orderKey }

    override fun close() {
        manager.removeConversationListener(listener)
    }
}
