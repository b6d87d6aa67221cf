package io.oxim.sample

import io.oxim.imsdk.v2.V2TIMElemType
import io.oxim.imsdk.v2.V2TIMMessageStatus
import java.awt.image.BufferedImage
import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import javax.imageio.ImageIO
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The chat screen between two users: send, receive, progress, history pages, revoke, receipts. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatTest {
    private val server = TestServer.start()
    private val files = Files.createTempDirectory("oxim-sample-chat").toFile()

    @AfterAll fun stop() {
        server.close()
        files.deleteRecursively()
    }

    private fun texts(state: ChatState) = state.items.map { it.message.textElem?.text }

    @Test
    fun `texts both ways show on both screens, in order, with their status`() = runBlocking {
        val alice = ChatModel(server.login("t-alice"), "t-bob", server.scope)
        val bob = ChatModel(server.login("t-bob"), "t-alice", server.scope)
        alice.open().getOrThrow()
        bob.open().getOrThrow()

        // The bubble shows at once, as SENDING (the send is suspended waiting for the server here:
        // started undispatched, it ran up to its first suspension), then as sent with its seq.
        val sending = async(start = CoroutineStart.UNDISPATCHED) { alice.sendText("hi bob") }
        assertTrue(alice.state.value.items.single().isSending)
        val sent = sending.await().getOrThrow()
        assertEquals(V2TIMMessageStatus.V2TIM_MSG_STATUS_SEND_SUCC, sent.status)
        assertEquals(sent, alice.state.value.items.single().message)
        assertTrue(sent.seq > 0)
        assertEquals(listOf("hi bob"), texts(alice.state.value))
        assertTrue(alice.state.value.items.single().isMine)

        bob.state.await("bob got it") { it.items.size == 1 }
        bob.sendText("hi alice").getOrThrow()
        alice.sendText("how are you?").getOrThrow()
        val bobSees = bob.state.await("three messages") { it.items.size == 3 }
        assertEquals(listOf("hi bob", "hi alice", "how are you?"), texts(bobSees))
        assertEquals(listOf(false, true, false), bobSees.items.map { it.isMine })
        val aliceSees = alice.state.await("three messages") { it.items.size == 3 }
        assertEquals(texts(bobSees), texts(aliceSees))
        alice.close()
        bob.close()
    }

    @Test
    fun `an image shows its upload progress, and the peer downloads its thumbnail`() = runBlocking {
        val alice = ChatModel(server.login("i-alice"), "i-bob", server.scope)
        val bobSession = server.login("i-bob")
        val bob = ChatModel(bobSession, "i-alice", server.scope)
        bob.open().getOrThrow()
        val png = File(files, "photo.png")
        ImageIO.write(BufferedImage(1600, 1200, BufferedImage.TYPE_INT_RGB), "png", png)

        val progress = CopyOnWriteArrayList<Int>()
        val watcher = launch(Dispatchers.Default) { alice.state.collect { s -> s.items.firstOrNull()?.uploadProgress?.let { progress += it } } }
        val sending = async(start = CoroutineStart.UNDISPATCHED) { alice.sendImage(png.absolutePath) }
        assertEquals(0, alice.state.value.items.single().uploadProgress)
        val sent = sending.await().getOrThrow()
        watcher.cancel()
        assertEquals(progress.sorted(), progress.toList(), "progress only goes up")
        assertNull(alice.state.value.items.single().uploadProgress, "the bubble drops its bar once sent")
        assertEquals(V2TIMElemType.V2TIM_ELEM_TYPE_IMAGE, sent.elemType)

        val received = bob.state.await("the image") { it.items.isNotEmpty() }.items.single()
        assertEquals(3, received.message.imageElem!!.imageList.size)
        val thumb = bob.downloadThumbnail(received, files).getOrThrow()
        val image = ImageIO.read(thumb)
        assertEquals(198, minOf(image.width, image.height), "the thumbnail's shorter side")
        assertEquals("[Image]", bobSession.preview(received.message))

        // A file that is not there fails at once with V2TIM's code, and nothing is shown.
        val missing = alice.sendImage(File(files, "nope.png").absolutePath).exceptionOrNull() as ImException
        assertEquals(ImError.FILE_NOT_FOUND, missing.error.code)
        assertEquals(1, alice.state.value.items.size)
        alice.close()
        bob.close()
    }

    @Test
    fun `history opens at the newest page and pages back to the first message`() = runBlocking {
        server.login("h-bob").close() // a user exists once logged in (else: 20003)
        val alice = server.login("h-alice")
        val aliceChat = ChatModel(alice, "h-bob", server.scope)
        repeat(25) { aliceChat.sendText("message $it").getOrThrow() }
        aliceChat.close()

        // A new device: the local store is empty, the older pages come from the server.
        val bob = ChatModel(server.login("h-bob", "h-bob-new-phone"), "h-alice", server.scope, pageSize = 10)
        bob.open().getOrThrow()
        assertEquals((15 until 25).map { "message $it" }, texts(bob.state.value))
        assertTrue(bob.state.value.hasOlder)
        bob.loadOlder().getOrThrow()
        assertEquals((5 until 25).map { "message $it" }, texts(bob.state.value))
        bob.loadOlder().getOrThrow()
        assertEquals((0 until 25).map { "message $it" }, texts(bob.state.value))
        assertFalse(bob.state.value.hasOlder)
        val seqs = bob.state.value.items.map { it.message.seq }
        assertEquals(seqs.sorted(), seqs)
        bob.close()
    }

    @Test
    fun `a revoked message shows as revoked on both sides`() = runBlocking {
        val alice = ChatModel(server.login("r-alice"), "r-bob", server.scope)
        val bobSession = server.login("r-bob")
        val bob = ChatModel(bobSession, "r-alice", server.scope)
        bob.open().getOrThrow()
        val oops = alice.sendText("oops, wrong chat").getOrThrow()
        alice.sendText("stays").getOrThrow()
        bob.state.await("both messages") { it.items.size == 2 }

        alice.revoke(oops.msgID).getOrThrow()
        assertTrue(alice.state.value.items.first().isRevoked)
        val bobSees = bob.state.await("revoked") { it.items.first().isRevoked }
        assertFalse(bobSees.items[1].isRevoked)
        assertEquals("A message was revoked", bobSession.preview(bobSees.items.first().message))

        // Only the sender may revoke: bob's try is refused with V2TIM's code and changes nothing.
        val refused = bob.revoke(bobSees.items[1].msgID).exceptionOrNull() as ImException
        assertEquals(10032, refused.error.code)
        alice.close()
        bob.close()
    }

    @Test
    fun `the peer reading the chat marks my messages read, also while the chat stays open`() = runBlocking {
        val bobSession = server.login("rr-bob")
        val alice = ChatModel(server.login("rr-alice"), "rr-bob", server.scope)
        alice.open().getOrThrow()
        alice.sendText("one").getOrThrow()
        alice.sendText("two").getOrThrow()
        assertTrue(alice.state.value.items.none { it.isReadByPeer })

        val bob = ChatModel(bobSession, "rr-alice", server.scope)
        bob.open().getOrThrow() // opening reads: alice gets a receipt
        alice.state.await("both read") { s -> s.items.size == 2 && s.items.all { it.isReadByPeer } }

        // Bob keeps the chat open: a new message is read as it arrives.
        alice.sendText("three").getOrThrow()
        bob.state.await("three") { it.items.size == 3 }
        alice.state.await("three read") { s -> s.items.size == 3 && s.items.all { it.isReadByPeer } }

        // Bob leaves the chat: the next one stays unread.
        bob.isVisible = false
        alice.sendText("four").getOrThrow()
        bob.state.await("four") { it.items.size == 4 }
        val bobsList = ConversationListModel(bobSession)
        bobsList.load().getOrThrow()
        assertEquals(1, bobsList.state.value.conversations.single().unreadCount)
        assertFalse(alice.state.value.items.last().isReadByPeer)
        listOf(alice, bob, bobsList).forEach { it.close() }
    }

    @Test
    fun `a message over the size limit fails with V2TIM's code and stays as failed`() = runBlocking {
        val alice = ChatModel(server.login("f-alice"), "f-bob", server.scope)
        val result = alice.sendText("x".repeat(12 * 1024 + 1))
        assertEquals(ImError.MESSAGE_TOO_LONG, (result.exceptionOrNull() as ImException).error.code)
        val item = alice.state.value.items.single()
        assertTrue(item.isFailed)
        assertEquals(ImError.MESSAGE_TOO_LONG, item.error?.code)
        alice.close()
    }
}
