package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMMessage
import io.oxim.imsdk.v2.V2TIMSignalingInfo

/**
 * One line for a message: the conversation list's "last message", and the text of the
 * notification the peer sees when the app is in the background.
 */
fun ImSession.preview(message: V2TIMMessage?): String {
    if (message == null) return ""
    if (message.status == V2TIMMessage.V2TIM_MSG_STATUS_LOCAL_REVOKED) return "A message was revoked"
    // Calls are custom messages that the signaling manager can read.
    val call = sdk.signalingManager.getSignalingInfo(message)
    if (call.inviteID.isNotEmpty()) return callPreview(call.actionType)
    return when (message.elemType) {
        V2TIMMessage.V2TIM_ELEM_TYPE_TEXT -> message.textElem.text
        V2TIMMessage.V2TIM_ELEM_TYPE_IMAGE -> "[Image]"
        V2TIMMessage.V2TIM_ELEM_TYPE_SOUND -> "[Voice]"
        V2TIMMessage.V2TIM_ELEM_TYPE_VIDEO -> "[Video]"
        V2TIMMessage.V2TIM_ELEM_TYPE_FILE -> "[File] " + message.fileElem.fileName
        V2TIMMessage.V2TIM_ELEM_TYPE_LOCATION -> "[Location] " + message.locationElem.desc
        V2TIMMessage.V2TIM_ELEM_TYPE_FACE -> "[Sticker]"
        V2TIMMessage.V2TIM_ELEM_TYPE_MERGER -> "[Chat history] " + message.mergerElem.title
        V2TIMMessage.V2TIM_ELEM_TYPE_GROUP_TIPS -> "[Group notice]"
        // A custom message's description is its push text: a readable summary.
        V2TIMMessage.V2TIM_ELEM_TYPE_CUSTOM -> message.customElem.description.ifEmpty { "[Custom message]" }
        else -> ""
    }
}

private fun callPreview(actionType: Int) = when (actionType) {
    V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_CANCEL_INVITE -> "[Call cancelled]"
    V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_ACCEPT_INVITE -> "[Call answered]"
    V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_REJECT_INVITE -> "[Call declined]"
    V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_INVITE_TIMEOUT -> "[Missed call]"
    else -> "[Call]"
}
