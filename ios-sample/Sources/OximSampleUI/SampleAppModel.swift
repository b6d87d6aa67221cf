import Foundation
import OximSampleLogic

/// Which screen is shown.
public enum Screen: Equatable {
    case login, conversations, chat(peerUserID: String), voiceRoom(roomID: String)
}

/// Holds the sample's models for the app's lifetime and runs their SDK calls. Everything the
/// screens show comes from the models' LiveStates.
@MainActor
public final class SampleAppModel: ObservableObject {
    @Published public var screen = Screen.login
    /// A one-line message for the user (a failed call to the SDK, a seat someone else took).
    @Published public var notice: String?

    public private(set) var session: ImSession?
    public private(set) var conversations: ConversationListModel?
    public private(set) var call: CallModel?
    @Published public private(set) var callState: Observed<CallState>?
    public private(set) var chat: ChatModel?
    public private(set) var room: VoiceRoomModel?

    public init() {}

    /// initSDK (once per process, on V2TIMManager.getInstance()), then login. The UserSig is signed
    /// here with the development key: a real app gets it from its backend.
    public func login(serverURL: String, sdkAppID: Int64, userID: String) async {
        let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        let settings = ServerSettings(serverURL: serverURL, sdkAppID: sdkAppID,
                                      dataDir: support.appendingPathComponent("oxim").path)
        do {
            if session?.settings != settings {
                session?.close() // unInitSDK before initSDK with other settings (the same default instance)
                session = try ImSession(settings: settings)
            }
        } catch {
            notice = "initSDK failed: \(ImError(error).desc)"
            return
        }
        guard let session else { return }
        switch await session.login(userID: userID, userSig: DevUserSig(sdkAppID: sdkAppID).sign(userID)) {
        case .loggedIn:
            let list = ConversationListModel(session: session)
            conversations = list
            try? await list.load()
            let call = CallModel(session: session)
            self.call = call
            callState = Observed(call.state)
            screen = .conversations
        case let .failed(_, error):
            notice = "Login failed: \(error.code) \(error.desc)"
        default:
            break
        }
    }

    public func logout() async {
        chat?.close(); room?.close(); conversations?.close(); call?.close()
        chat = nil; room = nil; conversations = nil; call = nil; callState = nil
        await session?.logout()
        screen = .login
    }

    public func openChat(_ peerUserID: String) {
        guard let session else { return }
        chat?.close()
        let chat = ChatModel(session: session, peerUserID: peerUserID)
        self.chat = chat
        screen = .chat(peerUserID: peerUserID)
        Task { try? await chat.open() }
    }

    public func closeChat() {
        chat?.close()
        chat = nil
        screen = .conversations
    }

    /// Runs an SDK call and shows its failure.
    public func run(_ action: @escaping @MainActor () async throws -> Void) {
        Task {
            do {
                try await action()
            } catch {
                let failure = ImError(error)
                notice = "\(failure.code): \(failure.desc)"
            }
        }
    }

    public func startCall(_ peerUserID: String, video: Bool) {
        guard let call else { return }
        // Your RTC service's room for the media; any number both sides agree on.
        let invitation = CallInvitation(roomID: Int.random(in: 100_000...999_999), video: video)
        call.call(peerUserID, invitation: invitation) // a failure shows on the call screen
    }

    /// Opens (as host) or joins a voice room.
    public func enterRoom(_ roomID: String, asHost: Bool) {
        guard let session else { return }
        run {
            if asHost {
                try await VoiceRoomModel.open(host: session, roomID: roomID, name: "\(roomID) (voice)", seatCount: 8)
            }
            let room = VoiceRoomModel(session: session, roomID: roomID)
            do {
                try await room.join()
            } catch {
                room.close()
                throw error
            }
            self.room = room
            self.screen = .voiceRoom(roomID: roomID)
        }
    }

    public func takeSeat(_ seat: Int) {
        guard let room else { return }
        Task {
            switch await room.take(seat) {
            case let .occupied(_, holder): notice = "Seat \(seat + 1) is \(holder)'s"
            case let .lostRace(_, winner): notice = "\(winner) sat down on seat \(seat + 1) first"
            case let .failed(_, error): notice = "Could not sit: \(error.code) \(error.desc)"
            case .taken: break
            }
        }
    }

    public func leaveRoom() {
        guard let room else { return }
        run {
            try? await room.leave()
            room.close()
            self.room = nil
            self.screen = .conversations
        }
    }
}
