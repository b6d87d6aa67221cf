import Foundation
import OximSDK
import XCTest
@testable import OximSampleLogic

/// The sample's flows against a live oxim-server, two or three users each (the same flows the
/// Android sample's logic tests cover; these run in CI on macOS: .github/workflows/ios.yml).
final class SampleFlowTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        server?.stop()
    }

    func testLoginIsRefusedWithAForgedUserSigAndKickedBySecondPhone() async throws {
        let mallory = try ImSession(settings: server.settings(device: "mallory"), sdk: .init())
        let forged = await mallory.login(userID: "mallory", userSig: DevUserSig(sdkAppID: server.sdkAppID, secretKey: "wrong").sign("mallory"))
        guard case let .failed(_, error) = forged else { return XCTFail("\(forged)") }
        XCTAssertEqual(error.code, ERR_SVR_ACCOUNT_USERSIG_MISMATCH_PUBLICKEY)
        mallory.close()

        let phone = try await server.login("dave", device: "dave-phone")
        _ = try await server.login("dave", device: "dave-new-phone")
        await waitFor(phone.login, "kicked") { $0 == .kickedOffline(userID: "dave") }
    }

    func testChatAndConversationList() async throws {
        let alice = ChatModel(session: try await server.login("alice"), peerUserID: "bob")
        let bobSession = try await server.login("bob")
        let list = ConversationListModel(session: bobSession)
        try await list.load()

        try await alice.sendText("one")
        try await alice.sendText("two")
        // The total and each row are told on their own: wait for both.
        let shown = await waitFor(list.state, "2 unread") { $0.totalUnread == 2 && $0.conversations.first?.unreadCount == 2 }
        XCTAssertEqual(shown.conversations.map(\.conversationID), ["c2c_alice"])
        XCTAssertEqual(bobSession.preview(shown.conversations.first?.lastMessage), "two")

        // Bob opens the chat: both messages, read; alice sees "Read"; the badge clears.
        let bob = ChatModel(session: bobSession, peerUserID: "alice")
        try await bob.open()
        XCTAssertEqual(bob.state.value.items.map { $0.message.textElem?.text }, ["one", "two"])
        await waitFor(alice.state, "read") { $0.items.count == 2 && $0.items.allSatisfy(\.isReadByPeer) }
        await waitFor(list.state, "0 unread") { $0.totalUnread == 0 && $0.conversations.first?.unreadCount == 0 }

        // Revoke: both sides show it revoked.
        let oops = try await alice.sendText("oops")
        await waitFor(bob.state, "three") { $0.items.count == 3 }
        try await alice.revoke(oops.msgID)
        await waitFor(bob.state, "revoked") { $0.items.last?.isRevoked == true }

        // Too long: failed, with V2TIM's code.
        do {
            try await alice.sendText(String(repeating: "x", count: 12 * 1024 + 1))
            XCTFail("sent a text over the limit")
        } catch let error as ImError {
            XCTAssertEqual(error.code, ERR_SDK_MSG_BODY_SIZE_LIMIT)
        }
        XCTAssertTrue(alice.state.value.items.last?.isFailed == true)
        [alice, bob].forEach { $0.close() }
        list.close()
    }

    func testHistoryPagesOnANewDevice() async throws {
        try await server.login("h-bob").close() // a user exists once logged in (else: 20003)
        let alice = ChatModel(session: try await server.login("h-alice"), peerUserID: "h-bob")
        for i in 0..<12 { try await alice.sendText("message \(i)") }
        let bob = ChatModel(session: try await server.login("h-bob", device: "h-bob-new"), peerUserID: "h-alice", pageSize: 5)
        try await bob.open()
        try await bob.loadOlder()
        try await bob.loadOlder()
        XCTAssertEqual(bob.state.value.items.map { $0.message.textElem?.text ?? "" }, (0..<12).map { "message \($0)" })
        XCTAssertFalse(bob.state.value.hasOlder)
        [alice, bob].forEach { $0.close() }
    }

    func testCallAcceptedDeclinedTimedOutAndBusy() async throws {
        let alice = CallModel(session: try await server.login("c-alice"))
        let bob = CallModel(session: try await server.login("c-bob"))
        let carol = CallModel(session: try await server.login("c-carol"), ringSeconds: 1)

        let inviteID = alice.call("c-bob", invitation: CallInvitation(roomID: 42, video: true))
        await waitFor(bob.state, "ringing") { $0 == .ringing(inviteID: inviteID, caller: "c-alice", invitation: CallInvitation(roomID: 42, video: true)) }
        try await bob.accept()
        await waitFor(alice.state, "answered") { if case .inCall = $0 { return true } else { return false } }

        // Busy: carol's call to bob is declined automatically.
        carol.call("c-bob", invitation: CallInvitation(roomID: 7))
        await waitFor(carol.state, "busy") { $0 == .ended(peer: "c-bob", reason: .busy, outgoing: true) }
        for phone in [alice, bob] {
            phone.hangUp()
            phone.dismiss()
        }
        carol.dismiss()

        // Declined, then a timeout seen from both sides.
        carol.call("c-bob", invitation: CallInvitation(roomID: 8))
        await waitFor(bob.state, "ringing") { if case .ringing = $0 { return true } else { return false } }
        try await bob.decline()
        await waitFor(carol.state, "declined") { $0 == .ended(peer: "c-bob", reason: .declined, outgoing: true) }
        carol.dismiss()
        bob.dismiss()
        carol.call("c-bob", invitation: CallInvitation(roomID: 9))
        await waitFor(carol.state, "no answer") { $0 == .ended(peer: "c-bob", reason: .noAnswer, outgoing: true) }
        await waitFor(bob.state, "missed") { $0 == .ended(peer: "c-carol", reason: .noAnswer, outgoing: false) }
        [alice, bob, carol].forEach { $0.close() }
    }

    func testCallingAUserWhoNeverLoggedInEndsTheCallWithV2TIMsCode() async throws {
        let alice = CallModel(session: try await server.login("u-alice"))
        let inviteID = alice.call("u-nobody", invitation: CallInvitation(roomID: 8))
        XCTAssertFalse(inviteID.isEmpty) // at once, before the server refused it
        let ended = await waitFor(alice.state, "refused") { if case .ended = $0 { return true } else { return false } }
        guard case let .ended(peer, reason, outgoing, error) = ended else { return XCTFail("\(ended)") }
        XCTAssertEqual(peer, "u-nobody")
        XCTAssertEqual(reason, .failed)
        XCTAssertTrue(outgoing)
        XCTAssertEqual(error?.code, ERR_SVR_MSG_INVALID_ID)
        alice.close()
    }

    func testMicSeatRace() async throws {
        let host = try await server.login("v-host")
        try await VoiceRoomModel.open(host: host, roomID: "v-room", name: "Friday", seatCount: 4)
        let ann = VoiceRoomModel(session: try await server.login("v-ann"), roomID: "v-room")
        let ben = VoiceRoomModel(session: try await server.login("v-ben"), roomID: "v-room")
        try await ann.join()
        try await ben.join()

        async let annTakes = ann.take(2)
        async let benTakes = ben.take(2)
        let results = await [annTakes, benTakes]
        let winner = results[0] == .taken(seat: 2) ? "v-ann" : "v-ben"
        XCTAssertEqual(results.filter { $0 == .taken(seat: 2) }.count, 1, "\(results)")
        XCTAssertTrue(results.contains(.lostRace(seat: 2, winner: winner)) || results.contains(.occupied(seat: 2, holder: winner)), "\(results)")
        for room in [ann, ben] {
            await waitFor(room.state, "\(winner) on 2") { $0.seats == [nil, nil, winner, nil] }
        }
        [ann, ben].forEach { $0.close() }
    }
}
