//! The UDL's records, and their conversions from and to `oxim-core` types.

use oxim_core as core;

use crate::enums::*;

/// `V2TIMSDKConfig`.
#[derive(Debug, Clone)]
pub struct V2TIMSDKConfig {
    /// Server URL.
    pub server_url: String,
    /// Local data directory.
    pub data_dir: String,
    /// Log level.
    pub log_level: V2TIMLogLevel,
    /// Platform override.
    pub platform: String,
}

impl From<V2TIMSDKConfig> for core::SdkConfig {
    fn from(c: V2TIMSDKConfig) -> Self {
        let mut config = core::SdkConfig::new(c.server_url, c.data_dir);
        config.log_level = c.log_level.into();
        config.platform = c.platform;
        config
    }
}

/// `V2TIMUserInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMUserInfo {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nick_name: String,
    /// Avatar URL.
    pub face_url: String,
}

impl From<core::UserInfo> for V2TIMUserInfo {
    fn from(u: core::UserInfo) -> Self {
        V2TIMUserInfo { user_id: u.user_id, nick_name: u.nick_name, face_url: u.face_url }
    }
}

/// `V2TIMUserFullInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMUserFullInfo {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nick_name: String,
    /// Avatar URL.
    pub face_url: String,
    /// Signature line.
    pub self_signature: String,
}

impl From<core::UserInfo> for V2TIMUserFullInfo {
    fn from(u: core::UserInfo) -> Self {
        V2TIMUserFullInfo {
            user_id: u.user_id,
            nick_name: u.nick_name,
            face_url: u.face_url,
            self_signature: String::new(),
        }
    }
}

/// `V2TIMTextElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMTextElem {
    /// The text.
    pub text: String,
}

/// `V2TIMCustomElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMCustomElem {
    /// Opaque data.
    pub data: Vec<u8>,
    /// Description.
    pub desc: String,
    /// Extension.
    pub extension: String,
}

/// `V2TIMMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct V2TIMMessage {
    /// Message id.
    pub msg_id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// Sender.
    pub sender: String,
    /// Sender's nickname.
    pub nick_name: String,
    /// Sender's avatar.
    pub face_url: String,
    /// C2C peer.
    pub user_id: String,
    /// Group.
    pub group_id: String,
    /// Sent by me.
    pub is_self: bool,
    /// Status.
    pub status: V2TIMMessageStatus,
    /// Element type.
    pub elem_type: V2TIMElemType,
    /// Text content.
    pub text_elem: Option<V2TIMTextElem>,
    /// Custom content.
    pub custom_elem: Option<V2TIMCustomElem>,
    /// Priority.
    pub priority: i32,
    /// Server seq.
    pub seq: i64,
    /// Random.
    pub random: i64,
    /// Roaming app data.
    pub cloud_custom_data: String,
}

impl From<core::Message> for V2TIMMessage {
    fn from(m: core::Message) -> Self {
        let elem_type = m.elem_type().into();
        let (text_elem, custom_elem) = match m.elem {
            core::Elem::Text { text } => (Some(V2TIMTextElem { text }), None),
            core::Elem::Custom { data, description, extension } => {
                (None, Some(V2TIMCustomElem { data, desc: description, extension }))
            }
        };
        V2TIMMessage {
            msg_id: m.msg_id,
            timestamp: m.timestamp,
            sender: m.sender,
            nick_name: m.nick_name,
            face_url: m.face_url,
            user_id: m.user_id,
            group_id: m.group_id,
            is_self: m.is_self,
            status: m.status.into(),
            elem_type,
            text_elem,
            custom_elem,
            priority: m.priority,
            seq: m.seq as i64,
            random: m.random as i64,
            cloud_custom_data: m.cloud_custom_data,
        }
    }
}
