import OximSampleLogic
import PhotosUI
import SwiftUI

/// The whole app: the screen the model names; a call takes over the screen.
public struct SampleRootView: View {
    @StateObject private var model = SampleAppModel()

    public init() {}

    public var body: some View {
        Group {
            if let call = model.callState {
                CallGate(call: call, model: model)
            } else {
                ScreenView(model: model)
            }
        }
        .alert(model.notice ?? "", isPresented: Binding(get: { model.notice != nil }, set: { if !$0 { model.notice = nil } })) {
            Button("OK") { model.notice = nil }
        }
    }
}

/// Shows the call screen while a call is on, the current screen otherwise.
private struct CallGate: View {
    @ObservedObject var call: Observed<CallState>
    @ObservedObject var model: SampleAppModel

    var body: some View {
        if call.value == .idle {
            ScreenView(model: model)
        } else {
            CallView(state: call.value, model: model)
        }
    }
}

private struct ScreenView: View {
    @ObservedObject var model: SampleAppModel

    var body: some View {
        switch model.screen {
        case .login:
            LoginView(model: model)
        case .conversations:
            if let list = model.conversations, let session = model.session {
                ConversationListView(list: Observed(list.state), session: session, model: model)
            }
        case let .chat(peer):
            if let chat = model.chat {
                ChatView(peer: peer, chat: chat, state: Observed(chat.state), model: model)
            }
        case .voiceRoom:
            if let room = model.room {
                VoiceRoomView(state: Observed(room.state), model: model)
            }
        }
    }
}

struct LoginView: View {
    @ObservedObject var model: SampleAppModel
    // The simulator reaches the Mac's loopback directly (`cargo run -p oxim-server` there).
    @State private var server = "ws://127.0.0.1:8080"
    @State private var appID = String(DevUserSig.devSDKAppID)
    @State private var user = ""

    var body: some View {
        Form {
            Section("Oxim sample") {
                TextField("Server", text: $server)
                TextField("SDKAppID", text: $appID)
                TextField("User ID", text: $user)
                Button("Log in") {
                    Task { await model.login(serverURL: server, sdkAppID: Int64(appID) ?? 0, userID: user) }
                }
                .disabled(user.isEmpty)
            }
            Text("The UserSig is signed on the device with the server's development key. A real app gets it from its own backend.")
                .font(.footnote)
        }
    }
}

struct ConversationListView: View {
    @StateObject var list: Observed<ConversationListState>
    let session: ImSession
    @ObservedObject var model: SampleAppModel
    @State private var peer = ""
    @State private var roomID = ""

    var body: some View {
        VStack(alignment: .leading) {
            HStack {
                Text("Chats (\(list.value.totalUnread) unread)").font(.title2)
                Spacer()
                Button("Log out") { Task { await model.logout() } }
            }
            HStack {
                TextField("Chat with user ID", text: $peer)
                Button("Open") { model.openChat(peer) }.disabled(peer.isEmpty)
            }
            HStack {
                TextField("Voice room ID", text: $roomID)
                Button("Open") { model.enterRoom(roomID, asHost: true) }.disabled(roomID.isEmpty)
                Button("Join") { model.enterRoom(roomID, asHost: false) }.disabled(roomID.isEmpty)
            }
            List(list.value.conversations, id: \.conversationID) { conversation in
                Button {
                    if !conversation.userID.isEmpty { model.openChat(conversation.userID) }
                } label: {
                    HStack {
                        VStack(alignment: .leading) {
                            Text((conversation.isPinned ? "📌 " : "") + (conversation.showName.isEmpty ? conversation.userID : conversation.showName))
                                .font(.headline)
                            Text(conversation.draftText.isEmpty ? session.preview(conversation.lastMessage) : "[Draft] \(conversation.draftText)")
                                .lineLimit(1)
                        }
                        Spacer()
                        if conversation.unreadCount > 0 {
                            Text(conversation.unreadCount > 99 ? "99+" : "\(conversation.unreadCount)")
                                .padding(.horizontal, 8)
                                .background(Capsule().fill(Color.red))
                                .foregroundColor(.white)
                        }
                    }
                }
            }
        }
        .padding()
    }
}

struct ChatView: View {
    let peer: String
    let chat: ChatModel
    @StateObject var state: Observed<ChatState>
    @ObservedObject var model: SampleAppModel
    @State private var draft = ""
    @State private var picked: PhotosPickerItem?

    var body: some View {
        VStack {
            HStack {
                Text(peer).font(.title2)
                Spacer()
                Button("Audio") { model.startCall(peer, video: false) }
                Button("Video") { model.startCall(peer, video: true) }
                Button("Back") { model.closeChat() }
            }
            ScrollView {
                LazyVStack(spacing: 6) {
                    if state.value.hasOlder {
                        Button("Earlier messages") { model.run { try await chat.loadOlder() } }
                    }
                    ForEach(state.value.items) { item in
                        Bubble(item: item, chat: chat) { model.run { try await chat.revoke(item.id) } }
                    }
                }
            }
            HStack {
                PhotosPicker("Image", selection: $picked, matching: .images)
                TextField("Message", text: $draft)
                Button("Send") {
                    let text = draft
                    draft = ""
                    model.run { try await chat.sendText(text) }
                }
                .disabled(draft.isEmpty)
            }
        }
        .padding()
        .onChange(of: picked) { item in
            guard let item else { return }
            model.run {
                // The SDK reads a file path: write the picked image to a temporary file first.
                guard let data = try await item.loadTransferable(type: Data.self) else { return }
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("pick-\(UUID().uuidString).jpg")
                try data.write(to: file)
                try await chat.sendImage(path: file.path)
            }
        }
    }
}

private struct Bubble: View {
    let item: ChatItem
    let chat: ChatModel
    let revoke: () -> Void
    @State private var thumbnail: URL?

    var body: some View {
        HStack {
            if item.isMine { Spacer() }
            VStack(alignment: .leading, spacing: 4) {
                if item.isRevoked {
                    Text(item.isMine ? "You revoked a message" : "A message was revoked").italic()
                } else if item.message.imageElem != nil {
                    AsyncImage(url: thumbnail) { image in image.resizable().scaledToFit() } placeholder: { Text("[Image]") }
                        .frame(maxWidth: 160, maxHeight: 160)
                        .task(id: item.isSending) {
                            // A picture being sent shows from its local file; a received one is downloaded.
                            if let path = item.message.imageElem?.path, FileManager.default.fileExists(atPath: path) {
                                thumbnail = URL(fileURLWithPath: path)
                            } else {
                                thumbnail = try? await chat.downloadThumbnail(item, cacheDir: FileManager.default.temporaryDirectory)
                            }
                        }
                } else {
                    Text(item.message.textElem?.text ?? "[\(item.message.elemType)]")
                }
                if let progress = item.uploadProgress {
                    ProgressView(value: Double(progress), total: 100).frame(width: 160)
                }
                if item.isMine && !item.isRevoked {
                    HStack {
                        Text(item.isSending ? "Sending…" : item.isFailed ? "Not sent (\(item.error?.code ?? 0))" : item.isReadByPeer ? "Read" : "Sent")
                        if !item.isSending && !item.isFailed {
                            Button("Revoke", action: revoke)
                        }
                    }
                    .font(.caption)
                }
            }
            .padding(10)
            .background(RoundedRectangle(cornerRadius: 10).fill(Color.gray.opacity(0.15)))
            if !item.isMine { Spacer() }
        }
    }
}

struct CallView: View {
    let state: CallState
    @ObservedObject var model: SampleAppModel

    var body: some View {
        VStack(spacing: 16) {
            switch state {
            case .idle:
                EmptyView()
            case let .calling(_, callee, _):
                Text("Calling \(callee)…").font(.title2)
                Button("Cancel") { model.run { try await model.call?.cancel() } }
            case let .ringing(_, caller, invitation):
                Text("\(caller) is calling (\(invitation.video ? "video" : "audio"))").font(.title2)
                HStack(spacing: 16) {
                    Button("Accept") { model.run { try await model.call?.accept() } }
                    Button("Decline") { model.run { try await model.call?.decline() } }
                }
            case let .inCall(_, peer, invitation, _):
                Text("In a call with \(peer)").font(.title2)
                // Here the app joins invitation.roomID in its RTC service (e.g. TRTC).
                Text("Media room \(invitation.roomID)")
                Button("Hang up") { model.call?.hangUp() }
            case let .ended(peer, reason, outgoing, error):
                Text(Self.describe(peer: peer, reason: reason, outgoing: outgoing, error: error)).font(.title2)
                Button("OK") { model.call?.dismiss() }
            }
        }
        .padding(32)
    }

    static func describe(peer: String, reason: EndReason, outgoing: Bool, error: ImError?) -> String {
        switch reason {
        case .declined: return outgoing ? "\(peer) declined" : "You declined"
        case .busy: return "\(peer) is in another call"
        case .cancelled: return outgoing ? "Call cancelled" : "Missed call from \(peer) (cancelled)"
        case .noAnswer: return outgoing ? "No answer" : "Missed call from \(peer)"
        case .hungUp: return "Call ended"
        case .failed: return "Call failed: \(error?.code ?? 0) \(error?.desc ?? "")"
        }
    }
}

struct VoiceRoomView: View {
    @StateObject var state: Observed<VoiceRoomState>
    @ObservedObject var model: SampleAppModel

    var body: some View {
        VStack(alignment: .leading) {
            HStack {
                Text("Room \(state.value.roomID)").font(.title2)
                Spacer()
                Button("Leave") { model.leaveRoom() }
            }
            Text("Tap a free seat to take the mic.")
            List(state.value.seats.indices, id: \.self) { seat in
                let holder = state.value.seats[seat]
                Button("Seat \(seat + 1): \(holder ?? "free")") { model.takeSeat(seat) }
                    .disabled(holder != nil)
            }
            if state.value.mySeat != nil {
                Button("Leave the seat") { model.run { try await model.room?.leaveSeat() } }
            }
        }
        .padding()
    }
}
