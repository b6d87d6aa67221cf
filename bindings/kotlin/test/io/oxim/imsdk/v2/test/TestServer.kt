package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.V2TIMManager
import io.oxim.imsdk.v2.V2TIMSDKConfig
import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking

/**
 * A real oxim-server (the binary in $OXIM_SERVER_BIN) on an ephemeral loopback port, with its
 * own data directory, for the Kotlin tests.
 */
class TestServer private constructor(private val process: Process, val address: String, private val dir: File) {
    val url get() = "ws://$address"
    val sdkAppID = 1400000000

    /** A UserSig for [userID], from `oxim-server usersig` (development key). */
    fun userSig(userID: String, expireSeconds: Long = 86400): String {
        val p = ProcessBuilder(bin(), "usersig", "--user", userID, "--expire", expireSeconds.toString())
            .redirectErrorStream(true).start()
        val sig = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) { "usersig failed: $sig" }
        return sig
    }

    /** SDK configuration for a new device (its own data directory) on [platform]. */
    fun config(device: String, platform: String = "android") = V2TIMSDKConfig().apply {
        serverUrl = url
        dataDir = deviceDir(device)
        logLevel = V2TIMSDKConfig.V2TIM_LOG_NONE
        this.platform = platform
    }

    /** The local data directory of [device]. */
    fun deviceDir(device: String): String = File(dir, "devices/$device").absolutePath

    /**
     * A new SDK instance on its own [device], logged in as [user]. [beforeLogin] runs between
     * initSDK and login (for listeners that must hear the first sync).
     */
    fun login(user: String, device: String = user, beforeLogin: (V2TIMManager) -> Unit = {}): V2TIMManager = runBlocking {
        val sdk = V2TIMManager()
        check(sdk.initSDK(null, sdkAppID, config(device)))
        beforeLogin(sdk)
        sdk.login(user, userSig(user))
        sdk
    }

    fun stop() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }

    companion object {
        private fun bin() = System.getenv("OXIM_SERVER_BIN") ?: error("set OXIM_SERVER_BIN to the oxim-server binary")

        @JvmStatic
        fun start(): TestServer {
            val dir = Files.createTempDirectory("oxim-kotlin-test").toFile()
            val process = ProcessBuilder(bin(), "--listen", "127.0.0.1:0", "--data-dir", File(dir, "server").absolutePath)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start()
            val banner = process.inputStream.bufferedReader()
            val first = banner.readLine() ?: error("oxim-server printed nothing")
            // "oxim-server 0.1.0 listening on 127.0.0.1:PORT"
            val address = first.substringAfterLast(' ')
            Thread { runCatching { banner.forEachLine { } } }.apply { isDaemon = true }.start()
            return TestServer(process, address, dir)
        }
    }
}
