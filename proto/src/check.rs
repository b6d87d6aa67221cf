//! The checks a message must pass before it is sent: one definition for the SDK (which checks
//! early, before anything is stored or uploaded) and the server (which checks everything again
//! and trusts nothing). Pure: no I/O.
//!
//! Both sides report the same V2TIM codes, except the size limit, which V2TIM numbers by who
//! found it: [`code::SDK_MSG_BODY_SIZE_LIMIT`] (8001) in the SDK,
//! [`code::SVR_COMM_BODY_SIZE_LIMIT`] (80002) on the server. [`Problem::code`] takes the side.
//!
//! - [`check_content`]: the element alone (what `sendMessage` and message editing check).
//! - [`check_message`]: a whole outgoing message: its id, its address, its content, its @ list.

use std::fmt;

use crate::code;
use crate::message::{Elem, MAX_AT_USERS, MAX_ELEM_BYTES, MAX_MERGED_MESSAGES, MAX_MSG_BODY_BYTES, WireMessage};
use crate::signaling::SignalingInfo;

/// Longest client message id accepted, in bytes.
pub const MAX_MSG_ID_BYTES: usize = 64;

/// Which side found a problem (only the size limit's code depends on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The SDK, before sending.
    Sdk,
    /// The server, on receipt.
    Server,
}

/// Why a message may not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The message id is not 1–64 letters, digits, `-` or `_`.
    BadMsgId,
    /// Not exactly one of receiver and group is set.
    BadAddress,
    /// Notices, events and group tips are made by the server.
    NotSendable,
    /// No content at all.
    Empty,
    /// A signaling payload: signaling messages are made by the server from its invitations (a
    /// client-made one could ring a phone for an invitation that does not exist).
    Signaling,
    /// Text or custom data over [`MAX_MSG_BODY_BYTES`].
    BodyTooLarge(usize),
    /// The serialised element over [`MAX_ELEM_BYTES`].
    TooLarge(usize),
    /// A merged message of more than [`MAX_MERGED_MESSAGES`] messages.
    TooManyMerged(usize),
    /// More than [`MAX_AT_USERS`] users @-mentioned.
    TooManyAtUsers(usize),
}

impl Problem {
    /// The V2TIM error code, as `side` reports it.
    pub fn code(&self, side: Side) -> i32 {
        match (self, side) {
            (Problem::BodyTooLarge(_) | Problem::TooLarge(_), Side::Sdk) => code::SDK_MSG_BODY_SIZE_LIMIT,
            (Problem::BodyTooLarge(_) | Problem::TooLarge(_), Side::Server) => code::SVR_COMM_BODY_SIZE_LIMIT,
            _ => code::INVALID_PARAMETERS,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadMsgId => write!(f, "msgID must be 1-{MAX_MSG_ID_BYTES} letters, digits, '-' or '_'"),
            Problem::BadAddress => write!(f, "exactly one of receiver and groupID must be set"),
            Problem::NotSendable => write!(f, "notices and events are made by the server"),
            Problem::Empty => write!(f, "message content is empty"),
            Problem::Signaling => write!(f, "signaling messages are made by the server"),
            Problem::BodyTooLarge(len) => {
                write!(f, "message body is {len} bytes, the limit is {MAX_MSG_BODY_BYTES}")
            }
            Problem::TooLarge(len) => write!(f, "message is {len} bytes, the limit is {MAX_ELEM_BYTES}"),
            Problem::TooManyMerged(_) => write!(f, "at most {MAX_MERGED_MESSAGES} merged messages"),
            Problem::TooManyAtUsers(_) => write!(f, "at most {MAX_AT_USERS} @ users"),
        }
    }
}

impl std::error::Error for Problem {}

/// Whether `id` is an acceptable client message id: 1–64 letters, digits, `-` or `_` (ids the
/// server makes contain `#`, so they can never collide with a client's).
pub fn is_valid_msg_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_MSG_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an element against V2TIM's content rules: sendable by apps, not empty, not a
/// signaling payload, text/custom at most [`MAX_MSG_BODY_BYTES`], serialised at most
/// [`MAX_ELEM_BYTES`], at most [`MAX_MERGED_MESSAGES`] merged messages.
pub fn check_content(elem: &Elem) -> Result<(), Problem> {
    if !elem.is_sendable() {
        return Err(Problem::NotSendable);
    }
    if elem.is_empty() {
        return Err(Problem::Empty);
    }
    if SignalingInfo::from_elem(elem).is_some() {
        return Err(Problem::Signaling);
    }
    if elem.body_len() > MAX_MSG_BODY_BYTES {
        return Err(Problem::BodyTooLarge(elem.body_len()));
    }
    let len = serde_json::to_vec(elem).map(|v| v.len()).unwrap_or(usize::MAX);
    if len > MAX_ELEM_BYTES {
        return Err(Problem::TooLarge(len));
    }
    if let Elem::Merger { messages, .. } = elem
        && messages.len() > MAX_MERGED_MESSAGES
    {
        return Err(Problem::TooManyMerged(messages.len()));
    }
    Ok(())
}

/// Checks a whole outgoing message: its id ([`is_valid_msg_id`]), exactly one of receiver and
/// group, its content ([`check_content`]) and its @ list. Whether the receiver or group exists,
/// and whether the sender may write there, is for the server to find out.
pub fn check_message(msg: &WireMessage) -> Result<(), Problem> {
    if !is_valid_msg_id(&msg.msg_id) {
        return Err(Problem::BadMsgId);
    }
    if msg.receiver.is_empty() == msg.group_id.is_empty() {
        return Err(Problem::BadAddress);
    }
    check_content(&msg.elem)?;
    if msg.at_users.len() > MAX_AT_USERS {
        return Err(Problem::TooManyAtUsers(msg.at_users.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signaling::{SignalingAction, SignalingInfo};

    fn text(len: usize) -> Elem {
        Elem::Text { text: "x".repeat(len) }
    }

    fn msg(elem: Elem) -> WireMessage {
        let mut m = WireMessage::new("m-1", elem);
        m.receiver = "bob".into();
        m
    }

    #[test]
    fn content_rules_in_order_with_each_sides_codes() {
        assert_eq!(check_content(&text(1)), Ok(()));
        assert_eq!(check_content(&text(0)), Err(Problem::Empty));
        assert_eq!(check_content(&Elem::Revoke { msg_id: "m".into() }), Err(Problem::NotSendable));
        let big = check_content(&text(MAX_MSG_BODY_BYTES + 1)).unwrap_err();
        assert_eq!(big, Problem::BodyTooLarge(MAX_MSG_BODY_BYTES + 1));
        assert_eq!((big.code(Side::Sdk), big.code(Side::Server)), (8001, 80002));
        assert_eq!(Problem::Empty.code(Side::Sdk), 6017);
        assert_eq!(Problem::Empty.code(Side::Server), 6017);
        let call = SignalingInfo {
            invite_id: "inv".into(),
            inviter: "alice".into(),
            invitee_list: vec!["bob".into()],
            group_id: String::new(),
            data: String::new(),
            timeout: 0,
            action_type: SignalingAction::Invite,
        };
        assert_eq!(check_content(&call.to_elem()), Err(Problem::Signaling));
        let merged = |n: usize| Elem::Merger {
            title: "t".into(),
            abstract_list: vec![],
            compatible_text: String::new(),
            messages: (0..n).map(|i| WireMessage::new(format!("m{i}"), text(1))).collect(),
            layers_over_limit: false,
        };
        assert_eq!(check_content(&merged(MAX_MERGED_MESSAGES)), Ok(()));
        assert_eq!(check_content(&merged(MAX_MERGED_MESSAGES + 1)), Err(Problem::TooManyMerged(301)));
    }

    #[test]
    fn message_rules_check_id_address_and_at_list() {
        assert_eq!(check_message(&msg(text(1))), Ok(()));
        for bad in ["", "a#b", "a b", &"a".repeat(MAX_MSG_ID_BYTES + 1)] {
            let mut m = msg(text(1));
            m.msg_id = bad.into();
            assert_eq!(check_message(&m), Err(Problem::BadMsgId), "{bad:?}");
        }
        let mut both = msg(text(1));
        both.group_id = "g".into();
        assert_eq!(check_message(&both), Err(Problem::BadAddress));
        let mut neither = msg(text(1));
        neither.receiver.clear();
        assert_eq!(check_message(&neither), Err(Problem::BadAddress));
        let mut crowded = msg(text(1));
        crowded.at_users = (0..=MAX_AT_USERS).map(|i| format!("u{i}")).collect();
        assert_eq!(check_message(&crowded), Err(Problem::TooManyAtUsers(MAX_AT_USERS + 1)));
        assert_eq!(check_message(&msg(text(0))), Err(Problem::Empty));
    }
}
