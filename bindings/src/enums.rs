//! V2TIM's enums with their numeric values. Declared here (not in the UDL, which cannot give
//! enum values) and referenced from the UDL with `typedef enum`.

#![allow(non_camel_case_types)]

use oxim_core as core;

/// `V2TIMLogLevel`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMLogLevel {
    /// No log output.
    V2TIM_LOG_NONE = 0,
    /// Debug and above.
    V2TIM_LOG_DEBUG = 3,
    /// Info and above.
    V2TIM_LOG_INFO = 4,
    /// Warnings and errors.
    V2TIM_LOG_WARN = 5,
    /// Errors only.
    V2TIM_LOG_ERROR = 6,
}

impl From<V2TIMLogLevel> for core::LogLevel {
    fn from(l: V2TIMLogLevel) -> Self {
        match l {
            V2TIMLogLevel::V2TIM_LOG_NONE => core::LogLevel::None,
            V2TIMLogLevel::V2TIM_LOG_DEBUG => core::LogLevel::Debug,
            V2TIMLogLevel::V2TIM_LOG_INFO => core::LogLevel::Info,
            V2TIMLogLevel::V2TIM_LOG_WARN => core::LogLevel::Warn,
            V2TIMLogLevel::V2TIM_LOG_ERROR => core::LogLevel::Error,
        }
    }
}

/// `V2TIMLoginStatus`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMLoginStatus {
    /// Logged in.
    V2TIM_STATUS_LOGINED = 1,
    /// Logging in.
    V2TIM_STATUS_LOGINING = 2,
    /// Logged out.
    V2TIM_STATUS_LOGOUT = 3,
}

impl From<core::LoginStatus> for V2TIMLoginStatus {
    fn from(s: core::LoginStatus) -> Self {
        match s {
            core::LoginStatus::Logined => V2TIMLoginStatus::V2TIM_STATUS_LOGINED,
            core::LoginStatus::Logining => V2TIMLoginStatus::V2TIM_STATUS_LOGINING,
            core::LoginStatus::Logout => V2TIMLoginStatus::V2TIM_STATUS_LOGOUT,
        }
    }
}

/// `V2TIMMessageStatus`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMMessageStatus {
    /// Being sent.
    V2TIM_MSG_STATUS_SENDING = 1,
    /// Sent or received.
    V2TIM_MSG_STATUS_SEND_SUCC = 2,
    /// Sending failed.
    V2TIM_MSG_STATUS_SEND_FAIL = 3,
    /// Deleted.
    V2TIM_MSG_STATUS_HAS_DELETED = 4,
    /// Imported into local storage.
    V2TIM_MSG_STATUS_LOCAL_IMPORTED = 5,
    /// Revoked.
    V2TIM_MSG_STATUS_LOCAL_REVOKED = 6,
}

impl From<core::MessageStatus> for V2TIMMessageStatus {
    fn from(s: core::MessageStatus) -> Self {
        match s {
            core::MessageStatus::Sending => V2TIMMessageStatus::V2TIM_MSG_STATUS_SENDING,
            core::MessageStatus::SendSucc => V2TIMMessageStatus::V2TIM_MSG_STATUS_SEND_SUCC,
            core::MessageStatus::SendFail => V2TIMMessageStatus::V2TIM_MSG_STATUS_SEND_FAIL,
            core::MessageStatus::HasDeleted => V2TIMMessageStatus::V2TIM_MSG_STATUS_HAS_DELETED,
            core::MessageStatus::LocalImported => V2TIMMessageStatus::V2TIM_MSG_STATUS_LOCAL_IMPORTED,
            core::MessageStatus::LocalRevoked => V2TIMMessageStatus::V2TIM_MSG_STATUS_LOCAL_REVOKED,
        }
    }
}

/// `V2TIMElemType`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMElemType {
    /// No element.
    V2TIM_ELEM_TYPE_NONE = 0,
    /// Text.
    V2TIM_ELEM_TYPE_TEXT = 1,
    /// Custom data.
    V2TIM_ELEM_TYPE_CUSTOM = 2,
    /// Image.
    V2TIM_ELEM_TYPE_IMAGE = 3,
    /// Sound.
    V2TIM_ELEM_TYPE_SOUND = 4,
    /// Video.
    V2TIM_ELEM_TYPE_VIDEO = 5,
    /// File.
    V2TIM_ELEM_TYPE_FILE = 6,
    /// Location.
    V2TIM_ELEM_TYPE_LOCATION = 7,
    /// Face (sticker).
    V2TIM_ELEM_TYPE_FACE = 8,
    /// Group tips.
    V2TIM_ELEM_TYPE_GROUP_TIPS = 9,
    /// Merged (forwarded) messages.
    V2TIM_ELEM_TYPE_MERGER = 10,
}

impl From<core::ElemType> for V2TIMElemType {
    fn from(t: core::ElemType) -> Self {
        match t {
            core::ElemType::None => V2TIMElemType::V2TIM_ELEM_TYPE_NONE,
            core::ElemType::Text => V2TIMElemType::V2TIM_ELEM_TYPE_TEXT,
            core::ElemType::Custom => V2TIMElemType::V2TIM_ELEM_TYPE_CUSTOM,
            core::ElemType::Image => V2TIMElemType::V2TIM_ELEM_TYPE_IMAGE,
            core::ElemType::Sound => V2TIMElemType::V2TIM_ELEM_TYPE_SOUND,
            core::ElemType::Video => V2TIMElemType::V2TIM_ELEM_TYPE_VIDEO,
            core::ElemType::File => V2TIMElemType::V2TIM_ELEM_TYPE_FILE,
            core::ElemType::Location => V2TIMElemType::V2TIM_ELEM_TYPE_LOCATION,
            core::ElemType::Face => V2TIMElemType::V2TIM_ELEM_TYPE_FACE,
            core::ElemType::GroupTips => V2TIMElemType::V2TIM_ELEM_TYPE_GROUP_TIPS,
            core::ElemType::Merger => V2TIMElemType::V2TIM_ELEM_TYPE_MERGER,
        }
    }
}

/// `V2TIMMessagePriority`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMMessagePriority {
    /// Default.
    V2TIM_PRIORITY_DEFAULT = 0,
    /// High (gifts, important notices).
    V2TIM_PRIORITY_HIGH = 1,
    /// Normal.
    V2TIM_PRIORITY_NORMAL = 2,
    /// Low (likes); dropped first under load.
    V2TIM_PRIORITY_LOW = 3,
}

impl V2TIMMessagePriority {
    /// From the number carried by messages.
    pub fn from_i32(v: i32) -> Self {
        match v {
            1 => Self::V2TIM_PRIORITY_HIGH,
            2 => Self::V2TIM_PRIORITY_NORMAL,
            3 => Self::V2TIM_PRIORITY_LOW,
            _ => Self::V2TIM_PRIORITY_DEFAULT,
        }
    }
}

/// `V2TIMImageType` (Android values).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMImageType {
    /// The uploaded image.
    V2TIM_IMAGE_TYPE_ORIGIN = 0,
    /// Shorter side 198 px.
    V2TIM_IMAGE_TYPE_THUMB = 1,
    /// Shorter side 720 px.
    V2TIM_IMAGE_TYPE_LARGE = 2,
}

impl V2TIMImageType {
    /// From the number carried by messages.
    pub fn from_i32(v: i32) -> Self {
        match v {
            1 => Self::V2TIM_IMAGE_TYPE_THUMB,
            2 => Self::V2TIM_IMAGE_TYPE_LARGE,
            _ => Self::V2TIM_IMAGE_TYPE_ORIGIN,
        }
    }
}

/// `V2TIMMessageGetType`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMMessageGetType {
    /// From the server, older.
    V2TIM_GET_CLOUD_OLDER_MSG = 1,
    /// From the server, newer.
    V2TIM_GET_CLOUD_NEWER_MSG = 2,
    /// From this device, older.
    V2TIM_GET_LOCAL_OLDER_MSG = 3,
    /// From this device, newer.
    V2TIM_GET_LOCAL_NEWER_MSG = 4,
}

impl From<V2TIMMessageGetType> for core::HistoryGetType {
    fn from(t: V2TIMMessageGetType) -> Self {
        match t {
            V2TIMMessageGetType::V2TIM_GET_CLOUD_OLDER_MSG => core::HistoryGetType::CloudOlder,
            V2TIMMessageGetType::V2TIM_GET_CLOUD_NEWER_MSG => core::HistoryGetType::CloudNewer,
            V2TIMMessageGetType::V2TIM_GET_LOCAL_OLDER_MSG => core::HistoryGetType::LocalOlder,
            V2TIMMessageGetType::V2TIM_GET_LOCAL_NEWER_MSG => core::HistoryGetType::LocalNewer,
        }
    }
}

impl From<V2TIMMessageStatus> for core::MessageStatus {
    fn from(s: V2TIMMessageStatus) -> Self {
        core::MessageStatus::from_i32(s as i32)
    }
}

/// Declares a V2TIM enum with numeric values and its conversions from and to the number.
macro_rules! v2tim_int_enum {
    ($(#[$doc:meta])* $name:ident, default $default:ident { $($(#[$vdoc:meta])* $variant:ident = $value:tt,)+ }) => {
        $(#[$doc])*
        #[repr(i32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value,)+
        }

        impl $name {
            /// From the number (unknown numbers give the default).
            pub fn from_i32(v: i32) -> Self {
                match v {
                    $($value => Self::$variant,)+
                    _ => Self::$default,
                }
            }
        }
    };
}

v2tim_int_enum!(
    /// `V2TIMGroupAddOpt`: how users join a Public group.
    V2TIMGroupAddOpt, default V2TIM_GROUP_ADD_AUTH {
        /// Nobody may join.
        V2TIM_GROUP_ADD_FORBID = 0,
        /// Owner or admin approval.
        V2TIM_GROUP_ADD_AUTH = 1,
        /// Anyone joins at once.
        V2TIM_GROUP_ADD_ANY = 2,
    }
);

v2tim_int_enum!(
    /// `V2TIMGroupMemberRole`.
    V2TIMGroupMemberRole, default V2TIM_GROUP_MEMBER_UNDEFINED {
        /// Not a member / not set.
        V2TIM_GROUP_MEMBER_UNDEFINED = 0,
        /// Ordinary member.
        V2TIM_GROUP_MEMBER_ROLE_MEMBER = 200,
        /// Administrator.
        V2TIM_GROUP_MEMBER_ROLE_ADMIN = 300,
        /// Owner.
        V2TIM_GROUP_MEMBER_ROLE_SUPER = 400,
    }
);

v2tim_int_enum!(
    /// `V2TIMGroupReceiveMessageOpt`.
    V2TIMGroupReceiveMessageOpt, default V2TIM_GROUP_RECEIVE_MESSAGE {
        /// Receive online, push offline.
        V2TIM_GROUP_RECEIVE_MESSAGE = 0,
        /// Receive nothing.
        V2TIM_GROUP_NOT_RECEIVE_MESSAGE = 1,
        /// Receive online, no offline push.
        V2TIM_GROUP_RECEIVE_NOT_NOTIFY_MESSAGE = 2,
    }
);

v2tim_int_enum!(
    /// `V2TIMGroupMemberFilter`.
    V2TIMGroupMemberFilter, default V2TIM_GROUP_MEMBER_FILTER_ALL {
        /// Everyone.
        V2TIM_GROUP_MEMBER_FILTER_ALL = 0,
        /// The owner.
        V2TIM_GROUP_MEMBER_FILTER_OWNER = 1,
        /// Administrators.
        V2TIM_GROUP_MEMBER_FILTER_ADMIN = 2,
        /// Ordinary members.
        V2TIM_GROUP_MEMBER_FILTER_COMMON = 4,
    }
);

v2tim_int_enum!(
    /// `V2TIMGroupTipsType`.
    V2TIMGroupTipsType, default V2TIM_GROUP_TIPS_TYPE_INVALID {
        /// Unknown.
        V2TIM_GROUP_TIPS_TYPE_INVALID = 0,
        /// Users joined.
        V2TIM_GROUP_TIPS_TYPE_JOIN = 1,
        /// Users were invited.
        V2TIM_GROUP_TIPS_TYPE_INVITE = 2,
        /// A user quit.
        V2TIM_GROUP_TIPS_TYPE_QUIT = 3,
        /// Users were kicked.
        V2TIM_GROUP_TIPS_TYPE_KICKED = 4,
        /// Users became administrators.
        V2TIM_GROUP_TIPS_TYPE_SET_ADMIN = 5,
        /// Users stopped being administrators.
        V2TIM_GROUP_TIPS_TYPE_CANCEL_ADMIN = 6,
        /// The profile changed.
        V2TIM_GROUP_TIPS_TYPE_GROUP_INFO_CHANGE = 7,
        /// Members' info (mute) changed.
        V2TIM_GROUP_TIPS_TYPE_MEMBER_INFO_CHANGE = 8,
    }
);

v2tim_int_enum!(
    /// `V2TIMGroupInfoChangeType`.
    V2TIMGroupInfoChangeType, default V2TIM_GROUP_INFO_CHANGE_TYPE_INVALID {
        /// Unknown.
        V2TIM_GROUP_INFO_CHANGE_TYPE_INVALID = 0,
        /// Name.
        V2TIM_GROUP_INFO_CHANGE_TYPE_NAME = 1,
        /// Introduction.
        V2TIM_GROUP_INFO_CHANGE_TYPE_INTRODUCTION = 2,
        /// Notification.
        V2TIM_GROUP_INFO_CHANGE_TYPE_NOTIFICATION = 3,
        /// Avatar.
        V2TIM_GROUP_INFO_CHANGE_TYPE_FACE = 4,
        /// Owner.
        V2TIM_GROUP_INFO_CHANGE_TYPE_OWNER = 5,
        /// A custom field.
        V2TIM_GROUP_INFO_CHANGE_TYPE_CUSTOM = 6,
        /// Whole-group mute.
        V2TIM_GROUP_INFO_CHANGE_TYPE_SHUT_UP_ALL = 8,
        /// Join option.
        V2TIM_GROUP_INFO_CHANGE_TYPE_GROUP_ADD_OPT = 11,
    }
);
/// `V2TIMSignalingActionType` (Android: `V2TIMSignalingInfo.SIGNALING_ACTION_TYPE_*`), plus NONE
/// for a message that is not a signaling message (`getSignalingInfo`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum V2TIMSignalingActionType {
    /// Not a signaling message.
    SIGNALING_ACTION_TYPE_NONE = 0,
    /// An invitation.
    SIGNALING_ACTION_TYPE_INVITE = 1,
    /// The inviter cancelled.
    SIGNALING_ACTION_TYPE_CANCEL_INVITE = 2,
    /// An invitee accepted.
    SIGNALING_ACTION_TYPE_ACCEPT_INVITE = 3,
    /// An invitee rejected.
    SIGNALING_ACTION_TYPE_REJECT_INVITE = 4,
    /// Invitees did not answer in time.
    SIGNALING_ACTION_TYPE_INVITE_TIMEOUT = 5,
}

impl From<core::SignalingAction> for V2TIMSignalingActionType {
    fn from(a: core::SignalingAction) -> Self {
        match a {
            core::SignalingAction::Invite => Self::SIGNALING_ACTION_TYPE_INVITE,
            core::SignalingAction::Cancel => Self::SIGNALING_ACTION_TYPE_CANCEL_INVITE,
            core::SignalingAction::Accept => Self::SIGNALING_ACTION_TYPE_ACCEPT_INVITE,
            core::SignalingAction::Reject => Self::SIGNALING_ACTION_TYPE_REJECT_INVITE,
            core::SignalingAction::Timeout => Self::SIGNALING_ACTION_TYPE_INVITE_TIMEOUT,
        }
    }
}

impl From<V2TIMSignalingActionType> for core::SignalingAction {
    /// NONE (not a signaling action) counts as an invitation.
    fn from(a: V2TIMSignalingActionType) -> Self {
        core::SignalingAction::from_i32(a as i32).unwrap_or(core::SignalingAction::Invite)
    }
}

v2tim_int_enum!(
    /// `V2TIMGender`.
    V2TIMGender, default V2TIM_GENDER_UNKNOWN {
        /// Not set.
        V2TIM_GENDER_UNKNOWN = 0,
        /// Male.
        V2TIM_GENDER_MALE = 1,
        /// Female.
        V2TIM_GENDER_FEMALE = 2,
    }
);

v2tim_int_enum!(
    /// `V2TIMFriendAllowType`: who may add the user as a friend.
    V2TIMFriendAllowType, default V2TIM_FRIEND_NEED_CONFIRM {
        /// Anyone, at once.
        V2TIM_FRIEND_ALLOW_ANY = 0,
        /// The user confirms each request (the default).
        V2TIM_FRIEND_NEED_CONFIRM = 1,
        /// Nobody.
        V2TIM_FRIEND_DENY_ANY = 2,
    }
);
