//! oxim-ffi: the UniFFI layer over `oxim-core`, declared by `udl/oxim.udl`.
//!
//! This crate only converts: core types to the UDL's records and back, foreign listeners to
//! core listener traits, core errors to `V2TIMError`. No SDK logic lives here. Async methods
//! need no runtime from the caller: `oxim-core` runs their work on its own runtime.

// The UDL's type names are V2TIM's (V2TIMManager, V2TIMSDKListener, ...).
#![allow(clippy::upper_case_acronyms)]

mod conversation_manager;
mod convert;
mod enums;
mod friendship_manager;
mod group_manager;
mod listeners;
mod manager;
mod message_manager;
mod offline_push_manager;
mod signaling_manager;

pub use conversation_manager::*;
pub use convert::*;
pub use enums::*;
pub use friendship_manager::*;
pub use group_manager::*;
pub use listeners::{
    V2TIMAdvancedMsgListener, V2TIMConversationListener, V2TIMDownloadCallback, V2TIMFriendshipListener,
    V2TIMGroupListener, V2TIMSDKListener, V2TIMSendCallback, V2TIMSignalingListener, V2TIMSimpleMsgListener,
};
pub use manager::{V2TIMManager, get_default_manager};
pub use message_manager::V2TIMMessageManager;
pub use offline_push_manager::*;
pub use signaling_manager::V2TIMSignalingManager;

/// A failed call, with V2TIM's error code.
#[derive(Debug, thiserror::Error)]
pub enum V2TIMError {
    /// The one variant: every failure is a code and a description.
    #[error("{code}: {desc}")]
    Failure {
        /// V2TIM error code.
        code: i32,
        /// What went wrong.
        desc: String,
    },
}

impl From<oxim_core::Error> for V2TIMError {
    fn from(e: oxim_core::Error) -> Self {
        V2TIMError::Failure { code: e.code, desc: e.desc }
    }
}

uniffi::include_scaffolding!("oxim");
