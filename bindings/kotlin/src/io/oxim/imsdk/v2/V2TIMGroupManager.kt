// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

/**
 * Groups, members, applications and group attributes (V2TIMGroupManager); every rule of V2TIM's
 * group-type table is enforced by the server. The default instance's is
 * `V2TIMManager.getGroupManager()`; group listeners are added on the [V2TIMManager].
 */
class V2TIMGroupManager internal constructor(override val sdk: V2TIMManager) : V2TIMGroupManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMGroupManager = sdk.ffi.getGroupManager()
}
