//! `V2TIMMessageManager`: forwards to `oxim_core::MessageManager`, converting records.

use std::sync::Arc;

use oxim_core as core;

use crate::V2TIMError;
use crate::convert::{
    V2TIMFileElem, V2TIMImage, V2TIMMessage, V2TIMMessageListGetOption, V2TIMOfflinePushInfo, V2TIMSoundElem,
    V2TIMVideoElem,
};
use crate::enums::V2TIMMessagePriority;
use crate::listeners::{
    AdvancedMsgListenerAdapter, V2TIMAdvancedMsgListener, V2TIMDownloadCallback, V2TIMSendCallback,
};

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMMessageManager`.
pub struct V2TIMMessageManager {
    pub(crate) mm: core::MessageManager,
    pub(crate) sdk: core::Manager,
    /// The SDK instance's id (`instance_id`).
    pub(crate) instance_id: i64,
}

fn messages(list: Vec<core::Message>) -> Vec<V2TIMMessage> {
    list.into_iter().map(Into::into).collect()
}

fn to_core(msgs: &[V2TIMMessage]) -> Result<Vec<core::Message>> {
    Ok(msgs.iter().map(V2TIMMessage::to_core).collect::<std::result::Result<_, _>>()?)
}

fn count(n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| core::Error::invalid("count must be positive").into())
}

fn download_progress(cb: Option<Box<dyn V2TIMDownloadCallback>>) -> Arc<dyn Fn(u64, u64) + Send + Sync> {
    match cb {
        Some(cb) => Arc::new(move |cur, total| cb.on_progress(cur as i64, total as i64)),
        None => Arc::new(|_, _| {}),
    }
}

impl V2TIMMessageManager {
    /// The id of the SDK instance this manager belongs to.
    pub fn instance_id(&self) -> i64 {
        self.instance_id
    }

    /// `createTextMessage`.
    pub fn create_text_message(&self, text: String) -> V2TIMMessage {
        self.mm.create_text_message(text).into()
    }

    /// `createTextAtMessage`.
    pub fn create_text_at_message(&self, text: String, at_user_list: Vec<String>) -> Result<V2TIMMessage> {
        Ok(self.mm.create_text_at_message(text, at_user_list)?.into())
    }

    /// `createCustomMessage`.
    pub fn create_custom_message(&self, data: Vec<u8>, description: String, extension: String) -> V2TIMMessage {
        self.mm.create_custom_message(data, description, extension).into()
    }

    /// `createImageMessage`.
    pub fn create_image_message(&self, image_path: String) -> Result<V2TIMMessage> {
        Ok(self.mm.create_image_message(image_path)?.into())
    }

    /// `createSoundMessage`.
    pub fn create_sound_message(&self, sound_path: String, duration: i32) -> Result<V2TIMMessage> {
        Ok(self.mm.create_sound_message(sound_path, duration)?.into())
    }

    /// `createVideoMessage`.
    pub fn create_video_message(
        &self,
        video_file_path: String,
        r#type: String,
        duration: i32,
        snapshot_path: String,
    ) -> Result<V2TIMMessage> {
        Ok(self.mm.create_video_message(video_file_path, r#type, duration, snapshot_path)?.into())
    }

    /// `createFileMessage`.
    pub fn create_file_message(&self, file_path: String, file_name: String) -> Result<V2TIMMessage> {
        Ok(self.mm.create_file_message(file_path, file_name)?.into())
    }

    /// `createLocationMessage`.
    pub fn create_location_message(&self, desc: String, longitude: f64, latitude: f64) -> Result<V2TIMMessage> {
        Ok(self.mm.create_location_message(desc, longitude, latitude)?.into())
    }

    /// `createFaceMessage`.
    pub fn create_face_message(&self, index: i32, data: Vec<u8>) -> V2TIMMessage {
        self.mm.create_face_message(index, data).into()
    }

    /// `createMergerMessage`.
    pub fn create_merger_message(
        &self,
        message_list: Vec<V2TIMMessage>,
        title: String,
        abstract_list: Vec<String>,
        compatible_text: String,
    ) -> Result<V2TIMMessage> {
        Ok(self.mm.create_merger_message(to_core(&message_list)?, title, abstract_list, compatible_text)?.into())
    }

    /// `createForwardMessage`.
    pub fn create_forward_message(&self, message: V2TIMMessage) -> Result<V2TIMMessage> {
        Ok(self.mm.create_forward_message(&message.to_core()?)?.into())
    }

    /// `sendMessage`.
    #[allow(clippy::too_many_arguments)]
    pub async fn send_message(
        &self,
        message: V2TIMMessage,
        receiver: Option<String>,
        group_id: Option<String>,
        priority: V2TIMMessagePriority,
        online_user_only: bool,
        offline_push_info: Option<V2TIMOfflinePushInfo>,
        progress: Option<Box<dyn V2TIMSendCallback>>,
    ) -> Result<V2TIMMessage> {
        let progress: Option<core::message::Progress> =
            progress.map(|p| Arc::new(move |v: u32| p.on_progress(v as i32)) as core::message::Progress);
        let opts = core::message::SendOptions {
            receiver: receiver.unwrap_or_default(),
            group_id: group_id.unwrap_or_default(),
            priority: priority as i32,
            online_user_only,
            offline_push_info: offline_push_info.map(Into::into),
            progress,
        };
        Ok(self.mm.send_message(message.to_core()?, opts).await?.into())
    }

    /// `getC2CHistoryMessageList`.
    pub async fn get_c2c_history_message_list(
        &self,
        user_id: String,
        count_: i32,
        last_msg: Option<V2TIMMessage>,
    ) -> Result<Vec<V2TIMMessage>> {
        let last = last_msg.map(|m| m.to_core()).transpose()?;
        Ok(messages(self.mm.get_c2c_history_message_list(user_id, count(count_)?, last).await?))
    }

    /// `getGroupHistoryMessageList`.
    pub async fn get_group_history_message_list(
        &self,
        group_id: String,
        count_: i32,
        last_msg: Option<V2TIMMessage>,
    ) -> Result<Vec<V2TIMMessage>> {
        let last = last_msg.map(|m| m.to_core()).transpose()?;
        Ok(messages(self.mm.get_group_history_message_list(group_id, count(count_)?, last).await?))
    }

    /// `getHistoryMessageList`.
    pub async fn get_history_message_list(&self, option: V2TIMMessageListGetOption) -> Result<Vec<V2TIMMessage>> {
        let option = core::HistoryOption {
            get_type: option.get_type.into(),
            user_id: option.user_id,
            group_id: option.group_id,
            count: count(option.count)?,
            last_msg: option.last_msg.map(|m| m.to_core()).transpose()?,
            last_msg_seq: option.last_msg_seq.max(0) as u64,
        };
        Ok(messages(self.mm.get_history_message_list(option).await?))
    }

    /// `revokeMessage`.
    pub async fn revoke_message(&self, msg: V2TIMMessage) -> Result<()> {
        Ok(self.mm.revoke_message(msg.to_core()?).await?)
    }

    /// `markC2CMessageAsRead`.
    pub async fn mark_c2c_message_as_read(&self, user_id: String) -> Result<()> {
        Ok(self.mm.mark_c2c_message_as_read(user_id).await?)
    }

    /// `markGroupMessageAsRead`.
    pub async fn mark_group_message_as_read(&self, group_id: String) -> Result<()> {
        Ok(self.mm.mark_group_message_as_read(group_id).await?)
    }

    /// `deleteMessages`.
    pub async fn delete_messages(&self, messages: Vec<V2TIMMessage>) -> Result<()> {
        Ok(self.mm.delete_messages(to_core(&messages)?).await?)
    }

    /// `deleteMessageFromLocalStorage`.
    pub async fn delete_message_from_local_storage(&self, msg: V2TIMMessage) -> Result<()> {
        Ok(self.mm.delete_message_from_local_storage(msg.to_core()?).await?)
    }

    /// `clearC2CHistoryMessage`.
    pub async fn clear_c2c_history_message(&self, user_id: String) -> Result<()> {
        Ok(self.mm.clear_c2c_history_message(user_id).await?)
    }

    /// `clearGroupHistoryMessage`.
    pub async fn clear_group_history_message(&self, group_id: String) -> Result<()> {
        Ok(self.mm.clear_group_history_message(group_id).await?)
    }

    /// `insertC2CMessageToLocalStorage`.
    pub async fn insert_c2c_message_to_local_storage(
        &self,
        msg: V2TIMMessage,
        user_id: String,
        sender: String,
    ) -> Result<V2TIMMessage> {
        Ok(self.mm.insert_c2c_message_to_local_storage(msg.to_core()?, user_id, sender).await?.into())
    }

    /// `insertGroupMessageToLocalStorage`.
    pub async fn insert_group_message_to_local_storage(
        &self,
        msg: V2TIMMessage,
        group_id: String,
        sender: String,
    ) -> Result<V2TIMMessage> {
        Ok(self.mm.insert_group_message_to_local_storage(msg.to_core()?, group_id, sender).await?.into())
    }

    /// `findMessages`.
    pub async fn find_messages(&self, message_id_list: Vec<String>) -> Result<Vec<V2TIMMessage>> {
        Ok(messages(self.mm.find_messages(message_id_list).await?))
    }

    /// `setLocalCustomData`.
    pub async fn set_local_custom_data(&self, msg: V2TIMMessage, local_custom_data: String) -> Result<()> {
        Ok(self.mm.set_local_custom_data(msg.msg_id, local_custom_data).await?)
    }

    /// `setLocalCustomInt`.
    pub async fn set_local_custom_int(&self, msg: V2TIMMessage, local_custom_int: i32) -> Result<()> {
        Ok(self.mm.set_local_custom_int(msg.msg_id, local_custom_int).await?)
    }

    /// `downloadImage`.
    pub async fn download_image(
        &self,
        image: V2TIMImage,
        path: String,
        callback: Option<Box<dyn V2TIMDownloadCallback>>,
    ) -> Result<()> {
        Ok(self.mm.download(image.url, path, download_progress(callback)).await?)
    }

    /// `downloadSound`.
    pub async fn download_sound(
        &self,
        elem: V2TIMSoundElem,
        path: String,
        callback: Option<Box<dyn V2TIMDownloadCallback>>,
    ) -> Result<()> {
        Ok(self.mm.download(elem.url, path, download_progress(callback)).await?)
    }

    /// `downloadVideo`.
    pub async fn download_video(
        &self,
        elem: V2TIMVideoElem,
        path: String,
        callback: Option<Box<dyn V2TIMDownloadCallback>>,
    ) -> Result<()> {
        Ok(self.mm.download(elem.video_url, path, download_progress(callback)).await?)
    }

    /// `downloadSnapshot`.
    pub async fn download_video_snapshot(
        &self,
        elem: V2TIMVideoElem,
        path: String,
        callback: Option<Box<dyn V2TIMDownloadCallback>>,
    ) -> Result<()> {
        Ok(self.mm.download(elem.snapshot_url, path, download_progress(callback)).await?)
    }

    /// `downloadFile`.
    pub async fn download_file(
        &self,
        elem: V2TIMFileElem,
        path: String,
        callback: Option<Box<dyn V2TIMDownloadCallback>>,
    ) -> Result<()> {
        Ok(self.mm.download(elem.url, path, download_progress(callback)).await?)
    }

    /// `downloadMergerMessage`.
    pub async fn download_merger_message(&self, msg: V2TIMMessage) -> Result<Vec<V2TIMMessage>> {
        Ok(messages(self.mm.download_merger_message(msg.to_core()?).await?))
    }

    /// Registers an advanced message listener; the handle removes it.
    pub fn add_advanced_msg_listener_handle(&self, listener: Box<dyn V2TIMAdvancedMsgListener>) -> i64 {
        self.sdk.add_advanced_msg_listener(Arc::new(AdvancedMsgListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }
}
