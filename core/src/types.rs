//! The SDK's data model, with V2TIM's names and numeric values.

use std::path::PathBuf;
use std::time::Duration;

pub use oxim_proto::ids::ConvId;
pub use oxim_proto::payload::Elem;
use oxim_proto::payload::WireMessage;

/// `V2TIMLogLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// No output.
    None = 0,
    /// Debug and above.
    Debug = 3,
    /// Info and above.
    #[default]
    Info = 4,
    /// Warnings and errors.
    Warn = 5,
    /// Errors only.
    Error = 6,
}

/// `V2TIMSDKConfig` plus what a self-hosted SDK must be told.
#[derive(Debug, Clone)]
pub struct SdkConfig {
    /// The server, e.g. `ws://127.0.0.1:8080` (the path `/v1/ws` is added when missing) or
    /// `wss://im.example.com`.
    pub server_url: String,
    /// Directory for the local databases (one per user). Created if missing.
    pub data_dir: PathBuf,
    /// Log level.
    pub log_level: LogLevel,
    /// Device class for the one-session-per-platform rule; empty = this OS ("android", "ios",
    /// "macos", "linux", "windows").
    pub platform: String,
    /// How often to send a heartbeat.
    pub heartbeat_interval: Duration,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
}

impl SdkConfig {
    /// A configuration with defaults for everything but the server and the data directory.
    pub fn new(server_url: impl Into<String>, data_dir: impl Into<PathBuf>) -> SdkConfig {
        SdkConfig {
            server_url: server_url.into(),
            data_dir: data_dir.into(),
            log_level: LogLevel::default(),
            platform: String::new(),
            heartbeat_interval: Duration::from_secs(20),
            request_timeout: Duration::from_secs(15),
        }
    }

    /// The platform name used at login.
    pub fn platform_name(&self) -> String {
        if !self.platform.is_empty() {
            return self.platform.clone();
        }
        match std::env::consts::OS {
            "android" => "android",
            "ios" => "ios",
            "macos" => "macos",
            "windows" => "windows",
            _ => "linux",
        }
        .to_owned()
    }
}

/// `V2TIMLoginStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// Logged in.
    Logined = 1,
    /// A login is in progress.
    Logining = 2,
    /// Not logged in.
    Logout = 3,
}

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
    /// No element.
    None = 0,
    /// Text.
    Text = 1,
    /// Custom data.
    Custom = 2,
}

impl ElemType {
    /// The type of `elem`.
    pub fn of(elem: &Elem) -> ElemType {
        match elem {
            Elem::Text { .. } => ElemType::Text,
            Elem::Custom { .. } => ElemType::Custom,
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
    /// Sender's user id.
    pub sender: String,
    /// Sender's nickname.
    pub nick_name: String,
    /// Sender's avatar.
    pub face_url: String,
    /// C2C: the other user (the receiver when sent by me, the sender otherwise).
    pub user_id: String,
    /// Group messages: the group.
    pub group_id: String,
    /// Sent by the logged-in user.
    pub is_self: bool,
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
            sender: wire.sender.clone(),
            nick_name: String::new(),
            face_url: String::new(),
            user_id: if !wire.group_id.is_empty() {
                String::new()
            } else if is_self {
                wire.receiver.clone()
            } else {
                wire.sender.clone()
            },
            group_id: wire.group_id.clone(),
            is_self,
            status,
            priority: wire.priority,
            seq: wire.seq,
            random: wire.random,
            elem: wire.elem.clone(),
            cloud_custom_data: wire.cloud_custom_data.clone(),
            online_user_only: wire.online_only,
        }
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
