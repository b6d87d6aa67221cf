//! `V2TIMFriendshipManager` and its records: forwards to `oxim_core::FriendshipManager`,
//! converting records.

use std::collections::HashMap;
use std::sync::Arc;

use oxim_core as core;
use oxim_core::friendship as cf;

use crate::V2TIMError;
use crate::convert::V2TIMUserFullInfo;
use crate::listeners::{FriendshipListenerAdapter, V2TIMFriendshipListener};

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMFriendInfo`: reads fill every field; for `setFriendInfo` the fields that are set are
/// the ones changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendInfo {
    /// The friend.
    pub user_id: String,
    /// My remark for them.
    pub friend_remark: Option<String>,
    /// My friend groups they are in.
    pub friend_groups: Vec<String>,
    /// My custom fields for them.
    pub friend_custom_info: Option<HashMap<String, String>>,
    /// Their profile.
    pub user_profile: Option<V2TIMUserFullInfo>,
}

impl From<cf::FriendInfo> for V2TIMFriendInfo {
    fn from(f: cf::FriendInfo) -> Self {
        V2TIMFriendInfo {
            user_id: f.user_id,
            friend_remark: Some(f.friend_remark),
            friend_groups: f.friend_groups,
            friend_custom_info: Some(f.friend_custom_info.into_iter().collect()),
            user_profile: Some(f.user_full_info.into()),
        }
    }
}

/// `V2TIMFriendInfoResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendInfoResult {
    /// 0, or 30003 for a user who does not exist.
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
    /// Relation.
    pub relation: i32,
    /// The entry.
    pub friend_info: V2TIMFriendInfo,
}

impl From<cf::FriendInfoResult> for V2TIMFriendInfoResult {
    fn from(r: cf::FriendInfoResult) -> Self {
        V2TIMFriendInfoResult {
            result_code: r.result_code,
            result_info: r.result_info,
            relation: r.relation,
            friend_info: r.friend_info.into(),
        }
    }
}

/// `V2TIMFriendAddApplication`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendAddApplication {
    /// Whom to add.
    pub user_id: String,
    /// Remark.
    pub friend_remark: String,
    /// Friend group.
    pub friend_group: String,
    /// Wording.
    pub add_wording: String,
    /// Source.
    pub add_source: String,
    /// SINGLE 1 / BOTH 2.
    pub add_type: i32,
}

impl From<V2TIMFriendAddApplication> for cf::FriendAddApplication {
    fn from(a: V2TIMFriendAddApplication) -> Self {
        cf::FriendAddApplication {
            user_id: a.user_id,
            friend_remark: a.friend_remark,
            friend_group: a.friend_group,
            add_wording: a.add_wording,
            add_source: a.add_source,
            add_type: a.add_type,
        }
    }
}

/// `V2TIMFriendApplication`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendApplication {
    /// The other user.
    pub user_id: String,
    /// Their nickname.
    pub nickname: String,
    /// Their avatar.
    pub face_url: String,
    /// When, Unix seconds.
    pub add_time: i64,
    /// Source.
    pub add_source: String,
    /// Wording.
    pub add_wording: String,
    /// COME_IN 1 / SEND_OUT 2.
    pub r#type: i32,
}

impl From<cf::FriendApplication> for V2TIMFriendApplication {
    fn from(a: cf::FriendApplication) -> Self {
        V2TIMFriendApplication {
            user_id: a.user_id,
            nickname: a.nick_name,
            face_url: a.face_url,
            add_time: a.add_time,
            add_source: a.add_source,
            add_wording: a.add_wording,
            r#type: a.app_type,
        }
    }
}

impl From<V2TIMFriendApplication> for cf::FriendApplication {
    fn from(a: V2TIMFriendApplication) -> Self {
        cf::FriendApplication {
            user_id: a.user_id,
            nick_name: a.nickname,
            face_url: a.face_url,
            add_time: a.add_time,
            add_source: a.add_source,
            add_wording: a.add_wording,
            app_type: a.r#type,
        }
    }
}

/// `V2TIMFriendApplicationResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendApplicationResult {
    /// Unread applications to me.
    pub unread_count: i32,
    /// The applications, newest first.
    pub friend_application_list: Vec<V2TIMFriendApplication>,
}

/// `V2TIMFriendOperationResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendOperationResult {
    /// The user.
    pub user_id: String,
    /// 0 or a code.
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
}

impl From<cf::FriendOperationResult> for V2TIMFriendOperationResult {
    fn from(r: cf::FriendOperationResult) -> Self {
        V2TIMFriendOperationResult { user_id: r.user_id, result_code: r.result_code, result_info: r.result_info }
    }
}

/// `V2TIMFriendCheckResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendCheckResult {
    /// The user.
    pub user_id: String,
    /// 0.
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
    /// Relation.
    pub result_type: i32,
}

impl From<cf::FriendCheckResult> for V2TIMFriendCheckResult {
    fn from(r: cf::FriendCheckResult) -> Self {
        V2TIMFriendCheckResult {
            user_id: r.user_id,
            result_code: r.result_code,
            result_info: r.result_info,
            result_type: r.result_type,
        }
    }
}

/// `V2TIMFriendGroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMFriendGroup {
    /// Name.
    pub name: String,
    /// How many friends.
    pub friend_count: i64,
    /// Their ids.
    pub friend_id_list: Vec<String>,
}

impl From<cf::FriendGroup> for V2TIMFriendGroup {
    fn from(g: cf::FriendGroup) -> Self {
        V2TIMFriendGroup {
            name: g.name,
            friend_count: i64::try_from(g.friend_count).unwrap_or(i64::MAX),
            friend_id_list: g.friend_list,
        }
    }
}

fn all<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

/// `V2TIMFriendshipManager`.
pub struct V2TIMFriendshipManager {
    pub(crate) fm: core::FriendshipManager,
    pub(crate) sdk: core::Manager,
    /// The SDK instance's id (`instance_id`).
    pub(crate) instance_id: i64,
}

impl V2TIMFriendshipManager {
    /// The id of the SDK instance this manager belongs to.
    pub fn instance_id(&self) -> i64 {
        self.instance_id
    }

    /// `getFriendList`.
    pub async fn get_friend_list(&self) -> Result<Vec<V2TIMFriendInfo>> {
        Ok(all(self.fm.get_friend_list().await?))
    }

    /// `getFriendsInfo`.
    pub async fn get_friends_info(&self, user_id_list: Vec<String>) -> Result<Vec<V2TIMFriendInfoResult>> {
        Ok(all(self.fm.get_friends_info(user_id_list).await?))
    }

    /// `setFriendInfo`.
    pub async fn set_friend_info(&self, info: V2TIMFriendInfo) -> Result<()> {
        let change = cf::FriendInfoChange {
            user_id: info.user_id,
            friend_remark: info.friend_remark,
            friend_custom_info: info.friend_custom_info.map(|m| m.into_iter().collect()),
        };
        Ok(self.fm.set_friend_info(change).await?)
    }

    /// `addFriend`.
    pub async fn add_friend(&self, application: V2TIMFriendAddApplication) -> Result<V2TIMFriendOperationResult> {
        Ok(self.fm.add_friend(application.into()).await?.into())
    }

    /// `deleteFromFriendList`.
    pub async fn delete_from_friend_list(
        &self,
        user_id_list: Vec<String>,
        delete_type: i32,
    ) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.delete_from_friend_list(user_id_list, delete_type).await?))
    }

    /// `checkFriend`.
    pub async fn check_friend(
        &self,
        user_id_list: Vec<String>,
        check_type: i32,
    ) -> Result<Vec<V2TIMFriendCheckResult>> {
        Ok(all(self.fm.check_friend(user_id_list, check_type).await?))
    }

    /// `getFriendApplicationList`.
    pub async fn get_friend_application_list(&self) -> Result<V2TIMFriendApplicationResult> {
        let r = self.fm.get_friend_application_list().await?;
        Ok(V2TIMFriendApplicationResult {
            unread_count: i32::try_from(r.unread_count).unwrap_or(i32::MAX),
            friend_application_list: all(r.application_list),
        })
    }

    /// `acceptFriendApplication`.
    pub async fn accept_friend_application(
        &self,
        application: V2TIMFriendApplication,
        accept_type: i32,
    ) -> Result<V2TIMFriendOperationResult> {
        Ok(self.fm.accept_friend_application(application.into(), accept_type).await?.into())
    }

    /// `refuseFriendApplication`.
    pub async fn refuse_friend_application(
        &self,
        application: V2TIMFriendApplication,
    ) -> Result<V2TIMFriendOperationResult> {
        Ok(self.fm.refuse_friend_application(application.into()).await?.into())
    }

    /// `deleteFriendApplication`.
    pub async fn delete_friend_application(&self, application: V2TIMFriendApplication) -> Result<()> {
        Ok(self.fm.delete_friend_application(application.into()).await?)
    }

    /// `setFriendApplicationRead`.
    pub async fn set_friend_application_read(&self) -> Result<()> {
        Ok(self.fm.set_friend_application_read().await?)
    }

    /// `addToBlackList`.
    pub async fn add_to_black_list(&self, user_id_list: Vec<String>) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.add_to_black_list(user_id_list).await?))
    }

    /// `deleteFromBlackList`.
    pub async fn delete_from_black_list(&self, user_id_list: Vec<String>) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.delete_from_black_list(user_id_list).await?))
    }

    /// `getBlackList`.
    pub async fn get_black_list(&self) -> Result<Vec<V2TIMFriendInfo>> {
        Ok(all(self.fm.get_black_list().await?))
    }

    /// `createFriendGroup`.
    pub async fn create_friend_group(
        &self,
        group_name: String,
        user_id_list: Vec<String>,
    ) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.create_friend_group(group_name, user_id_list).await?))
    }

    /// `getFriendGroups`.
    pub async fn get_friend_groups(&self, group_name_list: Vec<String>) -> Result<Vec<V2TIMFriendGroup>> {
        Ok(all(self.fm.get_friend_groups(group_name_list).await?))
    }

    /// `deleteFriendGroup`.
    pub async fn delete_friend_group(&self, group_name_list: Vec<String>) -> Result<()> {
        Ok(self.fm.delete_friend_group(group_name_list).await?)
    }

    /// `renameFriendGroup`.
    pub async fn rename_friend_group(&self, old_name: String, new_name: String) -> Result<()> {
        Ok(self.fm.rename_friend_group(old_name, new_name).await?)
    }

    /// `addFriendsToFriendGroup`.
    pub async fn add_friends_to_friend_group(
        &self,
        group_name: String,
        user_id_list: Vec<String>,
    ) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.add_friends_to_friend_group(group_name, user_id_list).await?))
    }

    /// `deleteFriendsFromFriendGroup`.
    pub async fn delete_friends_from_friend_group(
        &self,
        group_name: String,
        user_id_list: Vec<String>,
    ) -> Result<Vec<V2TIMFriendOperationResult>> {
        Ok(all(self.fm.delete_friends_from_friend_group(group_name, user_id_list).await?))
    }

    /// Registers a friendship listener; the handle removes it.
    pub fn add_friend_listener_handle(&self, listener: Box<dyn V2TIMFriendshipListener>) -> i64 {
        self.fm.add_friend_listener(Arc::new(FriendshipListenerAdapter(listener))) as i64
    }

    /// Replaces every friendship listener (`setFriendListener`); the handle removes it.
    pub fn set_friend_listener_handle(&self, listener: Box<dyn V2TIMFriendshipListener>) -> i64 {
        self.fm.set_friend_listener(Arc::new(FriendshipListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }
}
