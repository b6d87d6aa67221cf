package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMElemType
import io.oxim.imsdk.v2.V2TIMMessage
import io.oxim.imsdk.v2.V2TIMMessageStatus
import io.oxim.imsdk.v2.V2TIMSignalingActionType

/**
 * One line for a message: the conversation list's "last message", and the text of the
 * notification the peer sees when the app is in the background.
 */
fun ImSession.preview(message: V2TIMMessage?): String {
    if (message == null) return ""
    if (message.status == V2TIMMessageStatus.V2TIM_MSG_STATUS_LOCAL_REVOKED) return "A message was revoked"
    // Calls are custom messages that the signaling manager can read.
    val call = sdk.getSignalingManager().getSignalingInfo(message)
    if (call.inviteID.isNotEmpty()) return callPreview(call.actionType)
    return when (message.elemType) {
        V2TIMElemType.V2TIM_ELEM_TYPE_TEXT -> message.textElem?.text.orEmpty()
        V2TIMElemType.V2TIM_ELEM_TYPE_IMAGE -> "[Image]"
        V2TIMElemType.V2TIM_ELEM_TYPE_SOUND -> "[Voice]"
        V2TIMElemType.V2TIM_ELEM_TYPE_VIDEO -> "[Video]"
        V2TIMElemType.V2TIM_ELEM_TYPE_FILE -> "[File] " + message.fileElem?.fileName.orEmpty()
        V2TIMElemType.V2TIM_ELEM_TYPE_LOCATION -> "[Location] " + message.locationElem?.desc.orEmpty()
        V2TIMElemType.V2TIM_ELEM_TYPE_FACE -> "[Sticker]"
        V2TIMElemType.V2TIM_ELEM_TYPE_MERGER -> "[Chat history] " + message.mergerElem?.title.orEmpty()
        V2TIMElemType.V2TIM_ELEM_TYPE_GROUP_TIPS -> "[Group notice]"
        // A custom message's description is its push text: a readable summary.
        V2TIMElemType.V2TIM_ELEM_TYPE_CUSTOM -> message.customElem?.desc?.ifEmpty { null } ?: "[Custom message]"
        else -> ""
    }
}

private fun callPreview(action: V2TIMSignalingActionType) = when (action) {
    V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_CANCEL_INVITE -> "[Call cancelled]"
    V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_ACCEPT_INVITE -> "[Call answered]"
    V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_REJECT_INVITE -> "[Call declined]"
    V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_INVITE_TIMEOUT -> "[Missed call]"
    else -> "[Call]"
}
