import Foundation
import OximSDK

public extension ImSession {
    /// One line for a message: the conversation list's "last message", and the text of the
    /// notification the peer sees when the app is in the background.
    func preview(_ message: V2TIMMessage?) -> String {
        guard let message else { return "" }
        if message.status == .v2timMsgStatusLocalRevoked { return "A message was revoked" }
        // Calls are custom messages that the signaling manager can read.
        if let call = try? sdk.getSignalingManager().getSignalingInfo(msg: message), !call.inviteID.isEmpty {
            switch call.actionType {
            case .signalingActionTypeCancelInvite: return "[Call cancelled]"
            case .signalingActionTypeAcceptInvite: return "[Call answered]"
            case .signalingActionTypeRejectInvite: return "[Call declined]"
            case .signalingActionTypeInviteTimeout: return "[Missed call]"
            default: return "[Call]"
            }
        }
        switch message.elemType {
        case .v2timElemTypeText: return message.textElem?.text ?? ""
        case .v2timElemTypeImage: return "[Image]"
        case .v2timElemTypeSound: return "[Voice]"
        case .v2timElemTypeVideo: return "[Video]"
        case .v2timElemTypeFile: return "[File] " + (message.fileElem?.fileName ?? "")
        case .v2timElemTypeLocation: return "[Location] " + (message.locationElem?.desc ?? "")
        case .v2timElemTypeFace: return "[Sticker]"
        case .v2timElemTypeMerger: return "[Chat history] " + (message.mergerElem?.title ?? "")
        case .v2timElemTypeGroupTips: return "[Group notice]"
        // A custom message's description is its push text: a readable summary.
        case .v2timElemTypeCustom:
            let desc = message.customElem?.desc ?? ""
            return desc.isEmpty ? "[Custom message]" : desc
        default: return ""
        }
    }
}
