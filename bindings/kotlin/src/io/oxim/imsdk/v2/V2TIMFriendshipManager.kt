// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

import io.oxim.imsdk.v2.ListenerRegistry.Kind

/**
 * The relationship chain (V2TIMFriendshipManager): friends, friend applications, the blacklist,
 * friend groups. The server decides every rule. The default instance's is
 * `V2TIMManager.getFriendshipManager()`.
 */
class V2TIMFriendshipManager internal constructor(override val sdk: V2TIMManager) : V2TIMFriendshipManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMFriendshipManager = sdk.ffi.getFriendshipManager()

    /** Adds a friendship listener (V2TIM's `addFriendListener`). */
    fun addFriendListener(listener: V2TIMFriendshipListener?) =
        sdk.addListener(Kind.FRIENDSHIP, listener) { ffi.addFriendListenerHandle(V2TIMFriendshipListenerBridge(sdk, it)) }

    /** Removes a listener added with [addFriendListener] or [setFriendListener]. */
    fun removeFriendListener(listener: V2TIMFriendshipListener?) = sdk.removeListener(Kind.FRIENDSHIP, listener)

    /** V2TIM's older single friendship listener: replaces every friendship listener (null removes them). */
    fun setFriendListener(listener: V2TIMFriendshipListener?) {
        if (listener == null) {
            sdk.registry.removeAll(Kind.FRIENDSHIP).forEach { ffi.removeListenerHandle(it) }
            return
        }
        sdk.registry.replace(Kind.FRIENDSHIP, listener) { ffi.setFriendListenerHandle(V2TIMFriendshipListenerBridge(sdk, listener)) }
    }
}
