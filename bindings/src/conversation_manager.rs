//! `V2TIMConversationManager` and its records and listener: forwards to
//! `oxim_core::ConversationManager`, converting records.

use std::sync::Arc;

use oxim_core as core;
use oxim_core::conversation as cc;

use crate::V2TIMError;
use crate::convert::V2TIMMessage;
use crate::enums::V2TIMGroupReceiveMessageOpt;
use crate::listeners::{ConversationListenerAdapter, V2TIMConversationListener};

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMGroupAtInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupAtInfo {
    /// The message's seq.
    pub seq: i64,
    /// 1 @me, 2 @all, 3 both.
    pub at_type: i32,
}

/// `V2TIMConversation`.
#[derive(Debug, Clone)]
pub struct V2TIMConversation {
    /// Id.
    pub conversation_id: String,
    /// 1 C2C, 2 group.
    pub r#type: i32,
    /// C2C peer.
    pub user_id: String,
    /// Group.
    pub group_id: String,
    /// Group type.
    pub group_type: String,
    /// Name shown.
    pub show_name: String,
    /// Avatar.
    pub face_url: String,
    /// Receive option.
    pub recv_opt: i32,
    /// Unread messages.
    pub unread_count: i32,
    /// Newest message.
    pub last_message: Option<V2TIMMessage>,
    /// Draft.
    pub draft_text: String,
    /// Draft time, Unix seconds.
    pub draft_timestamp: i64,
    /// Unread @ mentions.
    pub group_at_info_list: Vec<V2TIMGroupAtInfo>,
    /// Pinned.
    pub is_pinned: bool,
    /// Order.
    pub order_key: i64,
}

impl From<cc::Conversation> for V2TIMConversation {
    fn from(c: cc::Conversation) -> Self {
        V2TIMConversation {
            conversation_id: c.conversation_id,
            r#type: c.conv_type,
            user_id: c.user_id,
            group_id: c.group_id,
            group_type: c.group_type,
            show_name: c.show_name,
            face_url: c.face_url,
            recv_opt: c.recv_opt,
            unread_count: c.unread_count.min(i32::MAX as u64) as i32,
            last_message: c.last_message.map(|m| (*m).into()),
            draft_text: c.draft_text,
            draft_timestamp: c.draft_timestamp,
            group_at_info_list: c
                .group_at_info_list
                .into_iter()
                .map(|a| V2TIMGroupAtInfo { seq: a.seq as i64, at_type: a.at_type })
                .collect(),
            is_pinned: c.is_pinned,
            order_key: c.order_key,
        }
    }
}

fn list(l: Vec<cc::Conversation>) -> Vec<V2TIMConversation> {
    l.into_iter().map(Into::into).collect()
}

/// `V2TIMConversationResult`.
#[derive(Debug, Clone)]
pub struct V2TIMConversationResult {
    /// Next page's cursor.
    pub next_seq: i64,
    /// Last page.
    pub is_finished: bool,
    /// The page.
    pub conversation_list: Vec<V2TIMConversation>,
}

/// `V2TIMReceiveMessageOptInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMReceiveMessageOptInfo {
    /// Peer.
    pub user_id: String,
    /// Receive option.
    pub c2c_receive_message_opt: i32,
}

/// `V2TIMConversationManager`.
pub struct V2TIMConversationManager {
    pub(crate) cm: core::ConversationManager,
    pub(crate) sdk: core::Manager,
    /// The SDK instance's id (`instance_id`).
    pub(crate) instance_id: i64,
}

impl V2TIMConversationManager {
    /// The id of the SDK instance this manager belongs to.
    pub fn instance_id(&self) -> i64 {
        self.instance_id
    }

    /// `getConversationList`.
    pub async fn get_conversation_list(&self, next_seq: i64, count: i32) -> Result<V2TIMConversationResult> {
        let count = u32::try_from(count).map_err(|_| core::Error::invalid("count must be 1 to 100"))?;
        let page = self.cm.conversation_list(next_seq.max(0) as u64, count).await?;
        Ok(V2TIMConversationResult {
            next_seq: page.next_seq as i64,
            is_finished: page.is_finished,
            conversation_list: list(page.conversation_list),
        })
    }

    /// `getConversation`.
    pub async fn get_conversation(&self, conversation_id: String) -> Result<V2TIMConversation> {
        Ok(self.cm.conversation(conversation_id).await?.into())
    }

    /// `getConversationListByConversationIds`.
    pub async fn get_conversation_list_by_conversation_ids(
        &self,
        conversation_id_list: Vec<String>,
    ) -> Result<Vec<V2TIMConversation>> {
        Ok(list(self.cm.conversation_list_by_ids(conversation_id_list).await?))
    }

    /// `deleteConversation`.
    pub async fn delete_conversation(&self, conversation_id: String) -> Result<()> {
        Ok(self.cm.delete_conversation(conversation_id).await?)
    }

    /// `setConversationDraft`.
    pub async fn set_conversation_draft(&self, conversation_id: String, draft_text: Option<String>) -> Result<()> {
        Ok(self.cm.set_conversation_draft(conversation_id, draft_text).await?)
    }

    /// `pinConversation`.
    pub async fn pin_conversation(&self, conversation_id: String, is_pinned: bool) -> Result<()> {
        Ok(self.cm.pin_conversation(conversation_id, is_pinned).await?)
    }

    /// `getTotalUnreadMessageCount`.
    pub async fn get_total_unread_message_count(&self) -> Result<i64> {
        Ok(self.cm.total_unread_message_count().await? as i64)
    }

    /// `setC2CReceiveMessageOpt`.
    pub async fn set_c2c_receive_message_opt(
        &self,
        user_id_list: Vec<String>,
        opt: V2TIMGroupReceiveMessageOpt,
    ) -> Result<()> {
        Ok(self.cm.set_c2c_receive_message_opt(user_id_list, opt as i32).await?)
    }

    /// `getC2CReceiveMessageOpt`.
    pub async fn get_c2c_receive_message_opt(
        &self,
        user_id_list: Vec<String>,
    ) -> Result<Vec<V2TIMReceiveMessageOptInfo>> {
        Ok(self
            .cm
            .c2c_receive_message_opt(user_id_list)
            .await?
            .into_iter()
            .map(|o| V2TIMReceiveMessageOptInfo { user_id: o.user_id, c2c_receive_message_opt: o.opt })
            .collect())
    }

    /// Registers a conversation listener; the handle removes it.
    pub fn add_conversation_listener_handle(&self, listener: Box<dyn V2TIMConversationListener>) -> i64 {
        self.sdk.add_conversation_listener(Arc::new(ConversationListenerAdapter(listener))) as i64
    }

    /// Replaces every conversation listener.
    pub fn set_conversation_listener_handle(&self, listener: Box<dyn V2TIMConversationListener>) -> i64 {
        self.sdk.set_conversation_listener(Arc::new(ConversationListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }
}
