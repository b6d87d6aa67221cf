// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

/**
 * A failed call of a `suspend` form: [code] is V2TIM's error code (`BaseConstants.ERR_*`: 6014
 * not logged in, 6017 invalid parameter, 70001 UserSig expired, ...), [desc] says what went
 * wrong. The callback forms report the same pair through `onError(code, desc)`.
 */
class V2TIMException(val code: Int, val desc: String) : RuntimeException("$code: $desc")

/** Runs a call of the UniFFI layer, turning its error into [V2TIMException]. */
internal inline fun <T> ffiCall(block: () -> T): T =
    try {
        block()
    } catch (e: io.oxim.imsdk.v2.ffi.V2TIMException.Failure) {
        throw V2TIMException(e.code, e.desc)
    }

/** A required argument a Java caller passed as null: V2TIM's 6017 (invalid parameter). */
internal fun <T : Any> required(value: T?, name: String): T =
    value ?: throw V2TIMException(io.oxim.imsdk.BaseConstants.ERR_INVALID_PARAMETERS, "$name is null")
