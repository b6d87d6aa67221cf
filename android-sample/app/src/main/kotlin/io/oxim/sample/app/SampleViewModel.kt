package io.oxim.sample.app

import android.app.Application
import android.net.Uri
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import io.oxim.sample.CallInvitation
import io.oxim.sample.CallModel
import io.oxim.sample.ChatModel
import io.oxim.sample.ConversationListModel
import io.oxim.sample.DevUserSig
import io.oxim.sample.ImSession
import io.oxim.sample.LoginState
import io.oxim.sample.SeatResult
import io.oxim.sample.ServerSettings
import io.oxim.sample.VoiceRoomModel
import java.io.File
import kotlinx.coroutines.launch

/** Which screen is shown. */
sealed interface Screen {
    data object Login : Screen
    data object Conversations : Screen
    data class Chat(val peerUserID: String) : Screen
    data class VoiceRoom(val roomID: String) : Screen
}

/**
 * Holds the sample's models for the activity's lifetime (they survive rotation) and runs their
 * SDK calls in viewModelScope. Everything the screens show comes from the models' StateFlows.
 */
class SampleViewModel(app: Application) : AndroidViewModel(app) {
    var screen by mutableStateOf<Screen>(Screen.Login)
        private set
    /** A one-line message for the user (a failed call to the SDK, a seat someone else took). */
    var notice by mutableStateOf<String?>(null)

    var session: ImSession? = null
        private set
    var conversations: ConversationListModel? = null
        private set
    var call: CallModel? = null
        private set
    var chat: ChatModel? = null
        private set
    var room: VoiceRoomModel? = null
        private set

    /**
     * initSDK (once per process, on V2TIMManager.getInstance(), with the Application context: the
     * SDK keeps its database under filesDir), then login. The UserSig is signed here with the
     * development key: a real app gets it from its backend.
     */
    fun login(serverUrl: String, sdkAppID: Int, userID: String) {
        viewModelScope.launch {
            val settings = ServerSettings(serverUrl, sdkAppID)
            val current = session?.takeIf { it.settings == settings } ?: run {
                session?.close() // unInitSDK before initSDK with other settings (the same default instance)
                ImSession(settings, getApplication<Application>()).also { session = it }
            }
            when (val result = current.login(userID, DevUserSig(sdkAppID).sign(userID))) {
                is LoginState.LoggedIn -> {
                    conversations = ConversationListModel(current, viewModelScope)
                    call = CallModel(current)
                    screen = Screen.Conversations
                }
                is LoginState.Failed -> notice = "Login failed: ${result.error.code} ${result.error.desc}"
                else -> Unit
            }
        }
    }

    fun logout() {
        viewModelScope.launch {
            listOfNotNull(chat, room, conversations, call).forEach { it.close() }
            chat = null; room = null; conversations = null; call = null
            session?.logout()
            screen = Screen.Login
        }
    }

    fun openChat(peerUserID: String) {
        val session = session ?: return
        chat?.close()
        chat = ChatModel(session, peerUserID).also { model -> viewModelScope.launch { model.open() } }
        screen = Screen.Chat(peerUserID)
    }

    fun closeChat() {
        chat?.close()
        chat = null
        screen = Screen.Conversations
    }

    fun send(text: String) {
        viewModelScope.launch {
            chat?.sendText(text)?.onFailure { notice = it.message }
        }
    }

    /** Copies a picked image into the cache (the SDK reads a file path), then sends it. */
    fun sendImage(uri: Uri) {
        viewModelScope.launch {
            val app = getApplication<Application>()
            val file = File(app.cacheDir, "pick-${System.currentTimeMillis()}.jpg")
            app.contentResolver.openInputStream(uri)?.use { input -> file.outputStream().use { input.copyTo(it) } }
            chat?.sendImage(file.path)?.onFailure { notice = it.message }
        }
    }

    fun loadOlder() { viewModelScope.launch { chat?.loadOlder() } }

    fun revoke(msgID: String) {
        viewModelScope.launch {
            chat?.revoke(msgID)?.onFailure { notice = it.message }
        }
    }

    fun startCall(peerUserID: String, video: Boolean) {
        // Your RTC service's room for the media; any number both sides agree on.
        val invitation = CallInvitation(roomID = (100_000..999_999).random(), video = video)
        call?.call(peerUserID, invitation) // a failure shows on the call screen
    }

    fun acceptCall() { viewModelScope.launch { call?.accept() } }
    fun declineCall() { viewModelScope.launch { call?.decline() } }
    fun cancelCall() { viewModelScope.launch { call?.cancel() } }
    fun hangUp() { call?.hangUp() }
    fun dismissCall() { call?.dismiss() }

    /** Opens (as host) or joins a voice room. */
    fun enterRoom(roomID: String, asHost: Boolean) {
        viewModelScope.launch {
            val session = session ?: return@launch
            if (asHost) {
                VoiceRoomModel.open(session, roomID, "$roomID (voice)", seatCount = 8).onFailure { notice = it.message; return@launch }
            }
            val model = VoiceRoomModel(session, roomID)
            model.join().onFailure { model.close(); notice = it.message; return@launch }
            room = model
            screen = Screen.VoiceRoom(roomID)
        }
    }

    fun takeSeat(seat: Int) {
        viewModelScope.launch {
            notice = when (val result = room?.take(seat)) {
                is SeatResult.Occupied -> "Seat ${seat + 1} is ${result.holder}'s"
                is SeatResult.LostRace -> "${result.winner} sat down on seat ${seat + 1} first"
                is SeatResult.Failed -> "Could not sit: ${result.error.code} ${result.error.desc}"
                else -> null
            }
        }
    }

    fun leaveSeat() { viewModelScope.launch { room?.leaveSeat() } }

    fun leaveRoom() {
        viewModelScope.launch {
            room?.leave()
            room?.close()
            room = null
            screen = Screen.Conversations
        }
    }

    override fun onCleared() {
        listOfNotNull(chat, room, conversations, call).forEach { it.close() }
    }
}
