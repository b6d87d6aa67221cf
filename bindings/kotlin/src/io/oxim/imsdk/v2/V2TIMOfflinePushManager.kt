// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

/**
 * Offline push (V2TIMOfflinePushManager): the device's push registration and its app state.
 * Call setOfflinePushConfig after every login, doBackground/doForeground as the app changes
 * state. The default instance's is `V2TIMManager.getOfflinePushManager()`.
 */
class V2TIMOfflinePushManager internal constructor(override val sdk: V2TIMManager) : V2TIMOfflinePushManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMOfflinePushManager = sdk.ffi.getOfflinePushManager()
}
