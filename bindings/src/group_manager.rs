//! `V2TIMGroupManager` and the group records and listener: forwards to
//! `oxim_core::GroupManager`, converting records.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use oxim_core as core;
use oxim_core::group as cg;

use crate::V2TIMError;
use crate::enums::{
    V2TIMGroupAddOpt, V2TIMGroupInfoChangeType, V2TIMGroupMemberFilter, V2TIMGroupMemberRole,
    V2TIMGroupReceiveMessageOpt, V2TIMGroupTipsType,
};
use crate::listeners::{GroupListenerAdapter, V2TIMGroupListener};

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMGroupMemberInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupMemberInfo {
    /// User.
    pub user_id: String,
    /// Nickname.
    pub nick_name: String,
    /// Name card.
    pub name_card: String,
    /// Remark.
    pub friend_remark: String,
    /// Avatar.
    pub face_url: String,
}

impl From<cg::GroupMemberInfo> for V2TIMGroupMemberInfo {
    fn from(m: cg::GroupMemberInfo) -> Self {
        V2TIMGroupMemberInfo {
            user_id: m.user_id,
            nick_name: m.nick_name,
            name_card: m.name_card,
            friend_remark: m.friend_remark,
            face_url: m.face_url,
        }
    }
}

fn member(id: &str) -> V2TIMGroupMemberInfo {
    cg::GroupMemberInfo::of(id).into()
}

/// `V2TIMGroupChangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupChangeInfo {
    /// What changed.
    pub r#type: V2TIMGroupInfoChangeType,
    /// The new value.
    pub value: String,
    /// The custom field (CUSTOM).
    pub key: String,
}

impl From<cg::GroupChange> for V2TIMGroupChangeInfo {
    fn from(c: cg::GroupChange) -> Self {
        V2TIMGroupChangeInfo { r#type: V2TIMGroupInfoChangeType::from_i32(c.kind), value: c.value, key: c.key }
    }
}

/// `V2TIMGroupMemberChangeInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupMemberChangeInfo {
    /// The member.
    pub user_id: String,
    /// Seconds of mute from now.
    pub mute_time: i64,
}

impl From<cg::MemberChange> for V2TIMGroupMemberChangeInfo {
    fn from(c: cg::MemberChange) -> Self {
        V2TIMGroupMemberChangeInfo { user_id: c.user_id, mute_time: c.mute_time }
    }
}

/// `V2TIMGroupTipsElem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupTipsElem {
    /// The group.
    pub group_id: String,
    /// What happened.
    pub r#type: V2TIMGroupTipsType,
    /// Who did it.
    pub op_member: V2TIMGroupMemberInfo,
    /// Whom it concerns.
    pub member_list: Vec<V2TIMGroupMemberInfo>,
    /// Profile changes.
    pub group_change_info_list: Vec<V2TIMGroupChangeInfo>,
    /// Member changes.
    pub member_change_info_list: Vec<V2TIMGroupMemberChangeInfo>,
    /// Members after the change.
    pub member_count: i32,
}

impl V2TIMGroupTipsElem {
    /// The record of a group tip of `group_id`.
    pub fn of(group_id: &str, tips: cg::GroupTips) -> V2TIMGroupTipsElem {
        V2TIMGroupTipsElem {
            group_id: group_id.to_owned(),
            r#type: V2TIMGroupTipsType::from_i32(tips.tip_type),
            op_member: member(&tips.op_user),
            member_list: tips.member_list.iter().map(|m| member(m)).collect(),
            group_change_info_list: tips.group_changes.into_iter().map(Into::into).collect(),
            member_change_info_list: tips.member_changes.into_iter().map(Into::into).collect(),
            member_count: tips.member_count as i32,
        }
    }
}

fn hash_map(m: BTreeMap<String, String>) -> HashMap<String, String> {
    m.into_iter().collect()
}

fn btree_map(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

/// `V2TIMGroupInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupInfo {
    /// Id.
    pub group_id: String,
    /// Type.
    pub group_type: String,
    /// Name.
    pub group_name: Option<String>,
    /// Introduction.
    pub introduction: Option<String>,
    /// Notification.
    pub notification: Option<String>,
    /// Avatar URL.
    pub face_url: Option<String>,
    /// Owner.
    pub owner: String,
    /// Join option.
    pub group_add_opt: Option<V2TIMGroupAddOpt>,
    /// Whole-group mute.
    pub all_muted: Option<bool>,
    /// Custom fields.
    pub custom_info: Option<HashMap<String, String>>,
    /// Members.
    pub member_count: i32,
    /// Member limit.
    pub member_max_count: i32,
    /// Created, Unix seconds.
    pub create_time: i64,
    /// Profile last changed, Unix seconds.
    pub last_info_time: i64,
    /// My role (`V2TIMGroupMemberRole` value).
    pub role: i32,
    /// My receive option (`V2TIMGroupReceiveMessageOpt` value).
    pub recv_opt: i32,
    /// When I joined, Unix seconds.
    pub join_time: i64,
}

impl From<cg::GroupInfo> for V2TIMGroupInfo {
    fn from(g: cg::GroupInfo) -> Self {
        V2TIMGroupInfo {
            group_id: g.group_id,
            group_type: g.group_type,
            group_name: Some(g.name),
            introduction: Some(g.introduction),
            notification: Some(g.notification),
            face_url: Some(g.face_url),
            owner: g.owner,
            group_add_opt: Some(V2TIMGroupAddOpt::from_i32(g.add_opt)),
            all_muted: Some(g.all_muted),
            custom_info: Some(hash_map(g.custom_info)),
            member_count: g.member_count as i32,
            member_max_count: g.member_max_count as i32,
            create_time: g.create_time,
            last_info_time: g.last_info_time,
            role: g.role,
            recv_opt: g.recv_opt,
            join_time: g.join_time,
        }
    }
}

/// `V2TIMGroupInfoResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupInfoResult {
    /// 0 or an error code.
    pub result_code: i32,
    /// Why.
    pub result_message: String,
    /// The group.
    pub group_info: V2TIMGroupInfo,
}

/// `V2TIMCreateGroupMemberInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMCreateGroupMemberInfo {
    /// User.
    pub user_id: String,
    /// Role (200 member, 300 admin).
    pub role: i32,
}

/// `V2TIMGroupMemberFullInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupMemberFullInfo {
    /// User.
    pub user_id: String,
    /// Nickname.
    pub nick_name: String,
    /// Name card.
    pub name_card: Option<String>,
    /// Remark.
    pub friend_remark: String,
    /// Avatar.
    pub face_url: String,
    /// Role (`V2TIMGroupMemberRole` value).
    pub role: i32,
    /// Muted until, Unix seconds.
    pub mute_until: i64,
    /// Joined, Unix seconds.
    pub join_time: i64,
    /// Member custom fields.
    pub custom_info: Option<HashMap<String, String>>,
}

impl From<cg::GroupMemberFullInfo> for V2TIMGroupMemberFullInfo {
    fn from(m: cg::GroupMemberFullInfo) -> Self {
        V2TIMGroupMemberFullInfo {
            user_id: m.user_id,
            nick_name: String::new(),
            name_card: Some(m.name_card),
            friend_remark: String::new(),
            face_url: String::new(),
            role: m.role,
            mute_until: m.mute_until,
            join_time: m.join_time,
            custom_info: Some(hash_map(m.custom_info)),
        }
    }
}

/// `V2TIMGroupMemberInfoResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupMemberInfoResult {
    /// 0 = last page.
    pub next_seq: i64,
    /// The members.
    pub member_info_list: Vec<V2TIMGroupMemberFullInfo>,
}

/// `V2TIMGroupMemberOperationResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupMemberOperationResult {
    /// User.
    pub member_id: String,
    /// 0 failed, 1 done, 2 invalid, 3 pending, 4 over the limit.
    pub result: i32,
}

/// `V2TIMGroupApplication`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupApplication {
    /// Group.
    pub group_id: String,
    /// Applicant.
    pub from_user: String,
    /// Invitee (invitations).
    pub to_user: String,
    /// Unix seconds.
    pub add_time: i64,
    /// Applicant's message.
    pub request_msg: String,
    /// Handler's message.
    pub handled_msg: String,
    /// 0 join, 1 invite.
    pub r#type: i32,
    /// 0 unhandled, 1 by another, 2 by me.
    pub handle_status: i32,
    /// 0 refused, 1 agreed.
    pub handle_result: i32,
    /// Oxim's id.
    pub application_id: String,
}

impl From<cg::GroupApplication> for V2TIMGroupApplication {
    fn from(a: cg::GroupApplication) -> Self {
        V2TIMGroupApplication {
            group_id: a.group_id,
            from_user: a.from_user,
            to_user: a.to_user,
            add_time: a.add_time,
            request_msg: a.request_msg,
            handled_msg: a.handled_msg,
            r#type: a.app_type,
            handle_status: a.handle_status,
            handle_result: a.handle_result,
            application_id: a.app_id,
        }
    }
}

impl From<V2TIMGroupApplication> for cg::GroupApplication {
    fn from(a: V2TIMGroupApplication) -> Self {
        cg::GroupApplication {
            app_id: a.application_id,
            group_id: a.group_id,
            from_user: a.from_user,
            to_user: a.to_user,
            add_time: a.add_time,
            request_msg: a.request_msg,
            handled_msg: a.handled_msg,
            app_type: a.r#type,
            handle_status: a.handle_status,
            handle_result: a.handle_result,
        }
    }
}

/// `V2TIMGroupApplicationResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMGroupApplicationResult {
    /// Unhandled, unread.
    pub unread_count: i32,
    /// The applications.
    pub group_application_list: Vec<V2TIMGroupApplication>,
}

/// `V2TIMGroupManager`.
pub struct V2TIMGroupManager {
    pub(crate) gm: core::GroupManager,
    pub(crate) sdk: core::Manager,
    /// The SDK instance's id (`instance_id`).
    pub(crate) instance_id: i64,
}

impl V2TIMGroupManager {
    /// The id of the SDK instance this manager belongs to.
    pub fn instance_id(&self) -> i64 {
        self.instance_id
    }

    /// `createGroup(info, memberList)`.
    pub async fn create_group(
        &self,
        info: V2TIMGroupInfo,
        member_list: Option<Vec<V2TIMCreateGroupMemberInfo>>,
    ) -> Result<String> {
        let req = cg::GroupCreation {
            group_type: info.group_type,
            group_id: info.group_id,
            name: info.group_name.unwrap_or_default(),
            introduction: info.introduction.unwrap_or_default(),
            notification: info.notification.unwrap_or_default(),
            face_url: info.face_url.unwrap_or_default(),
            add_opt: info.group_add_opt.map_or(cg::add_opt::AUTH, |o| o as i32),
            max_member_count: info.member_max_count.max(0) as u32,
            custom_info: info.custom_info.map(btree_map).unwrap_or_default(),
            members: member_list
                .unwrap_or_default()
                .into_iter()
                .map(|m| cg::CreateMember { user_id: m.user_id, role: m.role })
                .collect(),
        };
        Ok(self.gm.create_group(req).await?)
    }

    /// `getJoinedGroupList`.
    pub async fn get_joined_group_list(&self) -> Result<Vec<V2TIMGroupInfo>> {
        Ok(self.gm.joined_group_list().await?.into_iter().map(Into::into).collect())
    }

    /// `getGroupsInfo`.
    pub async fn get_groups_info(&self, group_id_list: Vec<String>) -> Result<Vec<V2TIMGroupInfoResult>> {
        let results = self.gm.groups_info(group_id_list).await?;
        Ok(results
            .into_iter()
            .map(|r| V2TIMGroupInfoResult { result_code: r.code, result_message: r.desc, group_info: r.info.into() })
            .collect())
    }

    /// `setGroupInfo`.
    pub async fn set_group_info(&self, info: V2TIMGroupInfo) -> Result<()> {
        let change = cg::GroupInfoChange {
            group_id: info.group_id,
            name: info.group_name,
            introduction: info.introduction,
            notification: info.notification,
            face_url: info.face_url,
            add_opt: info.group_add_opt.map(|o| o as i32),
            all_muted: info.all_muted,
            custom_info: info.custom_info.map(btree_map),
        };
        Ok(self.gm.set_group_info(change).await?)
    }

    /// `setReceiveMessageOpt`.
    pub async fn set_receive_message_opt(&self, group_id: String, opt: V2TIMGroupReceiveMessageOpt) -> Result<()> {
        Ok(self.gm.set_receive_message_opt(group_id, opt as i32).await?)
    }

    /// `getGroupMemberList`.
    pub async fn get_group_member_list(
        &self,
        group_id: String,
        filter: V2TIMGroupMemberFilter,
        next_seq: i64,
    ) -> Result<V2TIMGroupMemberInfoResult> {
        let page = self.gm.group_member_list(group_id, filter as i32, next_seq.max(0) as u64).await?;
        Ok(V2TIMGroupMemberInfoResult {
            next_seq: page.next_seq as i64,
            member_info_list: page.members.into_iter().map(Into::into).collect(),
        })
    }

    /// `getGroupMembersInfo`.
    pub async fn get_group_members_info(
        &self,
        group_id: String,
        member_list: Vec<String>,
    ) -> Result<Vec<V2TIMGroupMemberFullInfo>> {
        Ok(self.gm.group_members_info(group_id, member_list).await?.into_iter().map(Into::into).collect())
    }

    /// `setGroupMemberInfo`.
    pub async fn set_group_member_info(&self, group_id: String, info: V2TIMGroupMemberFullInfo) -> Result<()> {
        let change = cg::GroupMemberChange {
            group_id,
            user_id: info.user_id,
            name_card: info.name_card,
            custom_info: info.custom_info.map(btree_map),
        };
        Ok(self.gm.set_group_member_info(change).await?)
    }

    /// `muteGroupMember`.
    pub async fn mute_group_member(&self, group_id: String, user_id: String, seconds: i32) -> Result<()> {
        let seconds = u32::try_from(seconds).map_err(|_| core::Error::invalid("seconds must not be negative"))?;
        Ok(self.gm.mute_group_member(group_id, user_id, seconds).await?)
    }

    /// `inviteUserToGroup`.
    pub async fn invite_user_to_group(
        &self,
        group_id: String,
        user_list: Vec<String>,
    ) -> Result<Vec<V2TIMGroupMemberOperationResult>> {
        Ok(op_results(self.gm.invite_user_to_group(group_id, user_list).await?))
    }

    /// `kickGroupMember`.
    pub async fn kick_group_member(
        &self,
        group_id: String,
        member_list: Vec<String>,
        reason: String,
    ) -> Result<Vec<V2TIMGroupMemberOperationResult>> {
        Ok(op_results(self.gm.kick_group_member(group_id, member_list, reason).await?))
    }

    /// `setGroupMemberRole`.
    pub async fn set_group_member_role(
        &self,
        group_id: String,
        user_id: String,
        role: V2TIMGroupMemberRole,
    ) -> Result<()> {
        Ok(self.gm.set_group_member_role(group_id, user_id, role as i32).await?)
    }

    /// `transferGroupOwner`.
    pub async fn transfer_group_owner(&self, group_id: String, user_id: String) -> Result<()> {
        Ok(self.gm.transfer_group_owner(group_id, user_id).await?)
    }

    /// `getGroupApplicationList`.
    pub async fn get_group_application_list(&self) -> Result<V2TIMGroupApplicationResult> {
        let res = self.gm.group_application_list().await?;
        Ok(V2TIMGroupApplicationResult {
            unread_count: res.unread_count as i32,
            group_application_list: res.applications.into_iter().map(Into::into).collect(),
        })
    }

    /// `acceptGroupApplication`.
    pub async fn accept_group_application(&self, application: V2TIMGroupApplication, reason: String) -> Result<()> {
        Ok(self.gm.accept_group_application(application.into(), reason).await?)
    }

    /// `refuseGroupApplication`.
    pub async fn refuse_group_application(&self, application: V2TIMGroupApplication, reason: String) -> Result<()> {
        Ok(self.gm.refuse_group_application(application.into(), reason).await?)
    }

    /// `setGroupApplicationRead`.
    pub async fn set_group_application_read(&self) -> Result<()> {
        Ok(self.gm.set_group_application_read().await?)
    }

    /// `getGroupOnlineMemberCount`.
    pub async fn get_group_online_member_count(&self, group_id: String) -> Result<i32> {
        Ok(self.gm.group_online_member_count(group_id).await? as i32)
    }

    /// `initGroupAttributes`.
    pub async fn init_group_attributes(&self, group_id: String, attributes: HashMap<String, String>) -> Result<()> {
        Ok(self.gm.init_group_attributes(group_id, btree_map(attributes)).await?)
    }

    /// `setGroupAttributes`.
    pub async fn set_group_attributes(&self, group_id: String, attributes: HashMap<String, String>) -> Result<()> {
        Ok(self.gm.set_group_attributes(group_id, btree_map(attributes)).await?)
    }

    /// `deleteGroupAttributes`.
    pub async fn delete_group_attributes(&self, group_id: String, keys: Option<Vec<String>>) -> Result<()> {
        Ok(self.gm.delete_group_attributes(group_id, keys).await?)
    }

    /// `getGroupAttributes`.
    pub async fn get_group_attributes(
        &self,
        group_id: String,
        keys: Option<Vec<String>>,
    ) -> Result<HashMap<String, String>> {
        Ok(hash_map(self.gm.group_attributes(group_id, keys).await?))
    }

    /// Registers a group listener; the handle removes it.
    pub fn add_group_listener_handle(&self, listener: Box<dyn V2TIMGroupListener>) -> i64 {
        self.sdk.add_group_listener(Arc::new(GroupListenerAdapter(listener))) as i64
    }

    /// Removes a listener by handle.
    pub fn remove_listener_handle(&self, handle: i64) -> bool {
        self.sdk.remove_listener(handle as u64)
    }
}

fn op_results(list: Vec<cg::MemberOpResult>) -> Vec<V2TIMGroupMemberOperationResult> {
    list.into_iter().map(|r| V2TIMGroupMemberOperationResult { member_id: r.user_id, result: r.result }).collect()
}
