//! Messages as the app sees them (`V2TIMMessage` and its parts), with V2TIM's names and
//! numeric values.
//!
//! A message's content ([`Elem`] and its parts) is the protocol's own type: the SDK and the
//! server carry the same V2TIM elements, and the store keeps them as sent. Everything else here
//! is the SDK's.

pub use oxim_proto::ids::ConvId;
pub use oxim_proto::message::{Elem, FileRef, ImageInfo, OfflinePushInfo, WireMessage, image_type};
pub use oxim_proto::signaling::{SignalingAction, SignalingInfo};

/// `V2TIMMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Being sent.
    Sending = 1,
    /// Sent (or received).
    SendSucc = 2,
    /// Sending failed.
    SendFail = 3,
    /// Deleted.
    HasDeleted = 4,
    /// Imported into local storage.
    LocalImported = 5,
    /// Revoked.
    LocalRevoked = 6,
}

impl MessageStatus {
    /// From the stored number.
    pub fn from_i32(v: i32) -> MessageStatus {
        match v {
            1 => MessageStatus::Sending,
            3 => MessageStatus::SendFail,
            4 => MessageStatus::HasDeleted,
            5 => MessageStatus::LocalImported,
            6 => MessageStatus::LocalRevoked,
            _ => MessageStatus::SendSucc,
        }
    }
}

/// `V2TIMElemType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    /// No element (also notices and events, which apps never see as messages).
    None = 0,
    /// Text.
    Text = 1,
    /// Custom data.
    Custom = 2,
    /// Image.
    Image = 3,
    /// Voice.
    Sound = 4,
    /// Video.
    Video = 5,
    /// File.
    File = 6,
    /// Location.
    Location = 7,
    /// Sticker.
    Face = 8,
    /// Group tips.
    GroupTips = 9,
    /// Merged messages.
    Merger = 10,
}

impl ElemType {
    /// The type of `elem`.
    pub fn of(elem: &Elem) -> ElemType {
        match elem {
            Elem::Text { .. } => ElemType::Text,
            Elem::Custom { .. } => ElemType::Custom,
            Elem::Image { .. } => ElemType::Image,
            Elem::Sound { .. } => ElemType::Sound,
            Elem::Video { .. } => ElemType::Video,
            Elem::File { .. } => ElemType::File,
            Elem::Location { .. } => ElemType::Location,
            Elem::Face { .. } => ElemType::Face,
            Elem::Merger { .. } => ElemType::Merger,
            Elem::GroupTips { .. } => ElemType::GroupTips,
            Elem::Revoke { .. } | Elem::Event { .. } => ElemType::None,
        }
    }
}

/// `V2TIMMessagePriority`.
pub mod priority {
    /// Default.
    pub const DEFAULT: i32 = 0;
    /// High (gifts, important notices).
    pub const HIGH: i32 = 1;
    /// Normal.
    pub const NORMAL: i32 = 2;
    /// Low (likes); dropped first under load.
    pub const LOW: i32 = 3;
}

/// `V2TIMUserInfo`: who sent a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// User id.
    pub user_id: String,
    /// Nickname (empty until profiles exist).
    pub nick_name: String,
    /// Avatar URL.
    pub face_url: String,
}

/// `V2TIMMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Message id, made by the sending SDK.
    pub msg_id: String,
    /// Server time of the message, Unix seconds (local time while not yet sent).
    pub timestamp: i64,
    /// The same in milliseconds (orders history).
    pub time_ms: i64,
    /// Sender's user id.
    pub sender: String,
    /// Sender's nickname.
    pub nick_name: String,
    /// Sender's avatar.
    pub face_url: String,
    /// The remark the logged-in user gave the sender.
    pub friend_remark: String,
    /// The sender's name card in the group.
    pub name_card: String,
    /// C2C: the other user (the receiver when sent by me, the sender otherwise).
    pub user_id: String,
    /// Group messages: the group.
    pub group_id: String,
    /// Sent by the logged-in user.
    pub is_self: bool,
    /// Read by the logged-in user (own messages count as read).
    pub is_read: bool,
    /// C2C: the peer has read it (own messages only).
    pub is_peer_read: bool,
    /// Status.
    pub status: MessageStatus,
    /// Priority (`priority::*`).
    pub priority: i32,
    /// Position in the conversation (0 until the server assigned it).
    pub seq: u64,
    /// Random.
    pub random: u32,
    /// Content.
    pub elem: Elem,
    /// App data that roams with the message.
    pub cloud_custom_data: String,
    /// App data kept on this device only.
    pub local_custom_data: String,
    /// App number kept on this device only (e.g. "voice played").
    pub local_custom_int: i32,
    /// Users @-mentioned.
    pub group_at_user_list: Vec<String>,
    /// Offline push settings it was sent with.
    pub offline_push_info: Option<OfflinePushInfo>,
    /// Sent to online users only (never stored on the server).
    pub online_user_only: bool,
}

impl Message {
    /// Builds the SDK view of a wire message, seen by `me`.
    pub fn from_wire(wire: &WireMessage, me: &str, status: MessageStatus) -> Message {
        let is_self = wire.sender == me;
        Message {
            msg_id: wire.msg_id.clone(),
            timestamp: wire.time_ms / 1000,
            time_ms: wire.time_ms,
            sender: wire.sender.clone(),
            nick_name: String::new(),
            face_url: String::new(),
            friend_remark: String::new(),
            name_card: String::new(),
            user_id: if !wire.group_id.is_empty() {
                String::new()
            } else if is_self {
                wire.receiver.clone()
            } else {
                wire.sender.clone()
            },
            group_id: wire.group_id.clone(),
            is_self,
            is_read: is_self,
            is_peer_read: false,
            status: if wire.revoked { MessageStatus::LocalRevoked } else { status },
            priority: wire.priority,
            seq: wire.seq,
            random: wire.random,
            elem: wire.elem.clone(),
            cloud_custom_data: wire.cloud_custom_data.clone(),
            local_custom_data: String::new(),
            local_custom_int: 0,
            group_at_user_list: wire.at_users.clone(),
            offline_push_info: wire.offline_push.clone(),
            online_user_only: wire.online_only,
        }
    }

    /// A new, unsent message from `sender` with `elem` (`createXxxMessage`).
    pub fn draft(sender: &str, elem: Elem, msg_id: String, now_ms: i64) -> Message {
        let mut wire = WireMessage::new(msg_id, elem);
        wire.sender = sender.to_owned();
        wire.time_ms = now_ms;
        wire.random = fastrand::u32(..);
        Message::from_wire(&wire, sender, MessageStatus::Sending)
    }

    /// The wire form: what the server stores (local paths included here; the send path strips
    /// them).
    pub fn to_wire(&self) -> WireMessage {
        let receiver = if self.group_id.is_empty() { self.user_id.clone() } else { String::new() };
        WireMessage {
            msg_id: self.msg_id.clone(),
            seq: self.seq,
            sender: self.sender.clone(),
            receiver,
            group_id: self.group_id.clone(),
            time_ms: self.time_ms,
            random: self.random,
            priority: self.priority,
            online_only: self.online_user_only,
            elem: self.elem.clone(),
            cloud_custom_data: self.cloud_custom_data.clone(),
            at_users: self.group_at_user_list.clone(),
            offline_push: self.offline_push_info.clone(),
            revoked: self.status == MessageStatus::LocalRevoked,
        }
    }

    /// The conversation it belongs to.
    pub fn conv_id(&self) -> ConvId {
        if self.group_id.is_empty() { ConvId::C2C(self.user_id.clone()) } else { ConvId::Group(self.group_id.clone()) }
    }

    /// The element type.
    pub fn elem_type(&self) -> ElemType {
        ElemType::of(&self.elem)
    }

    /// The sender as `V2TIMUserInfo`.
    pub fn sender_info(&self) -> UserInfo {
        UserInfo { user_id: self.sender.clone(), nick_name: self.nick_name.clone(), face_url: self.face_url.clone() }
    }
}

/// `V2TIMMessageReceipt`: the peer read my C2C messages up to `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageReceipt {
    /// The reader.
    pub user_id: String,
    /// Messages up to this time (Unix seconds) are read.
    pub timestamp: i64,
    /// And up to this seq.
    pub seq: u64,
}

/// `V2TIMMessageGetType`: where and which way `getHistoryMessageList` looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryGetType {
    /// From the server, older than the anchor.
    CloudOlder = 1,
    /// From the server, newer than the anchor.
    CloudNewer = 2,
    /// From this device, older than the anchor.
    LocalOlder = 3,
    /// From this device, newer than the anchor.
    LocalNewer = 4,
}

/// `V2TIMMessageListGetOption`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryOption {
    /// Where and which way.
    pub get_type: HistoryGetType,
    /// C2C peer (or empty).
    pub user_id: String,
    /// Group (or empty).
    pub group_id: String,
    /// Page size (1..=100).
    pub count: u32,
    /// Anchor message (excluded); `None` = from the newest (older) or oldest (newer).
    pub last_msg: Option<Message>,
    /// Anchor by seq instead of message (groups), 0 = none.
    pub last_msg_seq: u64,
}
