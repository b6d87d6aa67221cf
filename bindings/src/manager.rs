//! `V2TIMManager`: forwards to `oxim_core::Manager`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::V2TIMError;
use crate::convert::{V2TIMMessage, V2TIMSDKConfig, V2TIMUserFullInfo};
use crate::enums::{V2TIMLoginStatus, V2TIMMessagePriority};
use crate::listeners::{SdkListenerAdapter, SimpleMsgListenerAdapter, V2TIMSDKListener, V2TIMSimpleMsgListener};

/// A handle to the process-wide default instance (`V2TIMManager.getInstance()`): every handle
/// it returns drives the same SDK instance.
pub fn get_default_manager() -> Arc<V2TIMManager> {
    static DEFAULT: OnceLock<Arc<V2TIMManager>> = OnceLock::new();
    DEFAULT.get_or_init(|| Arc::new(V2TIMManager::wrap(oxim_core::Manager::instance()))).clone()
}

/// Ids of SDK instances, unique in the process.
static NEXT_INSTANCE_ID: AtomicI64 = AtomicI64::new(1);

/// `V2TIMManager`.
pub struct V2TIMManager {
    sdk: oxim_core::Manager,
    /// Names the instance to the language layers (whose objects for one instance are many: each
    /// call that returns it makes a new foreign object), for their listener registries.
    id: i64,
}

type Result<T> = std::result::Result<T, V2TIMError>;

impl V2TIMManager {
    /// A new instance.
    pub fn new() -> Self {
        Self::wrap(oxim_core::Manager::new())
    }

    fn wrap(sdk: oxim_core::Manager) -> Self {
        V2TIMManager { sdk, id: NEXT_INSTANCE_ID.fetch_add(1, Ordering::Relaxed) }
    }

    /// The instance's id, the same from every manager of this instance and unique in the process.
    pub fn instance_id(&self) -> i64 {
        self.id
    }

    /// `initSDK`.
    pub fn init_sdk(
        &self,
        sdk_app_id: i64,
        config: V2TIMSDKConfig,
        listener: Option<Box<dyn V2TIMSDKListener>>,
    ) -> Result<bool> {
        if sdk_app_id <= 0 {
            return Err(oxim_core::Error::invalid("sdkAppID must be positive").into());
        }
        let listener = listener.map(|l| Arc::new(SdkListenerAdapter(l)) as Arc<dyn oxim_core::SdkListener>);
        self.sdk.init_sdk(sdk_app_id as u64, config.into(), listener)?;
        Ok(true)
    }

    /// `unInitSDK`.
    pub fn un_init_sdk(&self) {
        self.sdk.uninit_sdk()
    }

    /// `getVersion`.
    pub fn get_version(&self) -> String {
        oxim_core::Manager::version().to_owned()
    }

    /// `getServerTime`.
    pub fn get_server_time(&self) -> i64 {
        self.sdk.server_time()
    }

    /// `login`.
    pub async fn login(&self, user_id: String, user_sig: String) -> Result<()> {
        Ok(self.sdk.login(user_id, user_sig).await?)
    }

    /// `logout`.
    pub async fn logout(&self) -> Result<()> {
        Ok(self.sdk.logout().await?)
    }

    /// `getLoginUser`.
    pub fn get_login_user(&self) -> String {
        self.sdk.login_user()
    }

    /// `getLoginStatus`.
    pub fn get_login_status(&self) -> V2TIMLoginStatus {
        self.sdk.login_status().into()
    }

    /// Registers an SDK listener besides `init_sdk`'s (`addIMSDKListener`); the handle removes it.
    pub fn add_sdk_listener_handle(&self, listener: Box<dyn V2TIMSDKListener>) -> i64 {
        self.sdk.add_sdk_listener(Arc::new(SdkListenerAdapter(listener))) as i64
    }

    /// Registers a simple message listener; the handle removes it.
    pub fn add_simple_msg_listener_handle(&self, listener: Box<dyn V2TIMSimpleMsgListener>) -> i64 {
        self.sdk.add_simple_msg_listener(Arc::new(SimpleMsgListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle; false if this instance has no such listener.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }

    /// `getMessageManager`.
    pub fn get_message_manager(&self) -> Arc<crate::V2TIMMessageManager> {
        Arc::new(crate::V2TIMMessageManager {
            mm: self.sdk.message_manager(),
            sdk: self.sdk.clone(),
            instance_id: self.id,
        })
    }

    /// `getFriendshipManager`.
    pub fn get_friendship_manager(&self) -> Arc<crate::V2TIMFriendshipManager> {
        Arc::new(crate::V2TIMFriendshipManager {
            fm: self.sdk.friendship_manager(),
            sdk: self.sdk.clone(),
            instance_id: self.id,
        })
    }

    /// `getOfflinePushManager`.
    pub fn get_offline_push_manager(&self) -> Arc<crate::V2TIMOfflinePushManager> {
        Arc::new(crate::V2TIMOfflinePushManager { pm: self.sdk.offline_push_manager() })
    }

    /// `getSignalingManager`.
    pub fn get_signaling_manager(&self) -> Arc<crate::V2TIMSignalingManager> {
        Arc::new(crate::V2TIMSignalingManager {
            sm: self.sdk.signaling_manager(),
            sdk: self.sdk.clone(),
            instance_id: self.id,
        })
    }

    /// `getUsersInfo`.
    pub async fn get_users_info(&self, user_id_list: Vec<String>) -> Result<Vec<V2TIMUserFullInfo>> {
        Ok(self.sdk.get_users_info(user_id_list).await?.into_iter().map(Into::into).collect())
    }

    /// `setSelfInfo`.
    pub async fn set_self_info(&self, info: V2TIMUserFullInfo) -> Result<()> {
        self.sdk.set_self_info(info.try_into()?).await?;
        Ok(())
    }

    /// `sendC2CTextMessage`.
    pub async fn send_c2c_text_message(&self, text: String, user_id: String) -> Result<V2TIMMessage> {
        Ok(self.sdk.send_c2c_text_message(text, user_id).await?.into())
    }

    /// `sendC2CCustomMessage`.
    pub async fn send_c2c_custom_message(&self, custom_data: Vec<u8>, user_id: String) -> Result<V2TIMMessage> {
        Ok(self.sdk.send_c2c_custom_message(custom_data, user_id).await?.into())
    }

    /// `getConversationManager`.
    pub fn get_conversation_manager(&self) -> Arc<crate::V2TIMConversationManager> {
        Arc::new(crate::V2TIMConversationManager {
            cm: self.sdk.conversation_manager(),
            sdk: self.sdk.clone(),
            instance_id: self.id,
        })
    }

    /// `getGroupManager`.
    pub fn get_group_manager(&self) -> Arc<crate::V2TIMGroupManager> {
        Arc::new(crate::V2TIMGroupManager { gm: self.sdk.group_manager(), sdk: self.sdk.clone(), instance_id: self.id })
    }

    /// `createGroup(groupType, groupID, groupName)`.
    pub async fn create_group(
        &self,
        group_type: String,
        group_id: Option<String>,
        group_name: String,
    ) -> Result<String> {
        Ok(self.sdk.create_group(group_type, group_id, group_name).await?)
    }

    /// `joinGroup`.
    pub async fn join_group(&self, group_id: String, message: String) -> Result<()> {
        self.sdk.join_group(group_id, message).await?;
        Ok(())
    }

    /// `quitGroup`.
    pub async fn quit_group(&self, group_id: String) -> Result<()> {
        Ok(self.sdk.quit_group(group_id).await?)
    }

    /// `dismissGroup`.
    pub async fn dismiss_group(&self, group_id: String) -> Result<()> {
        Ok(self.sdk.dismiss_group(group_id).await?)
    }

    /// `sendGroupTextMessage`.
    pub async fn send_group_text_message(
        &self,
        text: String,
        group_id: String,
        priority: V2TIMMessagePriority,
    ) -> Result<V2TIMMessage> {
        Ok(self.sdk.send_group_text_message(text, group_id, priority as i32).await?.into())
    }

    /// `sendGroupCustomMessage`.
    pub async fn send_group_custom_message(
        &self,
        custom_data: Vec<u8>,
        group_id: String,
        priority: V2TIMMessagePriority,
    ) -> Result<V2TIMMessage> {
        Ok(self.sdk.send_group_custom_message(custom_data, group_id, priority as i32).await?.into())
    }
}

impl Default for V2TIMManager {
    fn default() -> Self {
        Self::new()
    }
}
