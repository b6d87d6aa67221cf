//! Conversations as the app sees them (`V2TIMConversation` and its parts).

use crate::model::message::Message;

/// `V2TIMGroupAtInfo` types.
pub mod at_type {
    /// Someone @-mentioned me.
    pub const AT_ME: i32 = 1;
    /// Someone @-mentioned everyone.
    pub const AT_ALL: i32 = 2;
    /// Both.
    pub const AT_ALL_AT_ME: i32 = 3;
}

/// `V2TIMGroupAtInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAtInfo {
    /// The message's seq.
    pub seq: u64,
    /// [`at_type`].
    pub at_type: i32,
}

/// `V2TIMConversation`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// `c2c_<userID>` or `group_<groupID>`.
    pub conversation_id: String,
    /// 1 C2C, 2 group (`V2TIMConversationType`).
    pub conv_type: i32,
    /// C2C: the peer.
    pub user_id: String,
    /// Group: the group.
    pub group_id: String,
    /// Group: its type.
    pub group_type: String,
    /// C2C: the peer's id (no profiles yet); group: its name.
    pub show_name: String,
    /// Avatar.
    pub face_url: String,
    /// `V2TIMReceiveMessageOpt`.
    pub recv_opt: i32,
    /// Unread messages.
    pub unread_count: u64,
    /// The newest message (`None` after clearing).
    pub last_message: Option<Box<Message>>,
    /// Draft text.
    pub draft_text: String,
    /// When the draft was set, Unix seconds (0: no draft).
    pub draft_timestamp: i64,
    /// Unread @ mentions of me or everyone.
    pub group_at_info_list: Vec<GroupAtInfo>,
    /// Pinned.
    pub is_pinned: bool,
    /// The list is ordered by this, descending (pinned first, then by last activity).
    pub order_key: i64,
}

/// What a refresh found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvChange {
    /// It entered the list.
    New,
    /// Something the app sees changed.
    Changed,
}

/// `V2TIMConversationResult`: a page of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationResult {
    /// Cursor for the next page.
    pub next_seq: u64,
    /// No more pages.
    pub is_finished: bool,
    /// The conversations, pinned first, then by last activity.
    pub conversation_list: Vec<Conversation>,
}

/// A peer's C2C receive option (`V2TIMReceiveMessageOptInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvOptInfo {
    /// The peer.
    pub user_id: String,
    /// `V2TIMReceiveMessageOpt`: 0 receive, 1 receive nothing, 2 receive without offline push.
    pub opt: i32,
}

impl From<oxim_proto::payload::RecvOptInfo> for RecvOptInfo {
    fn from(r: oxim_proto::payload::RecvOptInfo) -> Self {
        RecvOptInfo { user_id: r.user_id, opt: r.opt }
    }
}
