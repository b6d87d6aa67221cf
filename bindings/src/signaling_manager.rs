//! `V2TIMSignalingManager`: forwards to `oxim_core::SignalingManager`, converting records.

use std::sync::Arc;

use oxim_core as core;

use crate::V2TIMError;
use crate::convert::{V2TIMMessage, V2TIMOfflinePushInfo, V2TIMSignalingInfo};
use crate::listeners::{SignalingListenerAdapter, V2TIMSignalingListener};

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMSignalingManager`.
pub struct V2TIMSignalingManager {
    pub(crate) sm: core::SignalingManager,
    pub(crate) sdk: core::Manager,
    /// The SDK instance's id (`instance_id`).
    pub(crate) instance_id: i64,
}

impl V2TIMSignalingManager {
    /// The id of the SDK instance this manager belongs to.
    pub fn instance_id(&self) -> i64 {
        self.instance_id
    }

    /// A new inviteID for `invite`/`invite_in_group` (their callback forms return it at once).
    pub fn new_invite_id(&self) -> String {
        core::SignalingManager::new_invite_id()
    }

    /// `invite`, under `invite_id` if given (one made by `new_invite_id`).
    pub async fn invite(
        &self,
        invitee: String,
        data: String,
        online_user_only: bool,
        offline_push_info: Option<V2TIMOfflinePushInfo>,
        timeout: i32,
        invite_id: Option<String>,
    ) -> Result<String> {
        let invite_id = invite_id.unwrap_or_else(core::SignalingManager::new_invite_id);
        let push = offline_push_info.map(Into::into);
        Ok(self.sm.invite_with_id(invite_id, invitee, data, online_user_only, push, timeout).await?)
    }

    /// `inviteInGroup`.
    pub async fn invite_in_group(
        &self,
        group_id: String,
        invitee_list: Vec<String>,
        data: String,
        online_user_only: bool,
        timeout: i32,
        invite_id: Option<String>,
    ) -> Result<String> {
        let invite_id = invite_id.unwrap_or_else(core::SignalingManager::new_invite_id);
        Ok(self.sm.invite_in_group_with_id(invite_id, group_id, invitee_list, data, online_user_only, timeout).await?)
    }

    /// `cancel`.
    pub async fn cancel(&self, invite_id: String, data: String) -> Result<()> {
        Ok(self.sm.cancel(invite_id, data).await?)
    }

    /// `accept`.
    pub async fn accept(&self, invite_id: String, data: String) -> Result<()> {
        Ok(self.sm.accept(invite_id, data).await?)
    }

    /// `reject`.
    pub async fn reject(&self, invite_id: String, data: String) -> Result<()> {
        Ok(self.sm.reject(invite_id, data).await?)
    }

    /// `getSignalingInfo`: an empty `invite_id` (action NONE) for other messages.
    pub fn get_signaling_info(&self, msg: V2TIMMessage) -> Result<V2TIMSignalingInfo> {
        Ok(self.sm.get_signaling_info(&msg.to_core()?).into())
    }

    /// `addInvitedSignaling`.
    pub async fn add_invited_signaling(&self, info: V2TIMSignalingInfo) -> Result<()> {
        Ok(self.sm.add_invited_signaling(info.into()).await?)
    }

    /// Registers a signaling listener; the handle removes it.
    pub fn add_signaling_listener_handle(&self, listener: Box<dyn V2TIMSignalingListener>) -> i64 {
        self.sm.add_signaling_listener(Arc::new(SignalingListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }
}
