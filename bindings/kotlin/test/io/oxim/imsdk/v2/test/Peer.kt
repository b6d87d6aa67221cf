package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import java.io.File
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking

/**
 * The other side of a conversation in the Tencent-style tests: a second user on an SDK instance
 * of its own, driven by the test with blocking calls (usable from Java and Kotlin tests alike).
 */
class Peer(server: TestServer, val userID: String) {
    val sdk: V2TIMManager = server.login(userID, "peer-$userID")

    /** "sender: text" of every text message received. */
    val texts = LinkedBlockingQueue<String>()

    /** inviteIDs of the invitations received. */
    val invitations = LinkedBlockingQueue<String>()

    /** "inviteID by invitee" of the answers to this peer's invitations. */
    val accepted = LinkedBlockingQueue<String>()

    init {
        sdk.messageManager.addAdvancedMsgListener(object : V2TIMAdvancedMsgListener() {
            override fun onRecvNewMessage(msg: V2TIMMessage) {
                if (msg.elemType == V2TIMMessage.V2TIM_ELEM_TYPE_TEXT) texts.add("${msg.sender}: ${msg.textElem.text}")
            }
        })
        sdk.signalingManager.addSignalingListener(object : V2TIMSignalingListener() {
            override fun onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: List<String>, data: String) {
                invitations.add(inviteID)
            }
            override fun onInviteeAccepted(inviteID: String, invitee: String, data: String) {
                accepted.add("$inviteID by $invitee")
            }
        })
    }

    fun sendText(to: String, text: String): String = runBlocking { sdk.sendC2CTextMessage(text, to).msgID }

    fun invite(to: String): String = runBlocking { sdk.signalingManager.invite(to, "{\"call\":\"audio\"}", false, null, 30) }

    fun accept(inviteID: String) = runBlocking { sdk.signalingManager.accept(inviteID, "") }

    fun groupAttributes(groupID: String): Map<String, String> = runBlocking { sdk.groupManager.getGroupAttributes(groupID, null) }

    fun joinedGroupIDs(): List<String> = runBlocking { sdk.groupManager.getJoinedGroupList().map { it.groupID } }

    /** The next element of [queue] within 15 s (the test fails without one). */
    fun <T> next(queue: LinkedBlockingQueue<T>): T = queue.poll(15, TimeUnit.SECONDS) ?: error("$userID: nothing arrived")

    fun close() = sdk.unInitSDK()

    companion object {
        /** An Android Context (the fake of the tests) whose files live in [filesDir] and whose
         * string resource `oxim_server_url` names the server, as an Oxim app would configure it. */
        @JvmStatic
        fun androidContext(filesDir: File, serverUrl: String): android.content.Context {
            val resources = android.content.res.Resources().apply { putString("oxim_server_url", serverUrl) }
            return object : android.content.Context() {
                override fun getFilesDir() = filesDir
                override fun getPackageName() = "io.oxim.test"
                override fun getResources() = resources
            }
        }
    }
}
