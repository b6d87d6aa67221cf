package io.oxim.imsdk.v2.test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.oxim.imsdk.v2.V2TIMManager;
import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Tencent's documented Android code (TencentStyleJavaApp, only its import changed) runs against a
 * live server: init with a Context, login, simple and advanced messages, the conversation list, a
 * Work group with attributes, an invitation each way. A second user (Peer) plays the other side.
 */
public class TencentStyleJavaTest {
    private static TestServer server;

    @BeforeClass
    public static void start() {
        server = TestServer.start();
    }

    @AfterClass
    public static void stop() {
        server.stop();
    }

    /** Waits for the app to see `wanted` (other events may come first); returns the event. */
    private static String expect(TencentStyleJavaApp app, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            String event = app.events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (event == null) {
                throw new AssertionError("the app never saw '" + wanted + "'");
            }
            if (event.startsWith(wanted)) {
                return event;
            }
        }
    }

    /** Waits for the app to see all of `wanted`, in any order. */
    private static void expectAll(TencentStyleJavaApp app, String... wanted) throws InterruptedException {
        java.util.Set<String> missing = new java.util.HashSet<>(java.util.Arrays.asList(wanted));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!missing.isEmpty()) {
            String event = app.events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (event == null) {
                throw new AssertionError("the app never saw " + missing);
            }
            missing.remove(event);
        }
    }

    @Test
    public void tencentsDocumentedAndroidCodeRunsWithOnlyTheImportChanged() throws Exception {
        File filesDir = Files.createTempDirectory("oxim-java-app").toFile();
        Peer bob = new Peer(server, "java-bob");
        TencentStyleJavaApp app = new TencentStyleJavaApp();

        // init with an Android Context: the server URL comes from its string resource, the data
        // directory from its files directory.
        app.initSDK(Peer.androidContext(filesDir, server.getUrl()), server.getSdkAppID());
        expect(app, "connected");
        app.login("java-alice", server.userSig("java-alice", 86400));
        assertEquals("login ok java-alice true", expect(app, "login ok"));
        assertTrue("the local store lives under Context.getFilesDir()", new File(filesDir, "oxim").isDirectory());

        // Simple messages both ways; the callback form returns the msgID at once.
        app.listenToSimpleMessages();
        String simpleID = app.sendSimpleText("java-bob", "hello bob");
        assertFalse(simpleID.isEmpty());
        assertEquals("simple sent " + simpleID, expect(app, "simple sent"));
        assertEquals("java-alice: hello bob", bob.next(bob.getTexts()));
        bob.sendText("java-alice", "hello alice");
        assertEquals("simple text from java-bob: hello alice", expect(app, "simple text"));

        // Advanced messages: createTextMessage + sendMessage with a V2TIMSendCallback.
        app.listenToAllMessages();
        String msgID = app.sendText("java-bob", "an advanced hello");
        assertFalse(msgID.isEmpty());
        assertEquals("sent " + msgID + " true", expect(app, "sent "));
        assertEquals("java-alice: an advanced hello", bob.next(bob.getTexts()));
        bob.sendText("java-alice", "got it");
        assertEquals("new text from java-bob: got it", expect(app, "new text"));
        app.history("java-bob");
        assertEquals("history 4", expect(app, "history"));

        // The conversation list, then its listener.
        app.loadConversations();
        assertEquals("conversation c2c_java-bob c2c true unread 2", expect(app, "conversation c2c_java-bob"));
        assertEquals("conversations finished true", expect(app, "conversations finished"));
        app.markRead("java-bob");
        expectAll(app, "marked read", "conversation changed c2c_java-bob");

        // A Work group with bob in it, and a group attribute.
        app.createGroupWithAttributes("java-work", "java-bob");
        assertEquals("group created java-work", expect(app, "group created"));
        expect(app, "attributes set");
        assertEquals("java-alice", bob.groupAttributes("java-work").get("mic1"));
        assertTrue(bob.joinedGroupIDs().contains("java-work"));

        // Signaling: the app invites (the inviteID at once) and hears the answer; then bob invites
        // and the app accepts from its listener.
        app.listenToInvitations();
        String inviteID = app.invite("java-bob");
        assertFalse(inviteID.isEmpty());
        expect(app, "invite sent");
        assertEquals(inviteID, bob.next(bob.getInvitations()));
        bob.accept(inviteID);
        assertEquals("invitee accepted " + inviteID + " java-bob", expect(app, "invitee accepted"));
        String bobsCall = bob.invite("java-alice");
        assertEquals("invited by java-bob", expect(app, "invited by"));
        assertEquals("accepted " + bobsCall, expect(app, "accepted"));
        assertEquals(bobsCall + " by java-alice", bob.next(bob.getAccepted()));

        app.logout();
        expect(app, "logged out");
        assertEquals(V2TIMManager.V2TIM_STATUS_LOGOUT, V2TIMManager.getInstance().getLoginStatus());
        bob.close();
    }
}
