//! The UDL's records, and their conversions from and to `oxim-core` types.

use std::collections::HashMap;

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
    /// Extra trusted certificate authorities (PEM).
    pub trusted_ca_pem: String,
}

impl From<V2TIMSDKConfig> for core::SdkConfig {
    fn from(c: V2TIMSDKConfig) -> Self {
        let mut config = core::SdkConfig::new(c.server_url, c.data_dir);
        config.log_level = c.log_level.into();
        config.platform = c.platform;
        config.trusted_ca_pem = c.trusted_ca_pem;
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

/// `V2TIMUserFullInfo`: reads fill every field; for `setSelfInfo` the fields that are set are
/// the ones changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMUserFullInfo {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nick_name: Option<String>,
    /// Avatar URL.
    pub face_url: Option<String>,
    /// Signature line.
    pub self_signature: Option<String>,
    /// Gender.
    pub gender: Option<V2TIMGender>,
    /// Role (0 to 2^31-1 here; a uint32 in V2TIM).
    pub role: Option<i32>,
    /// Level.
    pub level: Option<i32>,
    /// Birthday.
    pub birthday: Option<i64>,
    /// Who may add the user as a friend.
    pub allow_type: Option<V2TIMFriendAllowType>,
    /// Custom fields.
    pub custom_info: Option<HashMap<String, String>>,
}

impl From<core::UserFullInfo> for V2TIMUserFullInfo {
    fn from(u: core::UserFullInfo) -> Self {
        V2TIMUserFullInfo {
            user_id: u.user_id,
            nick_name: Some(u.nick_name),
            face_url: Some(u.face_url),
            self_signature: Some(u.self_signature),
            gender: Some(V2TIMGender::from_i32(u.gender)),
            role: Some(i32::try_from(u.role).unwrap_or(i32::MAX)),
            level: Some(i32::try_from(u.level).unwrap_or(i32::MAX)),
            birthday: Some(i64::from(u.birthday)),
            allow_type: Some(V2TIMFriendAllowType::from_i32(u.allow_type)),
            custom_info: Some(u.custom_info.into_iter().collect()),
        }
    }
}

impl TryFrom<V2TIMUserFullInfo> for core::UserInfoChange {
    type Error = core::Error;

    /// The change `setSelfInfo` makes: the fields that are set (`user_id` is ignored: a user
    /// changes only their own profile).
    fn try_from(u: V2TIMUserFullInfo) -> core::Result<Self> {
        fn unsigned(what: &str, v: Option<i64>) -> core::Result<Option<u32>> {
            v.map(|v| u32::try_from(v).map_err(|_| core::Error::invalid(format!("{what} {v} is not a uint32"))))
                .transpose()
        }
        Ok(core::UserInfoChange {
            nick_name: u.nick_name,
            face_url: u.face_url,
            self_signature: u.self_signature,
            gender: u.gender.map(|g| g as i32),
            role: unsigned("role", u.role.map(i64::from))?,
            level: unsigned("level", u.level.map(i64::from))?,
            birthday: unsigned("birthday", u.birthday)?,
            allow_type: u.allow_type.map(|a| a as i32),
            custom_info: u.custom_info.map(|m| m.into_iter().collect()),
        })
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

/// `V2TIMImage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMImage {
    /// File id.
    pub uuid: String,
    /// Variant.
    pub r#type: V2TIMImageType,
    /// Bytes.
    pub size: i64,
    /// Pixels.
    pub width: i32,
    /// Pixels.
    pub height: i32,
    /// Download URL.
    pub url: String,
}

/// `V2TIMImageElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMImageElem {
    /// Local path (sender).
    pub path: String,
    /// Variants.
    pub image_list: Vec<V2TIMImage>,
}

/// `V2TIMSoundElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMSoundElem {
    /// Local path (sender).
    pub path: String,
    /// File id.
    pub uuid: String,
    /// Bytes.
    pub data_size: i64,
    /// Seconds.
    pub duration: i32,
    /// Download URL.
    pub url: String,
}

/// `V2TIMVideoElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMVideoElem {
    /// Local path (sender).
    pub video_path: String,
    /// File id.
    pub video_uuid: String,
    /// Bytes.
    pub video_size: i64,
    /// e.g. "mp4".
    pub video_type: String,
    /// Seconds.
    pub duration: i32,
    /// Download URL.
    pub video_url: String,
    /// Local path of the snapshot (sender).
    pub snapshot_path: String,
    /// Snapshot file id.
    pub snapshot_uuid: String,
    /// Bytes.
    pub snapshot_size: i64,
    /// Pixels.
    pub snapshot_width: i32,
    /// Pixels.
    pub snapshot_height: i32,
    /// Download URL.
    pub snapshot_url: String,
}

/// `V2TIMFileElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFileElem {
    /// Local path (sender).
    pub path: String,
    /// Display name.
    pub file_name: String,
    /// File id.
    pub uuid: String,
    /// Bytes.
    pub file_size: i64,
    /// Download URL.
    pub url: String,
}

/// `V2TIMLocationElem`.
#[derive(Debug, Clone, PartialEq)]
pub struct V2TIMLocationElem {
    /// Description.
    pub desc: String,
    /// Degrees.
    pub longitude: f64,
    /// Degrees.
    pub latitude: f64,
}

/// `V2TIMFaceElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFaceElem {
    /// App-defined index.
    pub index: i32,
    /// App-defined data.
    pub data: Vec<u8>,
}

/// `V2TIMMergerElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMMergerElem {
    /// Nested deeper than V2TIM allows.
    pub is_layers_over_limit: bool,
    /// Title.
    pub title: String,
    /// Summary lines.
    pub abstract_list: Vec<String>,
    /// Fallback text.
    pub compatible_text: String,
}

/// `V2TIMOfflinePushInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMOfflinePushInfo {
    /// Title.
    pub title: String,
    /// Body.
    pub desc: String,
    /// Pass-through data.
    pub ext: String,
    /// Do not push.
    pub disable_push: bool,
    /// iOS sound.
    pub ios_sound: String,
    /// iOS: no badge increase.
    pub ignore_ios_badge: bool,
    /// OPPO channel.
    pub android_oppo_channel_id: String,
}

impl From<core::OfflinePushInfo> for V2TIMOfflinePushInfo {
    fn from(p: core::OfflinePushInfo) -> Self {
        V2TIMOfflinePushInfo {
            title: p.title,
            desc: p.desc,
            ext: p.ext,
            disable_push: p.disable_push,
            ios_sound: p.ios_sound,
            ignore_ios_badge: p.ignore_ios_badge,
            android_oppo_channel_id: p.android_oppo_channel_id,
        }
    }
}

impl From<V2TIMOfflinePushInfo> for core::OfflinePushInfo {
    fn from(p: V2TIMOfflinePushInfo) -> Self {
        core::OfflinePushInfo {
            title: p.title,
            desc: p.desc,
            ext: p.ext,
            disable_push: p.disable_push,
            ios_sound: p.ios_sound,
            ignore_ios_badge: p.ignore_ios_badge,
            android_oppo_channel_id: p.android_oppo_channel_id,
        }
    }
}

/// `V2TIMMessageReceipt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMMessageReceipt {
    /// Who read.
    pub user_id: String,
    /// Up to when, Unix seconds.
    pub timestamp: i64,
}

impl From<core::MessageReceipt> for V2TIMMessageReceipt {
    fn from(r: core::MessageReceipt) -> Self {
        V2TIMMessageReceipt { user_id: r.user_id, timestamp: r.timestamp }
    }
}

/// `V2TIMMessageListGetOption`.
#[derive(Debug, Clone, PartialEq)]
pub struct V2TIMMessageListGetOption {
    /// Where and which way.
    pub get_type: V2TIMMessageGetType,
    /// C2C peer.
    pub user_id: String,
    /// Group.
    pub group_id: String,
    /// Page size.
    pub count: i32,
    /// Anchor message.
    pub last_msg: Option<V2TIMMessage>,
    /// Anchor seq.
    pub last_msg_seq: i64,
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
    /// My remark for the sender.
    pub friend_remark: String,
    /// Sender's group name card.
    pub name_card: String,
    /// Sender's avatar.
    pub face_url: String,
    /// C2C peer.
    pub user_id: String,
    /// Group.
    pub group_id: String,
    /// Sent by me.
    pub is_self: bool,
    /// Read by me.
    pub is_read: bool,
    /// Read by the peer.
    pub is_peer_read: bool,
    /// Status.
    pub status: V2TIMMessageStatus,
    /// Element type.
    pub elem_type: V2TIMElemType,
    /// Text.
    pub text_elem: Option<V2TIMTextElem>,
    /// Custom.
    pub custom_elem: Option<V2TIMCustomElem>,
    /// Image.
    pub image_elem: Option<V2TIMImageElem>,
    /// Sound.
    pub sound_elem: Option<V2TIMSoundElem>,
    /// Video.
    pub video_elem: Option<V2TIMVideoElem>,
    /// File.
    pub file_elem: Option<V2TIMFileElem>,
    /// Location.
    pub location_elem: Option<V2TIMLocationElem>,
    /// Face.
    pub face_elem: Option<V2TIMFaceElem>,
    /// Merged messages.
    pub merger_elem: Option<V2TIMMergerElem>,
    /// Group tip (received only).
    pub group_tips_elem: Option<crate::group_manager::V2TIMGroupTipsElem>,
    /// Priority.
    pub priority: V2TIMMessagePriority,
    /// @-mentioned users.
    pub group_at_user_list: Vec<String>,
    /// Server seq.
    pub seq: i64,
    /// Random.
    pub random: i64,
    /// Device-local data.
    pub local_custom_data: String,
    /// Device-local number.
    pub local_custom_int: i32,
    /// Roaming app data.
    pub cloud_custom_data: String,
    /// Offline push settings.
    pub offline_push_info: Option<V2TIMOfflinePushInfo>,
}

fn file_ref(uuid: &str, url: &str, size: i64) -> core::FileRef {
    core::FileRef { uuid: uuid.to_owned(), url: url.to_owned(), size: size.max(0) as u64 }
}

impl From<core::Message> for V2TIMMessage {
    fn from(m: core::Message) -> Self {
        let elem_type = m.elem_type().into();
        let mut out = V2TIMMessage {
            msg_id: m.msg_id,
            timestamp: m.timestamp,
            sender: m.sender,
            nick_name: m.nick_name,
            friend_remark: m.friend_remark,
            name_card: m.name_card,
            face_url: m.face_url,
            user_id: m.user_id,
            group_id: m.group_id,
            is_self: m.is_self,
            is_read: m.is_read,
            is_peer_read: m.is_peer_read,
            status: m.status.into(),
            elem_type,
            text_elem: None,
            custom_elem: None,
            image_elem: None,
            sound_elem: None,
            video_elem: None,
            file_elem: None,
            location_elem: None,
            face_elem: None,
            merger_elem: None,
            group_tips_elem: None,
            priority: V2TIMMessagePriority::from_i32(m.priority),
            group_at_user_list: m.group_at_user_list,
            seq: m.seq as i64,
            random: m.random as i64,
            local_custom_data: m.local_custom_data,
            local_custom_int: m.local_custom_int,
            cloud_custom_data: m.cloud_custom_data,
            offline_push_info: m.offline_push_info.map(Into::into),
        };
        match m.elem {
            core::Elem::Text { text } => out.text_elem = Some(V2TIMTextElem { text }),
            core::Elem::Custom { data, description, extension } => {
                out.custom_elem = Some(V2TIMCustomElem { data, desc: description, extension })
            }
            core::Elem::Image { path, images } => {
                out.image_elem = Some(V2TIMImageElem {
                    path,
                    image_list: images
                        .into_iter()
                        .map(|i| V2TIMImage {
                            uuid: i.uuid,
                            r#type: V2TIMImageType::from_i32(i.kind),
                            size: i.size as i64,
                            width: i.width as i32,
                            height: i.height as i32,
                            url: i.url,
                        })
                        .collect(),
                })
            }
            core::Elem::Sound { path, file, duration } => {
                out.sound_elem =
                    Some(V2TIMSoundElem { path, uuid: file.uuid, data_size: file.size as i64, duration, url: file.url })
            }
            core::Elem::Video {
                video_path,
                snapshot_path,
                video_type,
                duration,
                video,
                snapshot,
                snapshot_width,
                snapshot_height,
            } => {
                out.video_elem = Some(V2TIMVideoElem {
                    video_path,
                    video_uuid: video.uuid,
                    video_size: video.size as i64,
                    video_type,
                    duration,
                    video_url: video.url,
                    snapshot_path,
                    snapshot_uuid: snapshot.uuid,
                    snapshot_size: snapshot.size as i64,
                    snapshot_width: snapshot_width as i32,
                    snapshot_height: snapshot_height as i32,
                    snapshot_url: snapshot.url,
                })
            }
            core::Elem::File { path, file_name, file } => {
                out.file_elem =
                    Some(V2TIMFileElem { path, file_name, uuid: file.uuid, file_size: file.size as i64, url: file.url })
            }
            core::Elem::Location { desc, longitude, latitude } => {
                out.location_elem = Some(V2TIMLocationElem { desc, longitude, latitude })
            }
            core::Elem::Face { index, data } => out.face_elem = Some(V2TIMFaceElem { index, data }),
            core::Elem::Merger { title, abstract_list, compatible_text, layers_over_limit, .. } => {
                out.merger_elem = Some(V2TIMMergerElem {
                    is_layers_over_limit: layers_over_limit,
                    title,
                    abstract_list,
                    compatible_text,
                })
            }
            core::Elem::GroupTips { tips } => {
                out.group_tips_elem = Some(crate::group_manager::V2TIMGroupTipsElem::of(&out.group_id, tips))
            }
            core::Elem::Revoke { .. } | core::Elem::Event { .. } => {}
        }
        out
    }
}

impl V2TIMMessage {
    /// The element the record describes. Merged messages carry their content only inside the
    /// SDK: their element comes back from the SDK's own copy (see `MessageManager::resolve`).
    fn elem(&self) -> Option<core::Elem> {
        use V2TIMElemType as T;
        Some(match self.elem_type {
            T::V2TIM_ELEM_TYPE_TEXT => core::Elem::Text { text: self.text_elem.as_ref()?.text.clone() },
            T::V2TIM_ELEM_TYPE_CUSTOM => {
                let c = self.custom_elem.as_ref()?;
                core::Elem::Custom { data: c.data.clone(), description: c.desc.clone(), extension: c.extension.clone() }
            }
            T::V2TIM_ELEM_TYPE_IMAGE => {
                let e = self.image_elem.as_ref()?;
                core::Elem::Image {
                    path: e.path.clone(),
                    images: e
                        .image_list
                        .iter()
                        .map(|i| core::ImageInfo {
                            kind: i.r#type as i32,
                            uuid: i.uuid.clone(),
                            url: i.url.clone(),
                            size: i.size.max(0) as u64,
                            width: i.width.max(0) as u32,
                            height: i.height.max(0) as u32,
                        })
                        .collect(),
                }
            }
            T::V2TIM_ELEM_TYPE_SOUND => {
                let e = self.sound_elem.as_ref()?;
                core::Elem::Sound {
                    path: e.path.clone(),
                    file: file_ref(&e.uuid, &e.url, e.data_size),
                    duration: e.duration,
                }
            }
            T::V2TIM_ELEM_TYPE_VIDEO => {
                let e = self.video_elem.as_ref()?;
                core::Elem::Video {
                    video_path: e.video_path.clone(),
                    snapshot_path: e.snapshot_path.clone(),
                    video_type: e.video_type.clone(),
                    duration: e.duration,
                    video: file_ref(&e.video_uuid, &e.video_url, e.video_size),
                    snapshot: file_ref(&e.snapshot_uuid, &e.snapshot_url, e.snapshot_size),
                    snapshot_width: e.snapshot_width.max(0) as u32,
                    snapshot_height: e.snapshot_height.max(0) as u32,
                }
            }
            T::V2TIM_ELEM_TYPE_FILE => {
                let e = self.file_elem.as_ref()?;
                core::Elem::File {
                    path: e.path.clone(),
                    file_name: e.file_name.clone(),
                    file: file_ref(&e.uuid, &e.url, e.file_size),
                }
            }
            T::V2TIM_ELEM_TYPE_LOCATION => {
                let e = self.location_elem.as_ref()?;
                core::Elem::Location { desc: e.desc.clone(), longitude: e.longitude, latitude: e.latitude }
            }
            T::V2TIM_ELEM_TYPE_FACE => {
                let e = self.face_elem.as_ref()?;
                core::Elem::Face { index: e.index, data: e.data.clone() }
            }
            T::V2TIM_ELEM_TYPE_MERGER => {
                let e = self.merger_elem.as_ref()?;
                core::Elem::Merger {
                    title: e.title.clone(),
                    abstract_list: e.abstract_list.clone(),
                    compatible_text: e.compatible_text.clone(),
                    messages: Vec::new(),
                    layers_over_limit: e.is_layers_over_limit,
                }
            }
            _ => return None,
        })
    }

    /// The core message this record describes; 6017 if its element fields do not match its
    /// `elem_type`.
    pub fn to_core(&self) -> Result<core::Message, core::Error> {
        let elem = self.elem().ok_or_else(|| {
            core::Error::new(oxim_core::error::codes::INVALID_MSG_ELEM, "the message has no element of its elemType")
        })?;
        let mut m = core::Message::draft(&self.sender, elem, self.msg_id.clone(), self.timestamp * 1000);
        m.user_id = self.user_id.clone();
        m.group_id = self.group_id.clone();
        m.is_self = self.is_self;
        m.is_read = self.is_read;
        m.is_peer_read = self.is_peer_read;
        m.status = self.status.into();
        m.priority = self.priority as i32;
        m.seq = self.seq.max(0) as u64;
        m.random = self.random as u32;
        m.cloud_custom_data = self.cloud_custom_data.clone();
        m.local_custom_data = self.local_custom_data.clone();
        m.local_custom_int = self.local_custom_int;
        m.group_at_user_list = self.group_at_user_list.clone();
        m.offline_push_info = self.offline_push_info.clone().map(Into::into);
        m.nick_name = self.nick_name.clone();
        m.face_url = self.face_url.clone();
        Ok(m)
    }
}

/// `V2TIMSignalingInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMSignalingInfo {
    /// The invitation (empty: not a signaling message).
    pub invite_id: String,
    /// Who invited.
    pub inviter: String,
    /// The invitees this action names.
    pub invitee_list: Vec<String>,
    /// The group; empty for C2C.
    pub group_id: String,
    /// App data of the action.
    pub data: String,
    /// Seconds; 0 = never.
    pub timeout: i32,
    /// What happened.
    pub action_type: V2TIMSignalingActionType,
}

impl From<Option<core::SignalingInfo>> for V2TIMSignalingInfo {
    fn from(info: Option<core::SignalingInfo>) -> Self {
        match info {
            Some(i) => V2TIMSignalingInfo {
                invite_id: i.invite_id,
                inviter: i.inviter,
                invitee_list: i.invitee_list,
                group_id: i.group_id,
                data: i.data,
                timeout: i32::try_from(i.timeout).unwrap_or(i32::MAX),
                action_type: i.action_type.into(),
            },
            None => V2TIMSignalingInfo {
                invite_id: String::new(),
                inviter: String::new(),
                invitee_list: Vec::new(),
                group_id: String::new(),
                data: String::new(),
                timeout: 0,
                action_type: V2TIMSignalingActionType::SIGNALING_ACTION_TYPE_NONE,
            },
        }
    }
}

impl From<V2TIMSignalingInfo> for core::SignalingInfo {
    fn from(i: V2TIMSignalingInfo) -> Self {
        core::SignalingInfo {
            invite_id: i.invite_id,
            inviter: i.inviter,
            invitee_list: i.invitee_list,
            group_id: i.group_id,
            data: i.data,
            timeout: u32::try_from(i.timeout).unwrap_or(0),
            action_type: i.action_type.into(),
        }
    }
}
