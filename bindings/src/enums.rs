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
        }
    }
}
