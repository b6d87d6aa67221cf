package io.oxim.imsdk.v2.test

import io.oxim.imsdk.v2.*
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.*
import org.junit.BeforeClass
import org.junit.Test
import java.awt.image.BufferedImage
import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO

/** The message manager from Kotlin: text, custom, image with progress, history, revoke. */
class OximMessagesTest {
    companion object {
        lateinit var server: TestServer
        lateinit var alice: V2TIMManager
        lateinit var bob: V2TIMManager

        @BeforeClass @JvmStatic fun start() {
            server = TestServer.start()
            alice = server.login("alice", "m-alice")
            bob = server.login("bob", "m-bob")
        }

        @AfterClass @JvmStatic fun stop() {
            alice.unInitSDK()
            bob.unInitSDK()
            server.stop()
        }
    }

    /** Collects advanced-listener events. */
    class Events : V2TIMAdvancedMsgListener() {
        val messages = LinkedBlockingQueue<V2TIMMessage>()
        val revoked = LinkedBlockingQueue<String>()
        override fun onRecvNewMessage(msg: V2TIMMessage) { messages.add(msg) }
        override fun onRecvMessageRevoked(msgID: String) { revoked.add(msgID) }
    }

    @Test
    fun textCustomAndImageWithProgressThenHistoryAndRevoke(): Unit = runBlocking {
        val events = Events()
        val bobMessages = bob.messageManager
        bobMessages.addAdvancedMsgListener(events)
        val messages = alice.messageManager

        val text = messages.sendMessage(messages.createTextMessage("hi from kotlin"), "bob", null,
            V2TIMMessage.V2TIM_PRIORITY_DEFAULT, false, null)
        assertEquals(V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC, text.status)
        val gotText = events.messages.poll(15, TimeUnit.SECONDS)!!
        assertEquals("hi from kotlin", gotText.textElem?.text)
        assertEquals(V2TIMMessage.V2TIM_ELEM_TYPE_TEXT, gotText.elemType)

        val custom = messages.createCustomMessage(byteArrayOf(9, 8, 7), "a like", "ext".toByteArray())
        messages.sendMessage(custom, "bob", null, V2TIMMessage.V2TIM_PRIORITY_LOW, false, null)
        val gotCustom = events.messages.poll(15, TimeUnit.SECONDS)!!
        assertArrayEquals(byteArrayOf(9, 8, 7), gotCustom.customElem?.data)
        assertEquals("a like", gotCustom.customElem?.description)
        assertEquals("ext", String(gotCustom.customElem.extension))
        assertEquals(V2TIMMessage.V2TIM_PRIORITY_LOW, gotCustom.priority)

        // An image: upload progress to 100, three variants, the download equals the upload.
        val dir = Files.createTempDirectory("oxim-kt-img").toFile()
        val png = File(dir, "photo.png")
        ImageIO.write(BufferedImage(1200, 900, BufferedImage.TYPE_INT_RGB), "png", png)
        val steps = CopyOnWriteArrayList<Int>()
        val sentImage = messages.sendMessage(messages.createImageMessage(png.absolutePath), "bob", null,
            V2TIMMessage.V2TIM_PRIORITY_DEFAULT, false, null) { steps.add(it) }
        assertEquals(100, steps.last())
        assertEquals(steps.sorted(), steps.toList())
        val gotImage = events.messages.poll(15, TimeUnit.SECONDS)!!
        val images = gotImage.imageElem!!.imageList
        assertEquals(3, images.size)
        val large = images.first { it.type == V2TIMImageElem.V2TIM_IMAGE_TYPE_LARGE }
        assertEquals(960, large.width)
        assertEquals(720, large.height)
        val original = images.first { it.type == V2TIMImageElem.V2TIM_IMAGE_TYPE_ORIGIN }
        val downloaded = File(dir, "downloaded.png")
        var lastProgress = 0L to 0L
        bobMessages.downloadImage(original, downloaded.absolutePath) { current, total -> lastProgress = current to total }
        assertArrayEquals(png.readBytes(), downloaded.readBytes())
        assertEquals(original.size.toLong(), lastProgress.second)
        assertEquals(lastProgress.second, lastProgress.first)
        assertEquals(sentImage.msgID, gotImage.msgID)

        // History, newest first, paged by lastMsg.
        val page1 = bobMessages.getC2CHistoryMessageList("alice", 2, null)
        assertEquals(listOf(gotImage.msgID, gotCustom.msgID), page1.map { it.msgID })
        val page2 = bobMessages.getC2CHistoryMessageList("alice", 2, page1.last())
        assertEquals(listOf(gotText.msgID), page2.map { it.msgID })

        // Revoke: bob hears it, his copy is marked.
        messages.revokeMessage(text)
        assertEquals(text.msgID, events.revoked.poll(15, TimeUnit.SECONDS))
        val revoked = bobMessages.findMessages(listOf(text.msgID)).single()
        assertEquals(V2TIMMessage.V2TIM_MSG_STATUS_LOCAL_REVOKED, revoked.status)

        // A bad path is an exception with V2TIM's code.
        val missing = assertThrows(V2TIMException::class.java) { messages.createImageMessage("/no/such/file.png") }
        assertEquals(7004, missing.code)
        bobMessages.removeAdvancedMsgListener(events)
        dir.deleteRecursively()
    }
}
