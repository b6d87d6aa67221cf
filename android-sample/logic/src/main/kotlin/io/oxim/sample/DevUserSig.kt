package io.oxim.sample

import java.io.ByteArrayOutputStream
import java.util.Base64
import java.util.zip.Deflater
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/**
 * Makes UserSigs on the device, for development only (Tencent's samples call it
 * `GenerateTestUserSig`).
 *
 * A UserSig proves to the server that your backend let this user in: it is signed with the app's
 * secret key, and that key must never ship inside an app. In production your backend signs
 * UserSigs (with Tencent's TLSSigAPIv2 libraries: Oxim uses the same format) and the app asks it
 * for one at login. During development the server's published development key
 * ([DEV_SECRET_KEY], printed by `oxim-server` at start) lets the sample sign its own.
 */
class DevUserSig(private val sdkAppID: Int, private val secretKey: String = DEV_SECRET_KEY) {

    /** A UserSig for [userID], valid for [expireSeconds] from [now] (Unix seconds). */
    fun sign(userID: String, expireSeconds: Long = 7 * 86400, now: Long = System.currentTimeMillis() / 1000): String {
        val signed = "TLS.identifier:$userID\nTLS.sdkappid:$sdkAppID\nTLS.time:$now\nTLS.expire:$expireSeconds\n"
        val mac = Mac.getInstance("HmacSHA256").apply { init(SecretKeySpec(secretKey.toByteArray(), "HmacSHA256")) }
        val sig = Base64.getEncoder().encodeToString(mac.doFinal(signed.toByteArray()))
        val json = """{"TLS.ver":"2.0","TLS.identifier":${jsonString(userID)},"TLS.sdkappid":$sdkAppID,""" +
            """"TLS.time":$now,"TLS.expire":$expireSeconds,"TLS.sig":${jsonString(sig)}}"""
        // zlib, then base64 with the URL-unsafe characters swapped as TLSSigAPIv2 does.
        return Base64.getEncoder().encodeToString(zlib(json.toByteArray()))
            .replace('+', '*').replace('/', '-').replace('=', '_')
    }

    private fun zlib(data: ByteArray): ByteArray {
        val deflater = Deflater().apply { setInput(data); finish() }
        val out = ByteArrayOutputStream()
        val buf = ByteArray(1024)
        while (!deflater.finished()) out.write(buf, 0, deflater.deflate(buf))
        deflater.end()
        return out.toByteArray()
    }

    private fun jsonString(s: String) = buildString {
        append('"')
        for (c in s) when {
            c == '"' || c == '\\' -> append('\\').append(c)
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
        append('"')
    }

    companion object {
        /** The development key every `oxim-server` uses until it is given its own (`--secret-key`). */
        const val DEV_SECRET_KEY = "oxim-dev-secret-key-do-not-use-in-production"
        /** The development SDKAppID of `oxim-server`. */
        const val DEV_SDK_APP_ID = 1400000000
    }
}
