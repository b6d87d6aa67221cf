// Listener registration by object cannot leak across SDK instances or listener kinds: the
// registry is keyed by (instance, kind, object); setConversationListener replaces. No Swift
// compiler runs here (scripts/test-swift.sh syntax-checks this file); on macOS it runs with
// XCTest against the server in $OXIM_SERVER_URL, with UserSigs from $OXIM_USERSIG_<user>.
import Foundation
import XCTest
@testable import OximSDK

final class ListenerRegistryTests: XCTestCase {
    /// One object that is two listener kinds at once, recording what it hears.
    final class Everything: V2TIMSimpleMsgListener, V2TIMGroupListener, @unchecked Sendable {
        private let lock = NSLock()
        private var heard: [String] = []

        func onRecvC2CTextMessage(msgID: String, sender: V2TIMUserInfo, text: String) {
            record("text:\(text)")
        }

        func onGroupCreated(groupID: String) {
            record("created:\(groupID)")
        }

        func record(_ event: String) {
            lock.lock()
            heard.append(event)
            lock.unlock()
        }

        func events() -> [String] {
            lock.lock()
            defer { lock.unlock() }
            return heard
        }
    }

    final class Conversations: V2TIMConversationListener, @unchecked Sendable {
        private let lock = NSLock()
        private var texts: [String] = []

        func onConversationChanged(conversationList: [V2TIMConversation]) {
            lock.lock()
            texts += conversationList.map { $0.lastMessage?.textElem?.text ?? "" }
            lock.unlock()
        }

        func heard() -> [String] {
            lock.lock()
            defer { lock.unlock() }
            return texts
        }
    }

    func login(_ user: String) async throws -> V2TIMManager {
        let env = ProcessInfo.processInfo.environment
        let sdk = V2TIMManager()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oxim-swift-\(user)").path
        let config = V2TIMSDKConfig(serverURL: env["OXIM_SERVER_URL"] ?? "ws://127.0.0.1:8080", dataDir: dir,
                                    logLevel: .V2TIM_LOG_NONE, platform: "ios")
        XCTAssertTrue(try sdk.initSDK(sdkAppID: 1_400_000_000, config: config, listener: nil))
        try await sdk.login(userID: user, userSig: env["OXIM_USERSIG_\(user)"] ?? "")
        return sdk
    }

    /// Waits up to `seconds` for `condition`.
    func eventually(_ seconds: Double = 15, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline {
                XCTFail("timed out")
                return
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    func testTheSameObjectOnTwoInstancesAndRemovalFromOne() async throws {
        let a = try await login("swift-a")
        let b = try await login("swift-b")
        let sender = try await login("swift-sender")
        let listener = Everything()
        a.addSimpleMsgListener(listener: listener)
        b.addSimpleMsgListener(listener: listener)
        b.addSimpleMsgListener(listener: listener) // twice on one instance: registered once

        _ = try await sender.sendC2CTextMessage(text: "to a", userID: "swift-a")
        _ = try await sender.sendC2CTextMessage(text: "to b", userID: "swift-b")
        try await eventually { Set(listener.events()) == ["text:to a", "text:to b"] }

        a.removeSimpleMsgListener(listener: listener)
        _ = try await sender.sendC2CTextMessage(text: "to a again", userID: "swift-a")
        _ = try await sender.sendC2CTextMessage(text: "to b again", userID: "swift-b")
        try await eventually { listener.events().contains("text:to b again") }
        XCTAssertFalse(listener.events().contains("text:to a again"))
        XCTAssertEqual(listener.events().count, 3)
    }

    func testTheSameObjectAsTwoKinds() async throws {
        let user = try await login("swift-two-kinds")
        let sender = try await login("swift-two-kinds-sender")
        let listener = Everything()
        user.addSimpleMsgListener(listener: listener)
        user.addGroupListener(listener: listener)

        _ = try await sender.sendC2CTextMessage(text: "hello", userID: "swift-two-kinds")
        let group = try await user.createGroup(groupType: "Work", groupID: nil, groupName: "two kinds")
        try await eventually { listener.events().contains("text:hello") && listener.events().contains("created:\(group)") }

        user.removeSimpleMsgListener(listener: listener)
        _ = try await sender.sendC2CTextMessage(text: "not heard", userID: "swift-two-kinds")
        let second = try await user.createGroup(groupType: "Work", groupID: nil, groupName: "still heard")
        try await eventually { listener.events().contains("created:\(second)") }
        XCTAssertFalse(listener.events().contains("text:not heard"))
    }

    func testSetConversationListenerReplaces() async throws {
        let user = try await login("swift-conv")
        let sender = try await login("swift-conv-sender")
        let first = Conversations()
        let second = Conversations()
        user.getConversationManager().addConversationListener(listener: first)
        _ = try await sender.sendC2CTextMessage(text: "one", userID: "swift-conv")
        try await eventually { first.heard().contains("one") }

        user.getConversationManager().setConversationListener(listener: second)
        user.getConversationManager().removeConversationListener(listener: first)
        _ = try await sender.sendC2CTextMessage(text: "two", userID: "swift-conv")
        try await eventually { second.heard().contains("two") }
        XCTAssertFalse(first.heard().contains("two"))

        // Managers are new Swift objects on every call; they name their instance.
        XCTAssertEqual(user.getConversationManager().instanceID(), user.instanceID())
        XCTAssertNotEqual(V2TIMManager.sharedInstance().instanceID(), user.instanceID())
    }

    func testClosureFormsReturnIdsAtOnce() async throws {
        let alice = try await login("swift-alice")
        _ = try await login("swift-bob")
        let sent = expectation(description: "sent")
        let msgID = alice.sendC2CTextMessage(text: "hi", to: "swift-bob", succ: { sent.fulfill() }, fail: { code, desc in
            XCTFail("\(code) \(desc ?? "")")
        })
        XCTAssertFalse(msgID.isEmpty)
        let invited = expectation(description: "invited")
        let inviteID = alice.getSignalingManager().invite(invitee: "swift-bob", data: "", onlineUserOnly: false,
                                                          offlinePushInfo: nil, timeout: 30,
                                                          succ: { invited.fulfill() }, fail: { _, _ in })
        XCTAssertFalse(inviteID.isEmpty)
        await fulfillment(of: [sent, invited], timeout: 15)
    }
}
