package io.oxim.imsdk.v2.test

import android.content.Context
import io.oxim.imsdk.v2.* // Tencent: import com.tencent.imsdk.v2.*  -- the only change
import java.util.concurrent.LinkedBlockingQueue

/**
 * An app's IM code in Kotlin, written the way Kotlin code against Tencent's Android SDK is written
 * (Tencent's snippets in Kotlin, overrides as Android Studio generates them from Tencent's Java
 * classes: nullable parameters and `MutableList`s, or plain ones; getters as properties), compiled
 * against Oxim with only the import above changed. What the app sees goes to [events].
 */
class TencentStyleKotlinApp {
    /** What the app saw, in order. */
    val events = LinkedBlockingQueue<String>()

    private var advancedMsgListener: V2TIMAdvancedMsgListener? = null
    private var signalingListener: V2TIMSignalingListener? = null
    private var groupListener: V2TIMGroupListener? = null

    fun initSDK(context: Context, sdkAppID: Int) {
        val config = V2TIMSDKConfig()
        config.logLevel = V2TIMSDKConfig.V2TIM_LOG_INFO
        V2TIMManager.getInstance().initSDK(context, sdkAppID, config, object : V2TIMSDKListener() {
            override fun onConnecting() {
                events.add("connecting")
            }

            override fun onConnectSuccess() {
                events.add("connected")
            }

            override fun onConnectFailed(code: Int, error: String?) {
                events.add("connect failed $code")
            }

            override fun onKickedOffline() {
                events.add("kicked")
            }
        })
    }

    fun login(userID: String, userSig: String) {
        V2TIMManager.getInstance().login(userID, userSig, object : V2TIMCallback {
            override fun onSuccess() {
                val manager = V2TIMManager.getInstance()
                events.add("login ok ${manager.loginUser} ${manager.loginStatus == V2TIMManager.V2TIM_STATUS_LOGINED}")
            }

            override fun onError(code: Int, desc: String?) {
                events.add("login failed $code")
            }
        })
    }

    fun sendSimpleText(userID: String, text: String): String =
        V2TIMManager.getInstance().sendC2CTextMessage(text, userID, object : V2TIMValueCallback<V2TIMMessage> {
            override fun onSuccess(t: V2TIMMessage?) {
                events.add("simple sent ${t?.msgID}")
            }

            override fun onError(code: Int, desc: String?) {
                events.add("simple send failed $code")
            }
        })

    fun listenToAllMessages() {
        val listener = object : V2TIMAdvancedMsgListener() {
            override fun onRecvNewMessage(msg: V2TIMMessage?) {
                val message = msg ?: return
                when (message.elemType) {
                    V2TIMMessage.V2TIM_ELEM_TYPE_TEXT -> events.add("new text from ${message.sender}: ${message.textElem.text}")
                    V2TIMMessage.V2TIM_ELEM_TYPE_CUSTOM -> events.add("new custom from ${message.sender}: ${String(message.customElem.data)}")
                    V2TIMMessage.V2TIM_ELEM_TYPE_GROUP_TIPS -> events.add("tips ${message.groupTipsElem.type}")
                }
            }

            override fun onRecvC2CReadReceipt(receiptList: MutableList<V2TIMMessageReceipt>?) {
                receiptList?.forEach { events.add("read by ${it.userID}") }
            }
        }
        advancedMsgListener = listener
        V2TIMManager.getMessageManager().addAdvancedMsgListener(listener)
    }

    fun sendCustom(userID: String, data: String): String {
        val v2TIMMessage = V2TIMManager.getMessageManager().createCustomMessage(data.toByteArray())
        return V2TIMManager.getMessageManager().sendMessage(v2TIMMessage, userID, null, V2TIMMessage.V2TIM_PRIORITY_DEFAULT,
            false, null, object : V2TIMSendCallback<V2TIMMessage> {
                override fun onProgress(progress: Int) {}

                override fun onSuccess(message: V2TIMMessage) {
                    events.add("sent ${message.msgID} ${message.status == V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC} seq ${message.seq}")
                }

                override fun onError(code: Int, desc: String) {
                    events.add("send failed $code $desc")
                }
            })
    }

    fun loadConversations() {
        V2TIMManager.getConversationManager().getConversationList(0, 50, object : V2TIMValueCallback<V2TIMConversationResult> {
            override fun onSuccess(result: V2TIMConversationResult) {
                for (conversation in result.conversationList) {
                    events.add("conversation ${conversation.conversationID} unread ${conversation.unreadCount}")
                }
                events.add("conversations finished ${result.isFinished}")
            }

            override fun onError(code: Int, desc: String?) {
                events.add("conversations failed $code")
            }
        })
        V2TIMManager.getConversationManager().getTotalUnreadMessageCount(object : V2TIMValueCallback<Long> {
            override fun onSuccess(t: Long?) {
                events.add("total unread $t")
            }

            override fun onError(code: Int, desc: String?) {}
        })
    }

    fun createGroupWithAttributes(groupName: String, member: String) {
        groupListener = object : V2TIMGroupListener() {
            override fun onGroupAttributeChanged(groupID: String?, groupAttributeMap: MutableMap<String, String>?) {
                events.add("attributes of $groupID: ${groupAttributeMap?.toSortedMap()}")
            }
        }
        V2TIMManager.getInstance().addGroupListener(groupListener)
        val v2TIMGroupInfo = V2TIMGroupInfo()
        v2TIMGroupInfo.groupName = groupName
        v2TIMGroupInfo.groupType = V2TIMManager.GROUP_TYPE_WORK
        val memberInfo = V2TIMCreateGroupMemberInfo()
        memberInfo.userID = member
        V2TIMManager.getGroupManager().createGroup(v2TIMGroupInfo, listOf(memberInfo), object : V2TIMValueCallback<String> {
            override fun onSuccess(groupID: String) {
                events.add("group created")
                V2TIMManager.getGroupManager().initGroupAttributes(groupID, hashMapOf("seat1" to "", "seat2" to ""), object : V2TIMCallback {
                    override fun onSuccess() {
                        V2TIMManager.getGroupManager().setGroupAttributes(groupID, hashMapOf("seat1" to "kt-alice"), object : V2TIMCallback {
                            override fun onSuccess() {
                                events.add("attributes set")
                            }

                            override fun onError(code: Int, desc: String?) {
                                events.add("attributes failed $code")
                            }
                        })
                    }

                    override fun onError(code: Int, desc: String?) {
                        events.add("attributes failed $code")
                    }
                })
            }

            override fun onError(code: Int, desc: String?) {
                events.add("create group failed $code $desc")
            }
        })
    }

    fun listenToInvitations() {
        val listener = object : V2TIMSignalingListener() {
            override fun onReceiveNewInvitation(inviteID: String?, inviter: String?, groupID: String?, inviteeList: MutableList<String>?, data: String?) {
                events.add("invited by $inviter")
                V2TIMManager.getSignalingManager().accept(inviteID, "", object : V2TIMCallback {
                    override fun onSuccess() {
                        events.add("accepted $inviteID")
                    }

                    override fun onError(code: Int, desc: String?) {
                        events.add("accept failed $code")
                    }
                })
            }

            override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) {
                events.add("invitee accepted $inviteID $invitee")
            }
        }
        signalingListener = listener
        V2TIMManager.getSignalingManager().addSignalingListener(listener)
    }

    fun invite(userID: String): String =
        V2TIMManager.getSignalingManager().invite(userID, "{\"call\":\"video\"}", false, null, 30, object : V2TIMCallback {
            override fun onSuccess() {
                events.add("invite sent")
            }

            override fun onError(code: Int, desc: String?) {
                events.add("invite failed $code")
            }
        })

    fun logout() {
        V2TIMManager.getMessageManager().removeAdvancedMsgListener(advancedMsgListener)
        V2TIMManager.getSignalingManager().removeSignalingListener(signalingListener)
        V2TIMManager.getInstance().removeGroupListener(groupListener)
        V2TIMManager.getInstance().logout(object : V2TIMCallback {
            override fun onSuccess() {
                events.add("logged out")
                V2TIMManager.getInstance().unInitSDK()
            }

            override fun onError(code: Int, desc: String?) {
                events.add("logout failed $code")
            }
        })
    }
}
