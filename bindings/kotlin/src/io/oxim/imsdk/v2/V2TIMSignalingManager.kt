// Hand-written part of the Android/JVM layer (see V2TIMManager.kt).
package io.oxim.imsdk.v2

import io.oxim.imsdk.v2.ListenerRegistry.Kind

/**
 * Invitations (V2TIMSignalingManager): calls, "raise your hand". The server owns each
 * invitation's state and timeout. The default instance's is `V2TIMManager.getSignalingManager()`.
 */
class V2TIMSignalingManager internal constructor(override val sdk: V2TIMManager) : V2TIMSignalingManagerGenerated() {
    override val ffi: io.oxim.imsdk.v2.ffi.V2TIMSignalingManager = sdk.ffi.getSignalingManager()

    /** Adds a signaling listener (V2TIM's `addSignalingListener`). */
    fun addSignalingListener(listener: V2TIMSignalingListener?) =
        sdk.addListener(Kind.SIGNALING, listener) { ffi.addSignalingListenerHandle(V2TIMSignalingListenerBridge(sdk, it)) }

    /** Removes a listener added with [addSignalingListener]. */
    fun removeSignalingListener(listener: V2TIMSignalingListener?) = sdk.removeListener(Kind.SIGNALING, listener)

    /** Invites [invitee] (C2C); returns the inviteID. [timeout] in seconds, 0 = never. */
    @JvmSynthetic
    suspend fun invite(invitee: String, data: String, onlineUserOnly: Boolean, offlinePushInfo: V2TIMOfflinePushInfo?, timeout: Int): String =
        ffiCall { ffi.invite(invitee, data, onlineUserOnly, offlinePushInfo?.toFfi(), timeout, null) }

    /** Invites [invitee]: returns the inviteID at once, the outcome reaches [callback]. */
    fun invite(invitee: String?, data: String?, onlineUserOnly: Boolean, offlinePushInfo: V2TIMOfflinePushInfo?, timeout: Int, callback: V2TIMCallback?): String {
        val inviteID = ffi.newInviteID()
        sdk.launchVoid(callback) {
            ffiCall { ffi.invite(invitee.orEmpty(), data.orEmpty(), onlineUserOnly, offlinePushInfo?.toFfi(), timeout, inviteID) }
        }
        return inviteID
    }

    /** Invites members of a group (each must be a member; the whole group hears of it). */
    @JvmSynthetic
    suspend fun inviteInGroup(groupID: String, inviteeList: List<String>, data: String, onlineUserOnly: Boolean, timeout: Int): String =
        ffiCall { ffi.inviteInGroup(groupID, inviteeList, data, onlineUserOnly, timeout, null) }

    /** Invites members of a group: returns the inviteID at once, the outcome reaches [callback]. */
    fun inviteInGroup(groupID: String?, inviteeList: List<String>?, data: String?, onlineUserOnly: Boolean, timeout: Int, callback: V2TIMCallback?): String {
        val inviteID = ffi.newInviteID()
        sdk.launchVoid(callback) {
            ffiCall { ffi.inviteInGroup(groupID.orEmpty(), inviteeList.orEmpty(), data.orEmpty(), onlineUserOnly, timeout, inviteID) }
        }
        return inviteID
    }
}
