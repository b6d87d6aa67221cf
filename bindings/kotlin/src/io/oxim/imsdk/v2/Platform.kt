// Hand-written part of the Android/JVM layer: what the one jar finds out about where it runs.
// Android's classes are reached by reflection, so the same classes run on a plain JVM (and are
// tested there with fake android.os / android.content classes).
package io.oxim.imsdk.v2

import java.io.File
import java.util.concurrent.Executor

internal object Platform {
    /** Posts to Android's main thread when `android.os.Looper` exists; null on a plain JVM. */
    fun mainThreadExecutor(): Executor? =
        try {
            val looperClass = Class.forName("android.os.Looper")
            val mainLooper = looperClass.getMethod("getMainLooper").invoke(null)
            if (mainLooper == null) {
                null
            } else {
                val handler = Class.forName("android.os.Handler").getConstructor(looperClass).newInstance(mainLooper)
                val post = handler.javaClass.getMethod("post", Runnable::class.java)
                Executor { runnable -> post.invoke(handler, runnable) }
            }
        } catch (e: ReflectiveOperationException) {
            null
        } catch (e: RuntimeException) {
            null // Android's stub jar ("Stub!") on a plain JVM
        } catch (e: LinkageError) {
            null
        }

    /**
     * The server: [V2TIMSDKConfig.getServerUrl], else the app's string resource `oxim_server_url`
     * (Android), else the system property `oxim.server.url`, else `$OXIM_SERVER_URL`.
     */
    fun serverUrl(context: Any?, config: V2TIMSDKConfig): String =
        config.serverUrl.ifEmpty { null }
            ?: androidString(context, "oxim_server_url")
            ?: System.getProperty("oxim.server.url")
            ?: System.getenv("OXIM_SERVER_URL")
            ?: throw V2TIMException(
                io.oxim.imsdk.BaseConstants.ERR_INVALID_PARAMETERS,
                "no server URL: set V2TIMSDKConfig.setServerUrl, the string resource oxim_server_url, " +
                    "the system property oxim.server.url or OXIM_SERVER_URL",
            )

    /**
     * The local store: [V2TIMSDKConfig.getDataDir], else `<Context.getFilesDir()>/oxim` (Android),
     * else the system property `oxim.data.dir`, else `~/.oxim`.
     */
    fun dataDir(context: Any?, config: V2TIMSDKConfig): String =
        config.dataDir.ifEmpty { null }
            ?: filesDir(context)?.let { File(it, "oxim").path }
            ?: System.getProperty("oxim.data.dir")
            ?: File(System.getProperty("user.home"), ".oxim").path

    private fun filesDir(context: Any?): File? =
        context?.let { runCatching { it.javaClass.getMethod("getFilesDir").invoke(it) as? File }.getOrNull() }

    private fun androidString(context: Any?, name: String): String? =
        context?.let {
            runCatching {
                val resources = it.javaClass.getMethod("getResources").invoke(it)
                val pkg = it.javaClass.getMethod("getPackageName").invoke(it) as String
                val id = resources.javaClass
                    .getMethod("getIdentifier", String::class.java, String::class.java, String::class.java)
                    .invoke(resources, name, "string", pkg) as Int
                if (id == 0) null else it.javaClass.getMethod("getString", Int::class.javaPrimitiveType).invoke(it, id) as String
            }.getOrNull()?.ifEmpty { null }
        }
}
