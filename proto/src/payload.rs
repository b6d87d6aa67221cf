//! Typed bodies of requests, responses and pushes.

use serde::{Deserialize, Serialize};

use crate::ids::ConvId;

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

pub use crate::message::{Elem, MAX_MSG_BODY_BYTES, WireMessage};

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

/// `msg.revoke` request: revoke one of the user's own messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokeReq {
    /// The conversation, seen by the requesting user.
    pub conv_id: ConvId,
    /// The message to revoke.
    pub msg_id: String,
}

/// `msg.revoke` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRes {
    /// Seq of the revoke notice appended to the conversation.
    pub seq: u64,
}

/// `msg.read` request: the user read `conv_id` up to `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadReq {
    /// The conversation.
    pub conv_id: ConvId,
    /// Read position; 0 = everything there is now.
    #[serde(default)]
    pub seq: u64,
}

/// `msg.read` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRes {
    /// The user's read position now (it never moves back).
    pub read_seq: u64,
}

/// Most messages one `msg.delete` may name (V2TIM: 30).
pub const MAX_DELETE: usize = 30;

/// `msg.delete` request: delete messages for this user (all of the user's devices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteReq {
    /// The conversation they are in.
    pub conv_id: ConvId,
    /// At most [`MAX_DELETE`] message ids.
    pub msg_ids: Vec<String>,
}

/// `msg.clear` request: clear the conversation's history for this user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClearReq {
    /// The conversation.
    pub conv_id: ConvId,
}

/// `msg.clear` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearRes {
    /// Everything up to this seq is gone for the user.
    pub seq: u64,
}

/// `msg.history` request: a page of older messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryReq {
    /// The conversation.
    pub conv_id: ConvId,
    /// Messages with a smaller seq; 0 = from the newest.
    #[serde(default)]
    pub before_seq: u64,
    /// Page size, at most [`MAX_PAGE`].
    pub limit: u32,
}

/// `msg.history` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRes {
    /// Newest first. Messages this user deleted or cleared are left out.
    pub msgs: Vec<WireMessage>,
    /// The lowest seq this page covers: the next page is `before_seq = covered_from`. 1 (or
    /// the user's clear position + 1) when the start of the conversation was reached.
    pub covered_from: u64,
    /// The page reached the start of the conversation (for this user).
    pub reached_start: bool,
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

/// One conversation's server state, seen by the requesting user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvState {
    /// The conversation, seen by the requesting user.
    pub conv_id: ConvId,
    /// Highest seq in the conversation (for a former group member: the last one meant for them).
    pub max_seq: u64,
    /// Change stamp of this entry; pages are ordered by it.
    pub version: u64,
    /// The user's read position.
    #[serde(default)]
    pub read_seq: u64,
    /// The user's receive option (`V2TIMReceiveMessageOpt`: 0, 1 nothing, 2 no offline push).
    #[serde(default)]
    pub recv_opt: i32,
    /// Pinned by the user.
    #[serde(default)]
    pub pinned: bool,
    /// Deleted by the user (`deleteConversation`) and nothing new since: not listed.
    #[serde(default)]
    pub deleted: bool,
    /// Groups: the type, name and avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<ConvGroup>,
}

/// What a conversation list shows of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGroup {
    /// `Work`, `Public`, `Meeting`, `AVChatRoom`.
    pub group_type: String,
    /// Name.
    pub name: String,
    /// Avatar URL.
    pub face_url: String,
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

/// A range of a conversation, `(after_seq, up_to_seq]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRange {
    /// The conversation.
    pub conv_id: ConvId,
    /// Exclusive lower bound.
    pub after_seq: u64,
    /// Inclusive upper bound.
    pub up_to_seq: u64,
}

/// `conv.unread`: how many of the user's messages in each range are unread-countable (not the
/// user's own, not revoked, deleted or cleared, not notices or group tips). A device that did
/// not download a conversation's older messages learns this way how many of them are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadReq {
    /// At most [`MAX_PAGE`] ranges.
    pub ranges: Vec<SeqRange>,
}

/// `conv.unread` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadRes {
    /// One count per range, in request order.
    pub counts: Vec<u64>,
}

/// `conv.delete`: the conversation disappears for the user, with its messages (on every
/// device of the user), until a new message arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvReq {
    /// The conversation.
    pub conv_id: ConvId,
}

/// `conv.pin` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinReq {
    /// The conversation.
    pub conv_id: ConvId,
    /// Pin (true) or unpin.
    pub pinned: bool,
}

/// `conv.c2c_recv_opt.set` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2CRecvOptReq {
    /// Peers (at most 30).
    pub user_ids: Vec<String>,
    /// `V2TIMReceiveMessageOpt`.
    pub opt: i32,
}

/// `conv.c2c_recv_opt.get` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2CRecvOptGetReq {
    /// Peers (at most 30).
    pub user_ids: Vec<String>,
}

/// One peer's receive option (`V2TIMReceiveMessageOptInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecvOptInfo {
    /// The peer.
    pub user_id: String,
    /// `V2TIMReceiveMessageOpt`.
    pub opt: i32,
}

/// `conv.c2c_recv_opt.get` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct C2CRecvOptRes {
    /// In request order.
    pub opts: Vec<RecvOptInfo>,
}

/// Most peers per `setC2CReceiveMessageOpt` / `getC2CReceiveMessageOpt` call (V2TIM: 30).
pub const MAX_RECV_OPT_USERS: usize = 30;

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
