// FFI cost from Kotlin on the JVM (JNA): the time of a synchronous call through the public
// Android API (getVersion, getLoginUser: the Kotlin layer over the generated bindings), and of one
// listener callback from Rust into a Kotlin listener (through the layer's bridge, delivered
// directly on the SDK's event thread: no Android main thread on a plain JVM).
//
// Callbacks: the receiving SDK instance has LISTENERS simple-message listeners; the event thread
// calls them one after the other for each message, so the spread of their timestamps within one
// message, divided by LISTENERS - 1, is the cost of one callback, free of network and store time.
//
// Environment: OXIM_SERVER_BIN, OXIM_FFI_CALLS, OXIM_FFI_LISTENERS, OXIM_FFI_MSGS, OXIM_FFI_LIB.
// Prints key=value lines.

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess

const val SDK_APP_ID = 1400000000

class Stamp(private val log: ConcurrentLinkedQueue<Pair<String, Long>>) : V2TIMSimpleMsgListener() {
    override fun onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {
        log.add(text to System.nanoTime())
    }
}

fun env(name: String, default: Int) = System.getenv(name)?.toInt() ?: default

fun perCall(n: Int, f: () -> Unit): Double {
    // JIT warm-up, then the timed calls.
    repeat(minOf(n, 10_000)) { f() }
    val start = System.nanoTime()
    repeat(n) { f() }
    return (System.nanoTime() - start).toDouble() / n
}

fun main() {
    val calls = env("OXIM_FFI_CALLS", 100_000)
    val listeners = env("OXIM_FFI_LISTENERS", 50)
    val msgs = env("OXIM_FFI_MSGS", 200)
    val bin = System.getenv("OXIM_SERVER_BIN") ?: error("set OXIM_SERVER_BIN")
    val root = Files.createTempDirectory("oxim-ffi-bench").toFile()
    val server = ProcessBuilder(bin, "--listen", "127.0.0.1:0", "--data-dir", File(root, "server").path, "--log", "warn")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start()
    try {
        val banner = server.inputStream.bufferedReader()
        val url = "ws://" + (banner.readLine() ?: error("oxim-server printed nothing")).substringAfterLast(' ')
        Thread { runCatching { banner.forEachLine { } } }.apply { isDaemon = true }.start()
        fun sig(user: String): String {
            val p = ProcessBuilder(bin, "usersig", "--user", user).start()
            val s = p.inputStream.bufferedReader().readText().trim()
            p.waitFor(30, TimeUnit.SECONDS)
            return s
        }
        fun sdk(name: String): V2TIMManager = runBlocking {
            val m = V2TIMManager()
            m.initSDK(null, SDK_APP_ID, V2TIMSDKConfig().apply {
                serverUrl = url
                dataDir = File(root, name).path
                logLevel = V2TIMSDKConfig.V2TIM_LOG_NONE
                platform = "bench"
            })
            m.login(name, sig(name))
            m
        }
        val sender = sdk("ffi-sender")
        val receiver = sdk("ffi-receiver")
        val versionNs = perCall(calls) { sender.getVersion() }
        val loginUserNs = perCall(calls) { sender.getLoginUser() }

        val log = ConcurrentLinkedQueue<Pair<String, Long>>()
        repeat(listeners) { receiver.addSimpleMsgListener(Stamp(log)) }
        runBlocking { repeat(msgs) { sender.sendC2CTextMessage("ffi $it", "ffi-receiver") } }
        val deadline = System.nanoTime() + 60_000_000_000L
        while (log.size < listeners * msgs && System.nanoTime() < deadline) Thread.sleep(10)
        if (log.size != listeners * msgs) {
            System.err.println("FfiBench: ${log.size} of ${listeners * msgs} callbacks arrived")
            exitProcess(1)
        }
        val perCallback = log.groupBy({ it.first }, { it.second })
            .values.map { ts -> (ts.max() - ts.min()).toDouble() / (ts.size - 1) }.sorted()
        val median = perCallback[perCallback.size / 2]
        val p99 = perCallback[minOf(perCallback.size - 1, (0.99 * perCallback.size).toInt())]
        sender.unInitSDK()
        receiver.unInitSDK()
        println("lang=Kotlin/JVM")
        println("lib=${System.getenv("OXIM_FFI_LIB") ?: "?"}")
        println("calls=$calls")
        println("get_version_ns=${versionNs.toLong()}")
        println("get_login_user_ns=${loginUserNs.toLong()}")
        println("callbacks=${listeners * msgs}")
        println("callback_median_ns=${median.toLong()}")
        println("callback_p99_ns=${p99.toLong()}")
    } finally {
        server.destroy()
        server.waitFor(10, TimeUnit.SECONDS)
        root.deleteRecursively()
    }
    exitProcess(0)
}
