//! `V2TIMFriendshipManager`: friends, friend applications, the blacklist and friend groups.
//!
//! The server owns the relationship chain and decides every rule (allow types, blacklists,
//! limits); the SDK checks early what V2TIM's SDK checks (remark, wording, source, group name,
//! custom fields, batch sizes: 9001–9006) and asks. Nothing is cached here, so a new device
//! finds the friends, applications, blacklist and groups by asking. Changes reach every device
//! of each user concerned as events of that user's own stream, applied once per device, which
//! the dispatcher turns into `V2TIMFriendshipListener` callbacks.

use std::sync::Arc;

use oxim_proto::friendship::{
    ApplicationReq, ApplicationsRes, CheckFriendsReq, CheckRes, DeleteFriendsReq, FriendGroupReq, FriendGroupsReq,
    FriendGroupsRes, FriendInfoRes, FriendsRes, OpResult, OpResultsRes, Problem, RenameFriendGroupReq, UsersReq,
    check_add, check_group_name, check_set_info, check_some_users, check_type, check_users,
};
use oxim_proto::op;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::model::friendship::{
    FriendAddApplication, FriendApplication, FriendApplicationResult, FriendCheckResult, FriendGroup, FriendInfo,
    FriendInfoChange, FriendInfoResult, FriendOperationResult, FriendshipEvent, accept_type, application_type,
    friend_type, relation,
};

use crate::error::{Error, Result};
use crate::events::{ListenerId, Listeners};
use crate::listener::FriendshipListener;
use crate::runtime;
use crate::session::SessionSource;

/// The friendship manager of one SDK instance (`V2TIMManager.getFriendshipManager()`).
#[derive(Clone)]
pub struct FriendshipManager {
    sessions: Arc<dyn SessionSource>,
    listeners: Arc<Listeners>,
}

fn sdk_error(p: Problem) -> Error {
    Error::new(p.sdk_code(), p.to_string())
}

fn results(res: OpResultsRes) -> Vec<FriendOperationResult> {
    res.results.into_iter().map(Into::into).collect()
}

fn result(res: OpResult) -> FriendOperationResult {
    res.into()
}

impl FriendshipManager {
    /// The friendship manager of the instance whose sessions `sessions` finds and whose
    /// listeners are `listeners`.
    pub fn new(sessions: Arc<dyn SessionSource>, listeners: Arc<Listeners>) -> FriendshipManager {
        FriendshipManager { sessions, listeners }
    }

    /// One request on the logged-in session, run on the SDK runtime.
    async fn ask<Req, Res>(&self, op: &'static str, req: Req) -> Result<Res>
    where
        Req: Serialize + Send + Sync + 'static,
        Res: DeserializeOwned + Send + 'static,
    {
        let session = self.sessions.session()?;
        runtime::run(async move { session.link.current_or_err()?.request(op, &req).await }).await
    }

    /// `addFriendListener`.
    pub fn add_friend_listener(&self, listener: Arc<dyn FriendshipListener>) -> ListenerId {
        self.listeners.add_friendship(listener)
    }

    /// `setFriendListener`: replaces every friendship listener.
    pub fn set_friend_listener(&self, listener: Arc<dyn FriendshipListener>) -> ListenerId {
        self.listeners.set_friendship(listener)
    }

    /// `getFriendList`: the user's friends with their profiles, by user id.
    pub async fn get_friend_list(&self) -> Result<Vec<FriendInfo>> {
        let res: FriendsRes = self.ask(op::FRIEND_LIST, serde_json::json!({})).await?;
        Ok(res.friends.into_iter().map(Into::into).collect())
    }

    /// `getFriendsInfo`: each user's entry and relation (for a non-friend just the profile), in
    /// the order asked; 1 to 100 users.
    pub async fn get_friends_info(&self, user_ids: Vec<String>) -> Result<Vec<FriendInfoResult>> {
        check_users(&user_ids).map_err(sdk_error)?;
        let res: FriendInfoRes = self.ask(op::FRIEND_INFO, UsersReq { user_ids }).await?;
        Ok(res.results.into_iter().map(Into::into).collect())
    }

    /// `setFriendInfo`: a friend's remark and custom fields (what is set changes).
    pub async fn set_friend_info(&self, change: FriendInfoChange) -> Result<()> {
        let req = oxim_proto::friendship::SetFriendInfoReq::from(change);
        check_set_info(&req).map_err(sdk_error)?;
        let _: serde_json::Value = self.ask(op::FRIEND_SET_INFO, req).await?;
        Ok(())
    }

    /// `addFriend`: the outcome is the result's code: 0 (added), 30539 (waiting for the
    /// other user's confirmation), or why not (30515, 30516, 30525, 30010, 30014, ...).
    pub async fn add_friend(&self, application: FriendAddApplication) -> Result<FriendOperationResult> {
        let req = oxim_proto::friendship::AddFriendReq::from(application);
        check_add(&req).map_err(sdk_error)?;
        Ok(result(self.ask(op::FRIEND_ADD, req).await?))
    }

    /// `deleteFromFriendList`: [`friend_type`] SINGLE (from my list) or BOTH.
    pub async fn delete_from_friend_list(
        &self,
        user_ids: Vec<String>,
        delete_type: i32,
    ) -> Result<Vec<FriendOperationResult>> {
        check_users(&user_ids).map_err(sdk_error)?;
        check_type(delete_type, "deleteType").map_err(sdk_error)?;
        Ok(results(self.ask(op::FRIEND_DELETE, DeleteFriendsReq { user_ids, delete_type }).await?))
    }

    /// `checkFriend`: each user's [`relation`] (SINGLE looks at my list only).
    pub async fn check_friend(&self, user_ids: Vec<String>, check_type_: i32) -> Result<Vec<FriendCheckResult>> {
        check_users(&user_ids).map_err(sdk_error)?;
        check_type(check_type_, "checkType").map_err(sdk_error)?;
        let res: CheckRes = self.ask(op::FRIEND_CHECK, CheckFriendsReq { user_ids, check_type: check_type_ }).await?;
        Ok(res.results.into_iter().map(Into::into).collect())
    }

    /// `getFriendApplicationList`.
    pub async fn get_friend_application_list(&self) -> Result<FriendApplicationResult> {
        let res: ApplicationsRes = self.ask(op::FRIEND_APPS, serde_json::json!({})).await?;
        Ok(FriendApplicationResult {
            unread_count: res.unread,
            application_list: res.apps.into_iter().map(Into::into).collect(),
        })
    }

    /// `acceptFriendApplication` with [`accept_type`] AGREE (the applicant gets me as a friend)
    /// or AGREE_AND_ADD (both ways).
    pub async fn accept_friend_application(
        &self,
        application: FriendApplication,
        accept: i32,
    ) -> Result<FriendOperationResult> {
        check_users(std::slice::from_ref(&application.user_id)).map_err(sdk_error)?;
        if accept != accept_type::AGREE && accept != accept_type::AGREE_AND_ADD {
            return Err(Error::invalid("acceptType must be AGREE (0) or AGREE_AND_ADD (1)"));
        }
        let req = ApplicationReq { user_id: application.user_id, kind: accept };
        Ok(result(self.ask(op::FRIEND_APP_ACCEPT, req).await?))
    }

    /// `refuseFriendApplication`.
    pub async fn refuse_friend_application(&self, application: FriendApplication) -> Result<FriendOperationResult> {
        check_users(std::slice::from_ref(&application.user_id)).map_err(sdk_error)?;
        let req = ApplicationReq { user_id: application.user_id, kind: 0 };
        Ok(result(self.ask(op::FRIEND_APP_REFUSE, req).await?))
    }

    /// `deleteFriendApplication`: ends the application (either direction) for both users.
    pub async fn delete_friend_application(&self, application: FriendApplication) -> Result<()> {
        check_users(std::slice::from_ref(&application.user_id)).map_err(sdk_error)?;
        let req = ApplicationReq { user_id: application.user_id, kind: application.app_type };
        let _: serde_json::Value = self.ask(op::FRIEND_APP_DELETE, req).await?;
        Ok(())
    }

    /// `setFriendApplicationRead`: the applications to the user are read.
    pub async fn set_friend_application_read(&self) -> Result<()> {
        let _: serde_json::Value = self.ask(op::FRIEND_APPS_READ, serde_json::json!({})).await?;
        Ok(())
    }

    /// `addToBlackList`: blocking a friend ends the friendship both ways.
    pub async fn add_to_black_list(&self, user_ids: Vec<String>) -> Result<Vec<FriendOperationResult>> {
        check_users(&user_ids).map_err(sdk_error)?;
        Ok(results(self.ask(op::BLACK_ADD, UsersReq { user_ids }).await?))
    }

    /// `deleteFromBlackList`.
    pub async fn delete_from_black_list(&self, user_ids: Vec<String>) -> Result<Vec<FriendOperationResult>> {
        check_users(&user_ids).map_err(sdk_error)?;
        Ok(results(self.ask(op::BLACK_DELETE, UsersReq { user_ids }).await?))
    }

    /// `getBlackList`.
    pub async fn get_black_list(&self) -> Result<Vec<FriendInfo>> {
        let res: FriendsRes = self.ask(op::BLACK_LIST, serde_json::json!({})).await?;
        Ok(res.friends.into_iter().map(Into::into).collect())
    }

    /// `createFriendGroup`: a new group (name 1–30 bytes, at most 32 groups) with these friends.
    pub async fn create_friend_group(&self, name: String, user_ids: Vec<String>) -> Result<Vec<FriendOperationResult>> {
        check_group_name(&name).map_err(sdk_error)?;
        check_some_users(&user_ids).map_err(sdk_error)?;
        Ok(results(self.ask(op::FGROUP_CREATE, FriendGroupReq { name, user_ids }).await?))
    }

    /// `getFriendGroups`: the groups named (all if none), by name.
    pub async fn get_friend_groups(&self, names: Vec<String>) -> Result<Vec<FriendGroup>> {
        for name in &names {
            check_group_name(name).map_err(sdk_error)?;
        }
        let res: FriendGroupsRes = self.ask(op::FGROUP_GET, FriendGroupsReq { names }).await?;
        Ok(res.groups.into_iter().map(Into::into).collect())
    }

    /// `deleteFriendGroup`.
    pub async fn delete_friend_group(&self, names: Vec<String>) -> Result<()> {
        if names.is_empty() {
            return Err(Error::invalid("name the friend groups to delete"));
        }
        for name in &names {
            check_group_name(name).map_err(sdk_error)?;
        }
        let _: serde_json::Value = self.ask(op::FGROUP_DELETE, FriendGroupsReq { names }).await?;
        Ok(())
    }

    /// `renameFriendGroup`.
    pub async fn rename_friend_group(&self, old_name: String, new_name: String) -> Result<()> {
        check_group_name(&old_name).map_err(sdk_error)?;
        check_group_name(&new_name).map_err(sdk_error)?;
        let _: serde_json::Value = self.ask(op::FGROUP_RENAME, RenameFriendGroupReq { old_name, new_name }).await?;
        Ok(())
    }

    /// `addFriendsToFriendGroup`.
    pub async fn add_friends_to_friend_group(
        &self,
        name: String,
        user_ids: Vec<String>,
    ) -> Result<Vec<FriendOperationResult>> {
        check_group_name(&name).map_err(sdk_error)?;
        check_users(&user_ids).map_err(sdk_error)?;
        Ok(results(self.ask(op::FGROUP_ADD, FriendGroupReq { name, user_ids }).await?))
    }

    /// `deleteFriendsFromFriendGroup`.
    pub async fn delete_friends_from_friend_group(
        &self,
        name: String,
        user_ids: Vec<String>,
    ) -> Result<Vec<FriendOperationResult>> {
        check_group_name(&name).map_err(sdk_error)?;
        check_users(&user_ids).map_err(sdk_error)?;
        Ok(results(self.ask(op::FGROUP_REMOVE, FriendGroupReq { name, user_ids }).await?))
    }
}
