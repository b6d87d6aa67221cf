package io.oxim.sample.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.systemBarsPadding
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.ui.Modifier
import io.oxim.sample.CallState

/** One activity; the view model says which screen shows. A call takes over the whole screen. */
class MainActivity : ComponentActivity() {
    private val model: SampleViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme {
                Surface(Modifier.fillMaxSize().systemBarsPadding()) { SampleApp(model) }
            }
        }
    }
}

@Composable
fun SampleApp(model: SampleViewModel) {
    val call = model.call?.state?.collectAsState()?.value ?: CallState.Idle
    when {
        call != CallState.Idle -> CallScreen(call, model)
        else -> when (val screen = model.screen) {
            Screen.Login -> LoginScreen(model)
            Screen.Conversations -> ConversationListScreen(model)
            is Screen.Chat -> ChatScreen(screen.peerUserID, model)
            is Screen.VoiceRoom -> VoiceRoomScreen(model)
        }
    }
    model.notice?.let { text ->
        AlertDialog(
            onDismissRequest = { model.notice = null },
            confirmButton = { TextButton(onClick = { model.notice = null }) { Text("OK") } },
            text = { Text(text) },
        )
    }
}
