//! Typed bodies of requests, responses and pushes.

use serde::{Deserialize, Serialize};

use crate::ids::ConvId;

/// Largest message body (text, custom data + description + extension), in bytes: V2TIM's
/// 12 KB content limit. Checked by the SDK (8001) and again by the server (80002).
pub const MAX_MSG_BODY_BYTES: usize = 12 * 1024;

/// Largest page a [`PullReq`] or [`SyncReq`] may ask for.
pub const MAX_PAGE: u32 = 1000;

// ---- login -----------------------------------------------------------------------------------

/// `login` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginReq {
    /// The app the SDK was initialised for.
    pub sdk_app_id: u64,
    /// Who logs in.
    pub user_id: String,
    /// TLSSigAPIv2 ticket for `user_id` and `sdk_app_id`.
    pub user_sig: String,
    /// Device class ("android", "ios", "linux", ...). One session per user and platform: a
    /// second login on the same platform kicks the first.
    pub platform: String,
    /// SDK version, for the server's logs.
    #[serde(default)]
    pub sdk_version: String,
}

/// `login` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRes {
    /// Server clock, Unix milliseconds, when the response was made (for `getServerTime`).
    pub server_time_ms: i64,
    /// When the UserSig expires, Unix seconds.
    pub usersig_expire_at: i64,
}

/// `kicked` push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KickedPush {
    /// Platform of the login that took over.
    pub platform: String,
}

// ---- messages --------------------------------------------------------------------------------

/// The content of a message: exactly one element (API 2.0 messages carry one elem).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Elem {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// Custom binary data (base64 on the wire) with optional description and extension.
    Custom {
        /// Opaque data.
        #[serde(with = "b64")]
        data: Vec<u8>,
        /// Description (push text for custom messages).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        /// Extension.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        extension: String,
    },
}

impl Elem {
    /// Size of the content that counts against [`MAX_MSG_BODY_BYTES`].
    pub fn body_len(&self) -> usize {
        match self {
            Elem::Text { text } => text.len(),
            Elem::Custom { data, description, extension } => data.len() + description.len() + extension.len(),
        }
    }

    /// Whether the element has no content at all (V2TIM rejects empty text).
    pub fn is_empty(&self) -> bool {
        match self {
            Elem::Text { text } => text.is_empty(),
            Elem::Custom { .. } => false,
        }
    }
}

/// A message as it travels between SDK and server.
///
/// On `msg.send` the SDK fills the content and addressing; the server fills `sender`, `seq` and
/// `time_ms`. Pushes and pulls carry the complete message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// Client-made id, kept across retries; the server deduplicates on it.
    pub msg_id: String,
    /// Position in the conversation, assigned by the server from 1, never reused. 0 for
    /// online-only messages, which are never stored.
    #[serde(default)]
    pub seq: u64,
    /// Sender's user id.
    #[serde(default)]
    pub sender: String,
    /// C2C receiver's user id; empty for group messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub receiver: String,
    /// Group id; empty for C2C messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group_id: String,
    /// Server time of acceptance, Unix milliseconds.
    #[serde(default)]
    pub time_ms: i64,
    /// Client random, as V2TIM's `random`.
    #[serde(default)]
    pub random: u32,
    /// `V2TIMMessagePriority` value.
    #[serde(default)]
    pub priority: i32,
    /// Online-only: not stored, not synced, not counted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub online_only: bool,
    /// The content.
    pub elem: Elem,
    /// App data that roams with the message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cloud_custom_data: String,
}

impl WireMessage {
    /// The conversation this message belongs to, seen by `me`.
    pub fn conv_id_for(&self, me: &str) -> ConvId {
        if !self.group_id.is_empty() {
            ConvId::Group(self.group_id.clone())
        } else if self.sender == me {
            ConvId::C2C(self.receiver.clone())
        } else {
            ConvId::C2C(self.sender.clone())
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `msg.send` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMsgReq {
    /// The message; `sender`, `seq` and `time_ms` are ignored and filled by the server.
    pub msg: WireMessage,
}

/// `msg.send` response. A resend of an already stored `msg_id` answers with the original values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMsgRes {
    /// The message's seq in its conversation (0 for online-only messages).
    pub seq: u64,
    /// Server time of acceptance, Unix milliseconds.
    pub time_ms: i64,
}

// ---- sync ------------------------------------------------------------------------------------

/// `sync` request: the user's conversations that changed after `since`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReq {
    /// The `version` of the last [`SyncRes`] page this device processed completely (0 = never).
    pub since: u64,
    /// Page size, at most [`MAX_PAGE`].
    pub limit: u32,
}

/// One conversation's server state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvState {
    /// The conversation, seen by the requesting user.
    pub conv_id: ConvId,
    /// Highest seq in the conversation.
    pub max_seq: u64,
    /// Change stamp of this entry; pages are ordered by it.
    pub version: u64,
}

/// `sync` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRes {
    /// Changed conversations, ascending by `version`.
    pub convs: Vec<ConvState>,
    /// Cursor for the next page (the last entry's version, or `since` if none).
    pub version: u64,
    /// More pages follow.
    pub has_more: bool,
}

/// `msg.pull` request: messages of one conversation with `after_seq < seq <= up_to_seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullReq {
    /// The conversation, seen by the requesting user.
    pub conv_id: ConvId,
    /// Exclusive lower bound.
    pub after_seq: u64,
    /// Inclusive upper bound (0 = no bound).
    #[serde(default)]
    pub up_to_seq: u64,
    /// Page size, at most [`MAX_PAGE`].
    pub limit: u32,
}

/// `msg.pull` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRes {
    /// Messages ascending by seq. Seqs may be missing only where messages were deleted for
    /// everyone; the client advances its cursor over them.
    pub msgs: Vec<WireMessage>,
    /// The conversation's highest seq at the time of the pull.
    pub max_seq: u64,
    /// Highest seq this page covers: the next page starts after it.
    pub covered_seq: u64,
}

/// Base64 (standard alphabet) for binary fields.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserialises base64 into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_elem_is_base64_on_the_wire() {
        let elem = Elem::Custom { data: vec![0, 1, 255], description: String::new(), extension: "x".into() };
        let json = serde_json::to_string(&elem).unwrap();
        assert_eq!(json, r#"{"type":"custom","data":"AAH/","extension":"x"}"#);
        assert_eq!(serde_json::from_str::<Elem>(&json).unwrap(), elem);
        assert_eq!(elem.body_len(), 4);
    }

    #[test]
    fn conversation_of_a_message_depends_on_who_looks() {
        let msg = WireMessage {
            msg_id: "m".into(),
            seq: 1,
            sender: "alice".into(),
            receiver: "bob".into(),
            group_id: String::new(),
            time_ms: 0,
            random: 0,
            priority: 0,
            online_only: false,
            elem: Elem::Text { text: "hi".into() },
            cloud_custom_data: String::new(),
        };
        assert_eq!(msg.conv_id_for("alice"), ConvId::C2C("bob".into()));
        assert_eq!(msg.conv_id_for("bob"), ConvId::C2C("alice".into()));
    }
}
