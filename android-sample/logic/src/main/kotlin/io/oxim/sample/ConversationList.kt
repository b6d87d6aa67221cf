package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMConversation
import io.oxim.imsdk.v2.V2TIMException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.flow.launchIn
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.update

/** The conversation list screen: every conversation with its unread count, and the unread total. */
data class ConversationListState(
    /** Pinned first, then by last activity. */
    val conversations: List<V2TIMConversation> = emptyList(),
    /** The badge on the app icon: unread messages of the conversations that notify. */
    val totalUnread: Long = 0,
    /** The list and the total were read from the SDK's store. */
    val loaded: Boolean = false,
    /** Reading them failed (e.g. BaseConstants.ERR_SDK_NOT_LOGGED_IN). */
    val error: V2TIMException? = null,
)

/**
 * The conversation list (V2TIMConversationManager) over the SDK's two Flows:
 * `conversationListFlow()` (the whole list, sorted, after every change) and
 * `totalUnreadMessageCountFlow()`. Each registers a conversation listener while collected and
 * reads the current state after registering, so nothing that happens in between is missed.
 *
 * The SDK computes unread counts from read positions (never by counting up and down), so the
 * numbers shown here are the SDK's, as they are: this model never does arithmetic on them.
 *
 * [scope] collects the Flows for the model's lifetime (the app's `viewModelScope`).
 */
class ConversationListModel(session: ImSession, scope: CoroutineScope) : AutoCloseable {
    private val manager = session.sdk.conversationManager
    private val _state = MutableStateFlow(ConversationListState())
    val state: StateFlow<ConversationListState> = _state.asStateFlow()

    private val collecting = combine(manager.conversationListFlow(), manager.totalUnreadMessageCountFlow()) { list, total ->
        ConversationListState(conversations = list, totalUnread = total, loaded = true)
    }
        .onEach { _state.value = it }
        .catch { e -> if (e is V2TIMException) _state.update { it.copy(error = e) } else throw e }
        .launchIn(scope)

    /** Pins a conversation to the top (synced to the user's other devices); the list moves by itself. */
    suspend fun pin(conversationID: String, pinned: Boolean) = imCall { manager.pinConversation(conversationID, pinned) }

    /** Stops collecting: the Flows remove their listeners. */
    override fun close() {
        collecting.cancel()
    }
}
