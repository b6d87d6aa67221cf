package io.oxim.sample.app

import android.graphics.BitmapFactory
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.produceState
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.ImageBitmap
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import io.oxim.sample.CallState
import io.oxim.sample.ChatItem
import io.oxim.sample.ChatModel
import io.oxim.sample.DevUserSig
import io.oxim.sample.EndReason
import io.oxim.sample.preview

@Composable
private fun Header(title: String, vararg actions: Pair<String, () -> Unit>) {
    Row(Modifier.fillMaxWidth().padding(8.dp), verticalAlignment = Alignment.CenterVertically) {
        Text(title, style = MaterialTheme.typography.titleLarge, modifier = Modifier.weight(1f))
        for ((label, action) in actions) TextButton(onClick = action) { Text(label) }
    }
}

@Composable
fun LoginScreen(model: SampleViewModel) {
    // 10.0.2.2 is the host machine seen from the Android emulator (`cargo run -p oxim-server`).
    var server by remember { mutableStateOf("ws://10.0.2.2:8080") }
    var appID by remember { mutableStateOf(DevUserSig.DEV_SDK_APP_ID.toString()) }
    var user by remember { mutableStateOf("") }
    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Oxim sample", style = MaterialTheme.typography.headlineMedium)
        OutlinedTextField(server, { server = it }, label = { Text("Server") }, singleLine = true, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(appID, { appID = it }, label = { Text("SDKAppID") }, singleLine = true, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(user, { user = it }, label = { Text("User ID") }, singleLine = true, modifier = Modifier.fillMaxWidth())
        Button(onClick = { model.login(server.trim(), appID.trim().toInt(), user.trim()) },
            enabled = user.isNotBlank() && appID.trim().toIntOrNull() != null) {
            Text("Log in")
        }
        Text("The UserSig is signed on the phone with the server's development key. " +
            "A real app gets it from its own backend.", style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
fun ConversationListScreen(model: SampleViewModel) {
    val list = model.conversations ?: return
    val session = model.session ?: return
    val state by list.state.collectAsState()
    var peer by remember { mutableStateOf("") }
    var roomID by remember { mutableStateOf("") }
    Column(Modifier.fillMaxSize()) {
        Header("Chats (${state.totalUnread} unread)", "Log out" to { model.logout() })
        Row(Modifier.padding(horizontal = 8.dp), verticalAlignment = Alignment.CenterVertically) {
            OutlinedTextField(peer, { peer = it }, label = { Text("Chat with user ID") }, singleLine = true, modifier = Modifier.weight(1f))
            TextButton(onClick = { model.openChat(peer.trim()) }, enabled = peer.isNotBlank()) { Text("Open") }
        }
        Row(Modifier.padding(horizontal = 8.dp), verticalAlignment = Alignment.CenterVertically) {
            OutlinedTextField(roomID, { roomID = it }, label = { Text("Voice room ID") }, singleLine = true, modifier = Modifier.weight(1f))
            TextButton(onClick = { model.enterRoom(roomID.trim(), asHost = true) }, enabled = roomID.isNotBlank()) { Text("Open") }
            TextButton(onClick = { model.enterRoom(roomID.trim(), asHost = false) }, enabled = roomID.isNotBlank()) { Text("Join") }
        }
        HorizontalDivider()
        LazyColumn(Modifier.fillMaxSize()) {
            items(state.conversations, key = { it.conversationID }) { conversation ->
                Row(
                    Modifier.fillMaxWidth().clickable(enabled = conversation.userID.isNotEmpty()) { model.openChat(conversation.userID) }.padding(16.dp),
                    verticalAlignment = Alignment.CenterVertically,
                ) {
                    Column(Modifier.weight(1f)) {
                        Text((if (conversation.isPinned) "📌 " else "") + conversation.showName.ifEmpty { conversation.userID },
                            style = MaterialTheme.typography.titleMedium)
                        Text(conversation.draftText.ifEmpty { null }?.let { "[Draft] $it" } ?: session.preview(conversation.lastMessage),
                            maxLines = 1, style = MaterialTheme.typography.bodyMedium)
                    }
                    if (conversation.unreadCount > 0) UnreadBadge(conversation.unreadCount)
                }
                HorizontalDivider()
            }
        }
    }
}

@Composable
private fun UnreadBadge(count: Int) {
    Surface(shape = CircleShape, color = MaterialTheme.colorScheme.error) {
        Text(if (count > 99) "99+" else "$count", color = MaterialTheme.colorScheme.onError,
            modifier = Modifier.padding(horizontal = 8.dp, vertical = 2.dp))
    }
}

@Composable
fun ChatScreen(peerUserID: String, model: SampleViewModel) {
    val chat = model.chat ?: return
    val state by chat.state.collectAsState()
    var draft by remember { mutableStateOf("") }
    val pickImage = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        if (uri != null) model.sendImage(uri)
    }
    Column(Modifier.fillMaxSize()) {
        Header(peerUserID, "Audio" to { model.startCall(peerUserID, video = false) },
            "Video" to { model.startCall(peerUserID, video = true) }, "Back" to { model.closeChat() })
        LazyColumn(Modifier.weight(1f).padding(horizontal = 8.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            if (state.hasOlder) item { TextButton(onClick = { model.loadOlder() }) { Text("Earlier messages") } }
            items(state.items, key = { it.msgID }) { item -> Bubble(item, chat, onRevoke = { model.revoke(item.msgID) }) }
        }
        Row(Modifier.padding(8.dp), verticalAlignment = Alignment.CenterVertically) {
            TextButton(onClick = { pickImage.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) }) {
                Text("Image")
            }
            OutlinedTextField(draft, { draft = it }, modifier = Modifier.weight(1f))
            TextButton(onClick = { model.send(draft); draft = "" }, enabled = draft.isNotBlank()) { Text("Send") }
        }
    }
}

@Composable
private fun Bubble(item: ChatItem, chat: ChatModel, onRevoke: () -> Unit) {
    Row(Modifier.fillMaxWidth(), horizontalArrangement = if (item.isMine) Arrangement.End else Arrangement.Start) {
        Card(Modifier.padding(2.dp)) {
            Column(Modifier.padding(10.dp)) {
                when {
                    item.isRevoked -> Text(if (item.isMine) "You revoked a message" else "A message was revoked")
                    item.message.imageElem != null -> Thumbnail(item, chat)
                    else -> Text(item.message.textElem?.text ?: "[${item.message.elemType}]")
                }
                item.uploadProgress?.let { LinearProgressIndicator(progress = { it / 100f }, modifier = Modifier.width(160.dp)) }
                if (item.isMine && !item.isRevoked) {
                    Row(verticalAlignment = Alignment.CenterVertically) {
                        Text(
                            when {
                                item.isSending -> "Sending…"
                                item.isFailed -> "Not sent (${item.error?.code})"
                                item.isReadByPeer -> "Read"
                                else -> "Sent"
                            },
                            style = MaterialTheme.typography.labelSmall,
                        )
                        Spacer(Modifier.width(8.dp))
                        if (!item.isSending && !item.isFailed) {
                            Text("Revoke", style = MaterialTheme.typography.labelSmall, color = MaterialTheme.colorScheme.primary,
                                modifier = Modifier.clickable(onClick = onRevoke))
                        }
                    }
                }
            }
        }
    }
}

/** The image's thumbnail, downloaded once into the app's cache. */
@Composable
private fun Thumbnail(item: ChatItem, chat: ChatModel) {
    val cacheDir = LocalContext.current.cacheDir
    val bitmap by produceState<ImageBitmap?>(null, item.msgID, item.isSending) {
        // A picture still being sent shows from its local file; a received one is downloaded.
        val local = item.message.imageElem?.path?.takeIf { it.isNotEmpty() && java.io.File(it).exists() }
        val file = local?.let { java.io.File(it) } ?: chat.downloadThumbnail(item, cacheDir).getOrNull()
        value = file?.let { BitmapFactory.decodeFile(it.path)?.asImageBitmap() }
    }
    bitmap?.let { Image(it, contentDescription = "image", modifier = Modifier.size(160.dp)) } ?: Text("[Image]")
}

@Composable
fun CallScreen(call: CallState, model: SampleViewModel) {
    Column(Modifier.fillMaxSize().padding(32.dp), verticalArrangement = Arrangement.spacedBy(16.dp),
        horizontalAlignment = Alignment.CenterHorizontally) {
        when (call) {
            is CallState.Calling -> {
                Text("Calling ${call.callee}…", style = MaterialTheme.typography.headlineSmall)
                OutlinedButton(onClick = { model.cancelCall() }) { Text("Cancel") }
            }
            is CallState.Ringing -> {
                Text("${call.caller} is calling (${if (call.invitation.video) "video" else "audio"})", style = MaterialTheme.typography.headlineSmall)
                Row(horizontalArrangement = Arrangement.spacedBy(16.dp)) {
                    Button(onClick = { model.acceptCall() }) { Text("Accept") }
                    OutlinedButton(onClick = { model.declineCall() }) { Text("Decline") }
                }
            }
            is CallState.InCall -> {
                Text("In a call with ${call.peer}", style = MaterialTheme.typography.headlineSmall)
                // Here the app joins call.invitation.roomID in its RTC service (e.g. TRTC).
                Text("Media room ${call.invitation.roomID}")
                Button(onClick = { model.hangUp() }) { Text("Hang up") }
            }
            is CallState.Ended -> {
                Text(
                    when (call.reason) {
                        EndReason.DECLINED -> if (call.outgoing) "${call.peer} declined" else "You declined"
                        EndReason.BUSY -> "${call.peer} is in another call"
                        EndReason.CANCELLED -> if (call.outgoing) "Call cancelled" else "Missed call from ${call.peer} (cancelled)"
                        EndReason.NO_ANSWER -> if (call.outgoing) "No answer" else "Missed call from ${call.peer}"
                        EndReason.HUNG_UP -> "Call ended"
                        EndReason.FAILED -> "Call failed: ${call.error?.code} ${call.error?.desc}"
                    },
                    style = MaterialTheme.typography.headlineSmall,
                )
                Button(onClick = { model.dismissCall() }) { Text("OK") }
            }
            CallState.Idle -> Unit
        }
    }
}

@Composable
fun VoiceRoomScreen(model: SampleViewModel) {
    val room = model.room ?: return
    val state by room.state.collectAsState()
    Column(Modifier.fillMaxSize()) {
        Header("Room ${state.roomID}", "Leave" to { model.leaveRoom() })
        Text("Tap a free seat to take the mic.", Modifier.padding(horizontal = 16.dp))
        LazyColumn(Modifier.weight(1f).padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            items(state.seats.indices.toList()) { seat ->
                val holder = state.seats[seat]
                Card(Modifier.fillMaxWidth().clickable(enabled = holder == null) { model.takeSeat(seat) }) {
                    Text("Seat ${seat + 1}: ${holder ?: "free"}", Modifier.padding(16.dp))
                }
            }
        }
        if (state.mySeat != null) {
            Button(onClick = { model.leaveSeat() }, modifier = Modifier.padding(16.dp)) { Text("Leave the seat") }
        }
    }
}
