import Foundation
import OximSDK

/// A voice room's mic seats: who holds each (nil = free).
public struct VoiceRoomState: Sendable {
    public let roomID: String
    public var seats: [String?] = []
    /// The seat this user holds, if any.
    public var mySeat: Int?
}

/// What taking a seat came to.
public enum SeatResult: Equatable, Sendable {
    case taken(seat: Int)
    /// Someone already held it when this user tapped it.
    case occupied(seat: Int, holder: String)
    /// Someone else took it in the same moment and won: the write was refused with
    /// `ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT` (10056).
    case lostRace(seat: Int, winner: String)
    case failed(seat: Int, error: ImError)
}

/// A voice chat room's mic seats, kept in the attributes of an AVChatRoom group
/// (V2TIMGroupManager `initGroupAttributes` / `setGroupAttributes` / `getGroupAttributes` and
/// V2TIMGroupListener `onGroupAttributeChanged`). Attribute "seat<N>" holds the userID on seat N,
/// or "" when it is free.
///
/// Two users can tap the same free seat at the same moment. Attribute writes are version-checked:
/// the SDK sends the version of the attributes this device last read (or wrote), and the server
/// refuses a write to a key that changed since with 10056. So exactly one of them gets the seat,
/// and the other learns who did. Pushed changes do not move that version (a decision made from an
/// old read must not win because a push happened to arrive first): after a 10056 this model reads
/// again and, if the seat turned out free after all, tries once more.
public final class VoiceRoomModel: @unchecked Sendable {
    public let roomID: String
    public let state: LiveState<VoiceRoomState>
    private let session: ImSession
    private let groups: V2TIMGroupManager
    private let listener = Listener()

    public init(session: ImSession, roomID: String) {
        self.session = session
        self.roomID = roomID
        state = LiveState(VoiceRoomState(roomID: roomID))
        groups = session.sdk.getGroupManager()
        listener.model = self
        session.sdk.addGroupListener(listener: listener)
    }

    /// The host opens a room: an AVChatRoom (any number of listeners, online-only messages) whose
    /// attributes start as `seatCount` free seats.
    public static func open(host: ImSession, roomID: String, name: String, seatCount: Int) async throws {
        _ = try await host.sdk.createGroup(groupType: "AVChatRoom", groupID: roomID, groupName: name) // GROUP_TYPE_AVCHATROOM
        let seats = Dictionary(uniqueKeysWithValues: (0..<seatCount).map { (key($0), "") })
        try await host.sdk.getGroupManager().initGroupAttributes(groupID: roomID, attributes: seats)
    }

    /// Enters the room and reads the seats (the view the SDK versions this user's writes against).
    public func join() async throws {
        do {
            try await session.sdk.joinGroup(groupID: roomID, message: "")
        } catch let V2TIMError.Failure(code, _) where code == ERR_SVR_GROUP_ALLREADY_MEMBER {
            // The host is in the room it opened.
        }
        try await refresh()
    }

    /// Reads the seats again.
    public func refresh() async throws {
        show(try await groups.getGroupAttributes(groupID: roomID, keys: nil))
    }

    /// Takes seat `seat`. Moving from another seat is one write of both keys, so the user is never
    /// on two seats or on none in between.
    public func take(_ seat: Int) async -> SeatResult {
        let me = session.userID
        for attempt in 0..<2 {
            let now = state.value
            let holder = seat < now.seats.count ? now.seats[seat] : nil
            if holder == me { return .taken(seat: seat) }
            if let holder { return .occupied(seat: seat, holder: holder) }
            var write = [Self.key(seat): me]
            if let mine = now.mySeat { write[Self.key(mine)] = "" }
            do {
                try await groups.setGroupAttributes(groupID: roomID, attributes: write)
                // Show it now; the push of this write (to every member) says the same.
                showWritten(write)
                return .taken(seat: seat)
            } catch {
                let failure = ImError(error)
                guard failure.code == ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT else { return .failed(seat: seat, error: failure) }
                // A seat changed since this device last read them: read, then see who has it.
                do { try await refresh() } catch { return .failed(seat: seat, error: ImError(error)) }
                let seats = state.value.seats
                if seat < seats.count, let winner = seats[seat], winner != me { return .lostRace(seat: seat, winner: winner) }
                // Free after all (our read predated a change elsewhere): the loop tries once more.
                if attempt == 1 { return .failed(seat: seat, error: failure) }
            }
        }
        return .failed(seat: seat, error: ImError(code: ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT, desc: "seat \(seat) kept changing"))
    }

    /// Leaves the seat this user holds (the seat becomes free for everyone).
    public func leaveSeat() async throws {
        guard let seat = state.value.mySeat else { return }
        let write = [Self.key(seat): ""]
        try await groups.setGroupAttributes(groupID: roomID, attributes: write)
        showWritten(write)
    }

    /// Leaves the seat, then the room.
    public func leave() async throws {
        try await leaveSeat()
        try await session.sdk.quitGroup(groupID: roomID)
    }

    public func close() {
        session.sdk.removeGroupListener(listener: listener)
    }

    fileprivate func show(_ attributes: [String: String]) {
        let me = session.userID
        let count = (attributes.keys.compactMap { Int($0.dropFirst(Self.seatPrefix.count)) }.max() ?? -1) + 1
        let seats: [String?] = (0..<count).map { seat in
            let holder = attributes[Self.key(seat)] ?? ""
            return holder.isEmpty ? nil : holder
        }
        state.update {
            $0.seats = seats
            $0.mySeat = seats.firstIndex(of: me)
        }
    }

    private func showWritten(_ write: [String: String]) {
        let me = session.userID
        state.update { now in
            for (key, holder) in write {
                if let seat = Int(key.dropFirst(Self.seatPrefix.count)), now.seats.indices.contains(seat) {
                    now.seats[seat] = holder.isEmpty ? nil : holder
                }
            }
            now.mySeat = now.seats.firstIndex(of: me)
        }
    }

    private static let seatPrefix = "seat"
    private static func key(_ seat: Int) -> String { "\(seatPrefix)\(seat)" }

    private final class Listener: V2TIMGroupListener, @unchecked Sendable {
        weak var model: VoiceRoomModel?
        // The complete map after every change, to every member (the writer included).
        func onGroupAttributeChanged(groupID: String, groupAttributeMap: [String: String]) {
            if groupID == model?.roomID { model?.show(groupAttributeMap) }
        }
    }
}
