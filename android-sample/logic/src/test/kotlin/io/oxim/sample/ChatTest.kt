package io.oxim.sample

import io.oxim.imsdk.BaseConstants
import io.oxim.imsdk.v2.V2TIMMessage
import java.awt.image.BufferedImage
import java.io.File
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import javax.imageio.ImageIO
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
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

    /** What [chat]'s screen shows ([what] of each state), every change: see [Watch]. */
    private fun <T> CoroutineScope.watch(chat: ChatModel, what: (ChatState) -> T) = Watch(this, chat.state, what)

    @Test
    fun `texts both ways show on both screens, in order, with their status`() = runBlocking {
        val alice = ChatModel(server.login("t-alice"), "t-bob")
        val bob = ChatModel(server.login("t-bob"), "t-alice")
        alice.open().getOrThrow()
        bob.open().getOrThrow()

        // The bubble shows at once, as SENDING, then as sent with its seq.
        val watch = watch(alice) { it.items.map { item -> item.status } }
        val sent = alice.sendText("hi bob").getOrThrow()
        val shown = watch.stop()
        assertEquals(listOf(V2TIMMessage.V2TIM_MSG_STATUS_SENDING), shown.first { it.isNotEmpty() })
        assertEquals(V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC, sent.status)
        assertEquals(V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC, alice.state.value.items.single().status)
        assertSame(sent, alice.state.value.items.single().message)
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
        val alice = ChatModel(server.login("i-alice"), "i-bob")
        val bobSession = server.login("i-bob")
        val bob = ChatModel(bobSession, "i-alice")
        bob.open().getOrThrow()
        val png = File(files, "photo.png")
        ImageIO.write(BufferedImage(1600, 1200, BufferedImage.TYPE_INT_RGB), "png", png)

        val watch = watch(alice) { it.items.firstOrNull()?.uploadProgress }
        val sent = alice.sendImage(png.absolutePath).getOrThrow()
        val progress = watch.stop().filterNotNull()
        assertEquals(0, progress.first(), "the bubble shows at once, with an empty bar")
        assertEquals(progress.sorted(), progress, "progress only goes up")
        assertNull(alice.state.value.items.single().uploadProgress, "the bubble drops its bar once sent")
        assertEquals(V2TIMMessage.V2TIM_ELEM_TYPE_IMAGE, sent.elemType)

        val received = bob.state.await("the image") { it.items.isNotEmpty() }.items.single()
        assertEquals(3, received.message.imageElem!!.imageList.size)
        val thumb = bob.downloadThumbnail(received, files).getOrThrow()
        val image = ImageIO.read(thumb)
        assertEquals(198, minOf(image.width, image.height), "the thumbnail's shorter side")
        assertEquals("[Image]", bobSession.preview(received.message))

        // A file that is not there fails at once with V2TIM's code, and nothing is shown.
        val missing = alice.sendImage(File(files, "nope.png").absolutePath)
        assertEquals(BaseConstants.ERR_SDK_COMM_FILE_NOT_FOUND, missing.errorCode)
        assertEquals(1, alice.state.value.items.size)
        alice.close()
        bob.close()
    }

    @Test
    fun `history opens at the newest page and pages back to the first message`() = runBlocking {
        server.login("h-bob").close() // a user exists once logged in (else: 20003)
        val alice = server.login("h-alice")
        val aliceChat = ChatModel(alice, "h-bob")
        repeat(25) { aliceChat.sendText("message $it").getOrThrow() }
        aliceChat.close()

        // A new device: the local store is empty, the older pages come from the server.
        val bob = ChatModel(server.login("h-bob", "h-bob-new-phone"), "h-alice", pageSize = 10)
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
        val alice = ChatModel(server.login("r-alice"), "r-bob")
        val bobSession = server.login("r-bob")
        val bob = ChatModel(bobSession, "r-alice")
        bob.open().getOrThrow()
        val oops = alice.sendText("oops, wrong chat").getOrThrow()
        alice.sendText("stays").getOrThrow()
        bob.state.await("both messages") { it.items.size == 2 }

        alice.revoke(oops.msgID).getOrThrow()
        assertTrue(alice.state.value.items.first().isRevoked)
        val bobSees = bob.state.await("revoked") { it.items.first().isRevoked }
        assertFalse(bobSees.items[1].isRevoked)
        // The SDK's stored copy is revoked too: that is what the conversation list and history show.
        val stored = bobSession.sdk.messageManager.findMessages(listOf(oops.msgID)).single()
        assertEquals("A message was revoked", bobSession.preview(stored))

        // Only the sender may revoke: bob's try is refused with V2TIM's code and changes nothing.
        val refused = bob.revoke(bobSees.items[1].msgID)
        assertEquals(BaseConstants.ERR_SVR_GROUP_REVOKE_MSG_DENY, refused.errorCode)
        assertFalse(alice.state.value.items[1].isRevoked)
        alice.close()
        bob.close()
    }

    @Test
    fun `the peer reading the chat marks my messages read, also while the chat stays open`() = runBlocking {
        val bobSession = server.login("rr-bob")
        val alice = ChatModel(server.login("rr-alice"), "rr-bob")
        alice.open().getOrThrow()
        alice.sendText("one").getOrThrow()
        alice.sendText("two").getOrThrow()
        assertTrue(alice.state.value.items.none { it.isReadByPeer })

        val bob = ChatModel(bobSession, "rr-alice")
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
        val bobsList = ConversationListModel(bobSession, server.scope)
        assertEquals(1, bobsList.state.await("loaded") { it.loaded }.conversations.single().unreadCount)
        assertFalse(alice.state.value.items.last().isReadByPeer)
        listOf(alice, bob, bobsList).forEach { it.close() }
    }

    @Test
    fun `a message over the size limit fails with V2TIM's code and stays as failed`() = runBlocking {
        val alice = ChatModel(server.login("f-alice"), "f-bob")
        val result = alice.sendText("x".repeat(12 * 1024 + 1))
        assertEquals(BaseConstants.ERR_SDK_MSG_BODY_SIZE_LIMIT, result.errorCode)
        val item = alice.state.value.items.single()
        assertTrue(item.isFailed)
        assertEquals(BaseConstants.ERR_SDK_MSG_BODY_SIZE_LIMIT, item.error?.code)
        alice.close()
    }
}

/**
 * Records [what] of every state a screen shows. The collector is resumed in the thread that
 * changes the state (Dispatchers.Unconfined), before the model goes on, so no state is skipped
 * however fast the SDK answers (a StateFlow collected elsewhere may see only the newest).
 */
class Watch<T>(scope: CoroutineScope, state: StateFlow<ChatState>, what: (ChatState) -> T) {
    private val seen = CopyOnWriteArrayList<T>()
    private val job = scope.launch(Dispatchers.Unconfined, start = CoroutineStart.UNDISPATCHED) { state.collect { seen += what(it) } }

    /** Stops recording; returns what was shown, in order. */
    fun stop(): List<T> {
        job.cancel()
        return seen.toList()
    }
}
