package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMException
import io.oxim.imsdk.v2.V2TIMManager
import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.fail

/**
 * A real oxim-server (the binary in $OXIM_SERVER_BIN) on an ephemeral loopback port with its own
 * data directory, and the sample's users on it: each an [ImSession] on its own SDK instance and
 * device directory, logged in with a UserSig that [DevUserSig] signed.
 */
class TestServer private constructor(private val process: Process, address: String, private val dir: File) : AutoCloseable {
    val url = "ws://$address"
    val sdkAppID = DevUserSig.DEV_SDK_APP_ID
    private val sessions = mutableListOf<ImSession>()

    /** The conversation lists collect the SDK's Flows here (an app uses viewModelScope). */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    fun settings(device: String, platform: String = "android") =
        ServerSettings(serverUrl = url, sdkAppID = sdkAppID, dataDir = File(dir, "devices/$device").absolutePath, platform = platform)

    /**
     * A new device (its own SDK instance and database), nobody logged in yet. No Android Context
     * on the JVM: the settings name the data directory instead.
     */
    fun device(device: String, platform: String = "android"): ImSession =
        ImSession(settings(device, platform), context = null, sdk = V2TIMManager()).also { synchronized(sessions) { sessions += it } }

    /** [user] logged in on a new device. */
    suspend fun login(user: String, device: String = user, platform: String = "android"): ImSession {
        val session = device(device, platform)
        assertEquals(LoginState.LoggedIn(user), session.login(user, DevUserSig(sdkAppID).sign(user)))
        return session
    }

    override fun close() {
        scope.cancel()
        synchronized(sessions) { sessions.forEach { it.close() } }
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }

    companion object {
        fun start(): TestServer {
            val bin = System.getenv("OXIM_SERVER_BIN") ?: error("set OXIM_SERVER_BIN to the oxim-server binary")
            val dir = Files.createTempDirectory("oxim-sample-test").toFile()
            val process = ProcessBuilder(bin, "--listen", "127.0.0.1:0", "--data-dir", File(dir, "server").absolutePath)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start()
            val out = process.inputStream.bufferedReader()
            // "oxim-server 0.1.0 listening on 127.0.0.1:PORT"
            val address = (out.readLine() ?: error("oxim-server printed nothing")).substringAfterLast(' ')
            Thread { runCatching { out.forEachLine { } } }.apply { isDaemon = true }.start()
            return TestServer(process, address, dir)
        }
    }
}

/** V2TIM's error code of a failed call. */
val Result<*>.errorCode: Int get() = (exceptionOrNull() as V2TIMException).code

/** Waits (with a deadline) until the state satisfies [predicate]; fails with the last state otherwise. */
suspend fun <T> StateFlow<T>.await(what: String, timeout: Duration = 15.seconds, predicate: (T) -> Boolean): T =
    withTimeoutOrNull(timeout) { first(predicate) } ?: fail("timed out waiting for $what; the state is $value")
