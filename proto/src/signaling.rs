//! Signaling (V2TIM's `V2TIMSignalingManager`): invitations with a server-owned state machine.
//!
//! Every signaling action (invite, cancel, accept, reject, timeout) is described by a
//! [`SignalingInfo`], whose JSON form is V2TIM's signaling payload:
//!
//! ```json
//! {"businessID":1,"inviteID":"5f0c…","inviter":"alice","actionType":1,"inviteeList":["bob"],
//!  "data":"{\"roomID\":42}","timeout":30,"groupID":""}
//! ```
//!
//! Unless the invitation is online-only, the server appends each action to the conversation as
//! a custom message whose `data` is that JSON (so it is stored, synced and shown in history
//! like any message); online-only actions travel as `signal` pushes and are never stored. Only
//! the server makes signaling messages: their ids contain `#`, and the server refuses custom
//! messages from clients whose data is a signaling payload.

use serde::{Deserialize, Serialize};

use crate::message::{Elem, OfflinePushInfo, WireMessage};

/// The `businessID` V2TIM puts in signaling payloads.
pub const BUSINESS_ID: i32 = 1;

/// Longest invitation id (the SDK makes 32 hex characters).
pub const MAX_INVITE_ID_BYTES: usize = 64;

/// Most invitees of one invitation.
pub const MAX_INVITEES: usize = 500;

/// What a signaling message says happened, with V2TIM's values (`V2TIMSignalingActionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignalingAction {
    /// `invite` / `inviteInGroup`.
    Invite = 1,
    /// `cancel` by the inviter.
    Cancel = 2,
    /// `accept` by an invitee.
    Accept = 3,
    /// `reject` by an invitee.
    Reject = 4,
    /// The server's timer: the invitees in `inviteeList` did not answer in time.
    Timeout = 5,
}

impl SignalingAction {
    /// From V2TIM's number.
    pub fn from_i32(v: i32) -> Option<SignalingAction> {
        Some(match v {
            1 => SignalingAction::Invite,
            2 => SignalingAction::Cancel,
            3 => SignalingAction::Accept,
            4 => SignalingAction::Reject,
            5 => SignalingAction::Timeout,
            _ => return None,
        })
    }
}

impl Serialize for SignalingAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(*self as i32)
    }
}

impl<'de> Deserialize<'de> for SignalingAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i32::deserialize(d)?;
        SignalingAction::from_i32(v).ok_or_else(|| serde::de::Error::custom(format!("unknown actionType {v}")))
    }
}

/// `V2TIMSignalingInfo`: one signaling action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalingInfo {
    /// The invitation.
    #[serde(rename = "inviteID")]
    pub invite_id: String,
    /// Who invited.
    pub inviter: String,
    /// Invite and cancel: every invitee; accept and reject: the invitee who answered; timeout:
    /// the invitees who did not answer in time.
    #[serde(rename = "inviteeList", default)]
    pub invitee_list: Vec<String>,
    /// The group of a group invitation; empty for C2C.
    #[serde(rename = "groupID", default)]
    pub group_id: String,
    /// App data of this action (e.g. a call's room id, "line busy").
    #[serde(default)]
    pub data: String,
    /// The invitation's timeout in seconds; 0 = never.
    #[serde(default)]
    pub timeout: u32,
    /// What happened.
    #[serde(rename = "actionType")]
    pub action_type: SignalingAction,
}

/// The payload on the wire: the info plus V2TIM's `businessID`.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "businessID")]
    business_id: i32,
    #[serde(flatten)]
    info: SignalingInfo,
}

impl SignalingInfo {
    /// V2TIM's JSON payload.
    pub fn to_json(&self) -> String {
        // Plain data: serialising into a String cannot fail.
        serde_json::to_string(&Payload { business_id: BUSINESS_ID, info: self.clone() }).expect("signaling payload")
    }

    /// Decodes a payload; `None` unless it is V2TIM signaling JSON with an invitation id.
    pub fn from_json(data: &[u8]) -> Option<SignalingInfo> {
        let p: Payload = serde_json::from_slice(data).ok()?;
        (p.business_id == BUSINESS_ID && !p.info.invite_id.is_empty()).then_some(p.info)
    }

    /// The signaling action a message element carries (a custom element with a signaling
    /// payload), if any.
    pub fn from_elem(elem: &Elem) -> Option<SignalingInfo> {
        match elem {
            Elem::Custom { data, .. } => SignalingInfo::from_json(data),
            _ => None,
        }
    }

    /// The custom element carrying this action.
    pub fn to_elem(&self) -> Elem {
        Elem::Custom { data: self.to_json().into_bytes(), description: String::new(), extension: String::new() }
    }

    /// Whether `user` is one of the invitees named.
    pub fn names(&self, user: &str) -> bool {
        self.invitee_list.iter().any(|u| u == user)
    }
}

/// Whether `msg` is a signaling message made by the server (clients cannot make ids with `#`).
pub fn signaling_of(msg: &WireMessage) -> Option<SignalingInfo> {
    if !msg.msg_id.contains('#') {
        return None;
    }
    SignalingInfo::from_elem(&msg.elem)
}

/// Whether an invitation id is acceptable: 1–64 letters, digits, `-` or `_`.
pub fn is_valid_invite_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_INVITE_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `signal.invite` request: a new invitation (C2C: `group_id` empty and one invitee).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteReq {
    /// Made by the SDK (kept across retries; the server deduplicates on it).
    pub invite_id: String,
    /// Group invitation: the group; empty for C2C.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group_id: String,
    /// Who is invited (C2C: exactly one user).
    pub invitees: Vec<String>,
    /// App data.
    #[serde(default)]
    pub data: String,
    /// Online-only: delivered to online sessions only, never stored.
    #[serde(default)]
    pub online_only: bool,
    /// Seconds until unanswered invitees time out; 0 = never.
    #[serde(default)]
    pub timeout: u32,
    /// Offline push settings carried with the invitation (`desc` is the push text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_push: Option<OfflinePushInfo>,
}

/// `signal.accept`, `signal.reject` and `signal.cancel` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalReq {
    /// The invitation.
    pub invite_id: String,
    /// Made by the SDK for this call and kept across its retries, so a retry after a lost
    /// answer is recognised as the same action (and answered as it was) instead of refused.
    pub action_id: String,
    /// App data of the action.
    #[serde(default)]
    pub data: String,
}

/// Answer to the signaling requests that change state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRes {
    /// The messages this action appended (with their seqs), which the acting device stores as
    /// its own; empty for online-only invitations.
    #[serde(default)]
    pub msgs: Vec<WireMessage>,
}

/// `signal.get` request: an invitation as it was issued (`addInvitedSignaling`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalGetReq {
    /// The invitation.
    pub invite_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SignalingInfo {
        SignalingInfo {
            invite_id: "abc".into(),
            inviter: "alice".into(),
            invitee_list: vec!["bob".into()],
            group_id: String::new(),
            data: "{\"roomID\":42}".into(),
            timeout: 30,
            action_type: SignalingAction::Invite,
        }
    }

    #[test]
    fn payload_is_v2tims_json_and_round_trips() {
        let json = info().to_json();
        assert_eq!(
            json,
            r#"{"businessID":1,"inviteID":"abc","inviter":"alice","inviteeList":["bob"],"groupID":"","data":"{\"roomID\":42}","timeout":30,"actionType":1}"#
        );
        assert_eq!(SignalingInfo::from_json(json.as_bytes()), Some(info()));
        assert_eq!(SignalingInfo::from_elem(&info().to_elem()), Some(info()));
    }

    #[test]
    fn other_payloads_are_not_signaling() {
        for bad in [
            "hello",
            r#"{"businessID":2,"inviteID":"x","inviter":"a","actionType":1}"#,
            r#"{"businessID":1,"inviteID":"","inviter":"a","actionType":1}"#,
            r#"{"businessID":1,"inviteID":"x","inviter":"a","actionType":9}"#,
        ] {
            assert_eq!(SignalingInfo::from_json(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(SignalingInfo::from_elem(&Elem::Text { text: info().to_json() }), None);
        // A client-made id (no '#') is never a signaling message, whatever its data.
        let mut msg = WireMessage::new("client-id", info().to_elem());
        assert_eq!(signaling_of(&msg), None);
        msg.msg_id = "abc#1#bob".into();
        assert_eq!(signaling_of(&msg), Some(info()));
    }

    #[test]
    fn invite_ids() {
        assert!(is_valid_invite_id("0123abcdef_-X"));
        assert!(!is_valid_invite_id(""));
        assert!(!is_valid_invite_id("a#b"));
        assert!(!is_valid_invite_id(&"a".repeat(65)));
    }
}
