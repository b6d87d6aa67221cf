import Foundation
import OximSDK

/// What a call invitation carries in its `data`: which media room both sides join (the audio and
/// video go through your RTC service, e.g. TRTC; signaling only sets the call up). The JSON shape
/// is the sample's own, the same as the Android sample's; `businessID` tells calls apart from other
/// invitations.
public struct CallInvitation: Equatable, Sendable {
    public static let businessID = "av_call"
    public var roomID: Int
    public var video: Bool

    public init(roomID: Int, video: Bool = false) {
        self.roomID = roomID
        self.video = video
    }

    public var data: String {
        "{\"businessID\":\"\(Self.businessID)\",\"callType\":\(video ? 2 : 1),\"roomID\":\(roomID)}"
    }

    /// The call in an invitation's data, or nil for an invitation that is not a call.
    public init?(data: String) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
              json["businessID"] as? String == Self.businessID,
              let roomID = json["roomID"] as? Int, let callType = json["callType"] as? Int else { return nil }
        self.init(roomID: roomID, video: callType == 2)
    }
}

/// Why a call ended.
public enum EndReason: Sendable {
    /// The callee declined.
    case declined
    /// The callee was in another call (declined automatically).
    case busy
    /// The caller hung up before the callee answered.
    case cancelled
    /// Nobody answered before the invitation's timeout (a missed call for the callee).
    case noAnswer
    /// This side hung up after talking.
    case hungUp
    /// A call to the SDK failed (see the error).
    case failed
}

/// The call screen. `outgoing`: this user placed the call.
public enum CallState: Equatable, Sendable {
    case idle
    /// Ringing at the callee.
    case calling(inviteID: String, callee: String, invitation: CallInvitation)
    /// Ringing here.
    case ringing(inviteID: String, caller: String, invitation: CallInvitation)
    /// Both accepted: join `invitation.roomID` of your RTC service now.
    case inCall(inviteID: String, peer: String, invitation: CallInvitation, outgoing: Bool)
    case ended(peer: String, reason: EndReason, outgoing: Bool, error: ImError? = nil)
}

/// A one-to-one audio or video call set up over V2TIMSignalingManager: invite, ring, accept,
/// decline, cancel, time out; and "busy" when a second call comes in during one.
///
/// The server owns each invitation's state and timer, so both sides hear the same outcome even
/// when the caller's app has died: a timeout reaches the callee too, and an invitation that ended
/// while the callee was offline does not ring at the next login.
public final class CallModel: @unchecked Sendable {
    /// The `data` of an automatic decline during another call.
    public static let busyData = "{\"businessID\":\"av_call\",\"reason\":\"busy\"}"

    public let state = LiveState(CallState.idle)
    private let session: ImSession
    private let signaling: V2TIMSignalingManager
    private let ringSeconds: Int32
    private let listener = Listener()
    // Listener events and the model's own steps change the state under this lock.
    private let lock = NSRecursiveLock()

    /// `ringSeconds`: how long an invitation rings before the server times it out.
    public init(session: ImSession, ringSeconds: Int32 = 30) {
        self.session = session
        self.ringSeconds = ringSeconds
        signaling = session.sdk.getSignalingManager()
        listener.model = self
        signaling.addSignalingListener(listener: listener)
    }

    /// Calls `userID`: it rings there (and as an offline push) until answered, cancelled or timed
    /// out. V2TIM's closure form of `invite` returns the inviteID at once, before the server has
    /// it: the screen shows `.calling` right away, and an answer that overtakes the server's reply
    /// finds the call it belongs to. A failure (e.g. `ERR_SVR_MSG_INVALID_ID`, no such user) ends
    /// the call with the error.
    @discardableResult
    public func call(_ userID: String, invitation: CallInvitation) -> String {
        lock.lock()
        defer { lock.unlock() }
        switch state.value {
        case .idle, .ended: break
        default: preconditionFailure("already in a call: \(state.value)")
        }
        let push = V2TIMOfflinePushInfo(title: session.userID, desc: invitation.video ? "Video call" : "Audio call")
        var inviteID = ""
        inviteID = signaling.invite(invitee: userID, data: invitation.data, onlineUserOnly: false, offlinePushInfo: push,
                                    timeout: ringSeconds, succ: nil, // it rings; the listener tells what comes next
                                    fail: { [weak self] code, desc in
            guard let self else { return }
            self.lock.lock() // taken once call() has set the state and the inviteID
            defer { self.lock.unlock() }
            self.transition(from: .calling(inviteID: inviteID, callee: userID, invitation: invitation),
                            to: .ended(peer: userID, reason: .failed, outgoing: true, error: ImError(code: code, desc: desc ?? "")))
        })
        state.set(.calling(inviteID: inviteID, callee: userID, invitation: invitation))
        return inviteID
    }

    /// The caller hangs up before an answer; the callee stops ringing.
    public func cancel() async throws {
        let from = state.value
        guard case let .calling(inviteID, callee, _) = from else { return }
        do {
            try await signaling.cancel(inviteID: inviteID, data: "")
        } catch {
            throw ImError(error)
        }
        transition(from: from, to: .ended(peer: callee, reason: .cancelled, outgoing: true))
    }

    /// The callee answers: both sides are `.inCall`.
    public func accept() async throws { try await answer(accept: true) }

    /// The callee declines: the caller hears `.declined`.
    public func decline() async throws { try await answer(accept: false) }

    private func answer(accept: Bool) async throws {
        let from = state.value
        guard case let .ringing(inviteID, caller, invitation) = from else { return }
        do {
            if accept {
                try await signaling.accept(inviteID: inviteID, data: "")
            } else {
                try await signaling.reject(inviteID: inviteID, data: "")
            }
            transition(from: from, to: accept
                ? .inCall(inviteID: inviteID, peer: caller, invitation: invitation, outgoing: false)
                : .ended(peer: caller, reason: .declined, outgoing: false))
        } catch {
            // The invitation ended first (cancelled or timed out): its event says which.
            let failure = ImError(error)
            if failure.code != ERR_SDK_SIGNALING_INVALID_INVITE_ID {
                transition(from: from, to: .ended(peer: caller, reason: .failed, outgoing: false, error: failure))
            }
            throw failure
        }
    }

    /// Ends a call in progress on this side. Leaving the media room is what the other side notices
    /// (your RTC service tells it); signaling's part ended with the answer.
    public func hangUp() {
        let from = state.value
        guard case let .inCall(_, peer, _, outgoing) = from else { return }
        transition(from: from, to: .ended(peer: peer, reason: .hungUp, outgoing: outgoing))
    }

    /// Closes the "call ended" screen.
    public func dismiss() {
        let from = state.value
        guard case .ended = from else { return }
        transition(from: from, to: .idle)
    }

    public func close() {
        signaling.removeSignalingListener(listener: listener)
    }

    fileprivate func invited(_ inviteID: String, inviter: String, groupID: String, data: String) {
        guard groupID.isEmpty else { return } // group calls are not part of this sample
        guard let invitation = CallInvitation(data: data) else { return } // another kind of invitation
        lock.lock()
        let busy: Bool
        switch state.value {
        case .idle, .ended:
            state.set(.ringing(inviteID: inviteID, caller: inviter, invitation: invitation))
            busy = false
        default:
            busy = true
        }
        lock.unlock()
        // A second call during a call: decline it at once, saying why (fire and forget).
        if busy {
            signaling.reject(inviteID: inviteID, data: Self.busyData, succ: nil, fail: nil)
        }
    }

    // Applies a listener event to the call it is about (events of other invitations are ignored):
    // `next` gives the new state, or nil to stay.
    fileprivate func on(_ inviteID: String, _ next: (CallState) -> CallState?) {
        lock.lock()
        defer { lock.unlock() }
        let now = state.value
        switch now {
        case let .calling(id, _, _) where id == inviteID, let .ringing(id, _, _) where id == inviteID:
            if let to = next(now) { state.set(to) }
        default:
            break
        }
    }

    // Moves on only if the state is still `from` (a listener event may have moved it meanwhile).
    private func transition(from: CallState, to: CallState) {
        lock.lock()
        defer { lock.unlock() }
        if state.value == from { state.set(to) }
    }

    private final class Listener: V2TIMSignalingListener, @unchecked Sendable {
        weak var model: CallModel?
        func onReceiveNewInvitation(inviteID: String, inviter: String, groupID: String, inviteeList: [String], data: String) {
            model?.invited(inviteID, inviter: inviter, groupID: groupID, data: data)
        }
        func onInviteeAccepted(inviteID: String, invitee: String, data: String) {
            model?.on(inviteID) { now in
                guard case let .calling(id, callee, invitation) = now else { return nil }
                return .inCall(inviteID: id, peer: callee, invitation: invitation, outgoing: true)
            }
        }
        func onInviteeRejected(inviteID: String, invitee: String, data: String) {
            model?.on(inviteID) { now in
                guard case let .calling(_, callee, _) = now else { return nil }
                return .ended(peer: callee, reason: data == CallModel.busyData ? .busy : .declined, outgoing: true)
            }
        }
        func onInvitationCancelled(inviteID: String, inviter: String, data: String) {
            model?.on(inviteID) { now in
                guard case let .ringing(_, caller, _) = now else { return nil }
                return .ended(peer: caller, reason: .cancelled, outgoing: false)
            }
        }
        func onInvitationTimeout(inviteID: String, inviteeList: [String]) {
            model?.on(inviteID) { now in
                switch now {
                case let .calling(_, callee, _): return .ended(peer: callee, reason: .noAnswer, outgoing: true)
                case let .ringing(_, caller, _): return .ended(peer: caller, reason: .noAnswer, outgoing: false)
                default: return nil
                }
            }
        }
    }
}
