//! `V2TIMGroupManager`: groups, members, applications and group attributes.
//!
//! The server enforces every rule of V2TIM's group-type table; the SDK checks only what it can
//! without asking (V2TIM's 85xx codes: id and field lengths, batch sizes) and the attribute
//! rate limits V2TIM puts in the SDK (10 writes and 20 reads per 5 s, error 8511).
//!
//! Attribute writes are version-checked: the SDK sends the version of the app's view of the
//! attributes (its last `getGroupAttributes`, or its own last successful write); the server
//! refuses with 10056 if a key the write touches changed since. `onGroupAttributeChanged`
//! pushes do not move the view: an app deciding from an old read must not win because a push
//! happened to arrive before its write. Without a view yet, the SDK reads first.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oxim_proto::code;
use oxim_proto::group::{
    ApplicationsRes, AttrWriteMode, CreateGroupReq, CreateGroupRes, GetAttrsReq, GroupAttrs, GroupReq, GroupUsersReq,
    GroupsInfoReq, GroupsInfoRes, HandleApplicationReq, JoinGroupReq, JoinGroupRes, JoinedGroupsRes, MemberOpRes,
    MembersInfoRes, MembersReq, MembersRes, MuteReq, OnlineCountRes, RecvOptReq, RoleReq, SetGroupInfoReq,
    SetMemberReq, WriteAttrsReq, is_valid_group_id, limits,
};
use oxim_proto::op;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::model::group::{
    CreateMember, GroupApplication, GroupApplicationResult, GroupChange, GroupCreation, GroupEvent, GroupInfo,
    GroupInfoChange, GroupInfoResult, GroupMemberChange, GroupMemberFullInfo, GroupMemberInfo, GroupMemberInfoResult,
    GroupTips, MemberChange, MemberOpResult, add_opt, group_type, info_change, member_filter, recv_opt, role, tip_type,
};

use crate::error::{Error, Result};
use crate::events::Event;
use crate::runtime;
use crate::session::{Session, SessionSource};

/// V2TIM's SDK-side attribute limits: writes and reads per window.
const ATTR_WINDOW: Duration = Duration::from_secs(5);
const ATTR_WRITES_PER_WINDOW: usize = 10;
const ATTR_READS_PER_WINDOW: usize = 20;

/// What a session knows about groups: the AVChatRooms it is in (joined again after a
/// reconnect), the attribute versions it has seen, and the attribute call rates.
#[derive(Debug, Default)]
struct GroupState {
    rooms: Mutex<HashSet<String>>,
    attr_versions: Mutex<HashMap<String, u64>>,
    /// The version of the last attribute snapshot passed on to the app, per group.
    attr_pushed: Mutex<HashMap<String, u64>>,
    attr_writes: Mutex<VecDeque<Instant>>,
    attr_reads: Mutex<VecDeque<Instant>>,
}

impl GroupState {
    /// AVChatRooms the user is in.
    pub fn rooms(&self) -> Vec<String> {
        self.rooms.lock().expect("group state lock").iter().cloned().collect()
    }

    /// Whether `group_id` is an AVChatRoom the user is in (its messages are never stored).
    pub fn is_room(&self, group_id: &str) -> bool {
        self.rooms.lock().expect("group state lock").contains(group_id)
    }

    fn set_room(&self, group_id: &str, joined: bool) {
        let mut rooms = self.rooms.lock().expect("group state lock");
        if joined {
            rooms.insert(group_id.to_owned());
        } else {
            rooms.remove(group_id);
        }
    }

    fn attr_version(&self, group_id: &str) -> Option<u64> {
        self.attr_versions.lock().expect("group state lock").get(group_id).copied()
    }

    /// Records a view of a group's attributes (never going back to an older one).
    fn saw_attrs(&self, group_id: &str, version: u64) {
        let mut versions = self.attr_versions.lock().expect("group state lock");
        let v = versions.entry(group_id.to_owned()).or_insert(version);
        *v = (*v).max(version);
    }

    /// Whether a pushed snapshot of version `version` is newer than the last one passed on
    /// (and from now on the last one). The server pushes a group's snapshots in version
    /// order, but an older one can still arrive after a newer one (two connections of a
    /// reconnection); an app that replaces its map from the callback must never go back.
    fn newer_push(&self, group_id: &str, version: u64) -> bool {
        let mut pushed = self.attr_pushed.lock().expect("group state lock");
        match pushed.get_mut(group_id) {
            Some(last) if *last >= version => false,
            Some(last) => {
                *last = version;
                true
            }
            None => {
                pushed.insert(group_id.to_owned(), version);
                true
            }
        }
    }

    /// The user entered or left `group_id` (or made or ended it): its attribute versions start
    /// over if a group of that id is made again.
    fn forget_attrs(&self, group_id: &str) {
        self.attr_pushed.lock().expect("group state lock").remove(group_id);
        self.attr_versions.lock().expect("group state lock").remove(group_id);
    }

    fn admit(calls: &Mutex<VecDeque<Instant>>, max: usize, what: &str) -> Result<()> {
        let now = Instant::now();
        let mut calls = calls.lock().expect("group state lock");
        while calls.front().is_some_and(|t| now.duration_since(*t) >= ATTR_WINDOW) {
            calls.pop_front();
        }
        if calls.len() >= max {
            return Err(Error::new(
                code::SDK_GROUP_ATTR_FREQUENCY_LIMIT,
                format!("group attributes: at most {max} {what} per 5 seconds"),
            ));
        }
        calls.push_back(now);
        Ok(())
    }
}

/// The group state of `session`.
fn groups(session: &Session) -> Arc<GroupState> {
    session.state::<GroupState>()
}

/// Whether `group_id` is an AVChatRoom the session's user is in (its messages are never stored).
pub fn is_room(session: &Session, group_id: &str) -> bool {
    groups(session).is_room(group_id)
}

/// A pushed attribute change: tell the app, unless it is not newer than the last snapshot it
/// was told (the view for writes stays what the app last read).
pub fn on_attrs_push(session: &Session, attrs: GroupAttrs) {
    if !groups(session).newer_push(&attrs.group_id, attrs.version) {
        tracing::debug!("attributes of {} at version {} are not newer: dropped", attrs.group_id, attrs.version);
        return;
    }
    let event = GroupEvent::AttributeChanged { group_id: attrs.group_id, attributes: attrs.attrs };
    session.events.emit(Event::Group(event));
}

/// Registers what the group manager does after each reconnection of `session`: joining its
/// AVChatRooms again.
pub fn attach(session: &Session) {
    session.on_reconnect(Arc::new(|session| Box::pin(async move { rejoin_rooms(&session).await })));
}

/// Sends one request on the session's connection.
pub(crate) async fn request<Req: Serialize + Sync, Res: DeserializeOwned>(
    session: &Session,
    operation: &str,
    req: &Req,
) -> Result<Res> {
    session.link.current_or_err()?.request(operation, req).await
}

fn check_group_id(group_id: &str) -> Result<()> {
    if !is_valid_group_id(group_id) {
        return Err(Error::new(code::SDK_GROUP_INVALID_ID, format!("invalid groupID {group_id:?}")));
    }
    Ok(())
}

fn check_len(value: &str, max: usize, code: i32, what: &str) -> Result<()> {
    if value.len() > max {
        return Err(Error::new(code, format!("{what} is {} bytes; at most {max}", value.len())));
    }
    Ok(())
}

fn check_users(users: &[String]) -> Result<()> {
    if users.is_empty() {
        return Err(Error::new(code::SDK_GROUP_INVITE_NO_MEMBER, "the user list is empty"));
    }
    if users.len() > limits::BATCH_USERS {
        return Err(Error::new(
            code::SDK_GROUP_MEMBER_COUNT_LIMIT,
            format!("at most {} users per call", limits::BATCH_USERS),
        ));
    }
    Ok(())
}

/// `V2TIMGroupManager`.
#[derive(Clone)]
pub struct GroupManager {
    sessions: Arc<dyn SessionSource>,
}

impl GroupManager {
    /// The group manager of the instance whose sessions `sessions` finds.
    pub fn new(sessions: Arc<dyn SessionSource>) -> GroupManager {
        GroupManager { sessions }
    }

    async fn call<Req, Res>(&self, operation: &'static str, req: Req) -> Result<Res>
    where
        Req: Serialize + Send + Sync + 'static,
        Res: DeserializeOwned + Send + 'static,
    {
        let session = self.sessions.session()?;
        runtime::run(async move { request(&session, operation, &req).await }).await
    }

    /// `createGroup(info, memberList)`: creates a group with its profile and first members;
    /// returns its id (assigned by the server when `group_id` is empty).
    pub async fn create_group(&self, req: GroupCreation) -> Result<String> {
        if !group_type::is_valid(&req.group_type) {
            return Err(Error::invalid(format!("unknown group type {:?}", req.group_type)));
        }
        if !req.group_id.is_empty() {
            check_group_id(&req.group_id)?;
            if req.group_id.starts_with(limits::AUTO_ID_PREFIX) {
                return Err(Error::new(
                    code::SDK_GROUP_INVALID_ID,
                    "groupIDs starting with @TGS# are assigned by the server",
                ));
            }
        }
        if req.name.is_empty() {
            return Err(Error::new(code::SDK_GROUP_INVALID_NAME, "groupName is empty"));
        }
        check_len(&req.name, limits::NAME, code::SDK_GROUP_INVALID_NAME, "groupName")?;
        check_len(&req.introduction, limits::INTRODUCTION, code::SDK_GROUP_INVALID_INTRODUCTION, "introduction")?;
        check_len(&req.notification, limits::NOTIFICATION, code::SDK_GROUP_INVALID_NOTIFICATION, "notification")?;
        check_len(&req.face_url, limits::FACE_URL, code::SDK_GROUP_INVALID_FACE_URL, "faceURL")?;
        if req.members.len() > limits::CREATE_MEMBERS {
            return Err(Error::new(code::SDK_GROUP_MEMBER_COUNT_LIMIT, "at most 500 initial members"));
        }
        let is_room = req.group_type == group_type::AVCHATROOM;
        let session = self.sessions.session()?;
        let req = CreateGroupReq::from(req);
        runtime::run(async move {
            let res: CreateGroupRes = request(&session, op::GROUP_CREATE, &req).await?;
            groups(&session).forget_attrs(&res.group_id);
            if is_room {
                groups(&session).set_room(&res.group_id, true);
            }
            Ok(res.group_id)
        })
        .await
    }

    /// `joinGroup`: joins (Meeting, AVChatRoom, Public with free join) or applies (Public);
    /// returns whether the user is a member now.
    pub async fn join_group(&self, group_id: String, message: String) -> Result<bool> {
        check_group_id(&group_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let req = JoinGroupReq { group_id: group_id.clone(), message };
            let res: JoinGroupRes = request(&session, op::GROUP_JOIN, &req).await?;
            groups(&session).forget_attrs(&group_id);
            if res.group_type == group_type::AVCHATROOM {
                groups(&session).set_room(&group_id, true);
            }
            Ok(res.joined)
        })
        .await
    }

    /// `quitGroup`.
    pub async fn quit_group(&self, group_id: String) -> Result<()> {
        check_group_id(&group_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let _: serde_json::Value =
                request(&session, op::GROUP_QUIT, &GroupReq { group_id: group_id.clone() }).await?;
            groups(&session).set_room(&group_id, false);
            groups(&session).forget_attrs(&group_id);
            Ok(())
        })
        .await
    }

    /// `dismissGroup` (owner; not Work groups).
    pub async fn dismiss_group(&self, group_id: String) -> Result<()> {
        check_group_id(&group_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let req = GroupReq { group_id: group_id.clone() };
            let _: serde_json::Value = request(&session, op::GROUP_DISMISS, &req).await?;
            groups(&session).set_room(&group_id, false);
            groups(&session).forget_attrs(&group_id);
            Ok(())
        })
        .await
    }

    /// `getJoinedGroupList`: Work, Public and Meeting groups (never AVChatRooms).
    pub async fn joined_group_list(&self) -> Result<Vec<GroupInfo>> {
        let res: JoinedGroupsRes = self.call(op::GROUP_JOINED, serde_json::json!({})).await?;
        Ok(res.groups.into_iter().map(Into::into).collect())
    }

    /// `getGroupsInfo`: up to 50 groups; each result has its own code.
    pub async fn groups_info(&self, group_ids: Vec<String>) -> Result<Vec<GroupInfoResult>> {
        if group_ids.is_empty() || group_ids.len() > limits::INFO_BATCH {
            return Err(Error::invalid(format!("ask for 1 to {} groups", limits::INFO_BATCH)));
        }
        let res: GroupsInfoRes = self.call(op::GROUP_INFO, GroupsInfoReq { group_ids }).await?;
        Ok(res.results.into_iter().map(Into::into).collect())
    }

    /// `setGroupInfo`: changes the fields that are set.
    pub async fn set_group_info(&self, change: GroupInfoChange) -> Result<()> {
        check_group_id(&change.group_id)?;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        if change.name.as_ref().is_some_and(|n| n.is_empty()) {
            return Err(Error::new(code::SDK_GROUP_INVALID_NAME, "groupName is empty"));
        }
        check_len(&opt(&change.name), limits::NAME, code::SDK_GROUP_INVALID_NAME, "groupName")?;
        check_len(
            &opt(&change.introduction),
            limits::INTRODUCTION,
            code::SDK_GROUP_INVALID_INTRODUCTION,
            "introduction",
        )?;
        check_len(
            &opt(&change.notification),
            limits::NOTIFICATION,
            code::SDK_GROUP_INVALID_NOTIFICATION,
            "notification",
        )?;
        check_len(&opt(&change.face_url), limits::FACE_URL, code::SDK_GROUP_INVALID_FACE_URL, "faceURL")?;
        let _: serde_json::Value = self.call(op::GROUP_SET_INFO, SetGroupInfoReq::from(change)).await?;
        Ok(())
    }

    /// `setReceiveMessageOpt` (0 receive, 1 receive nothing, 2 receive without offline push).
    pub async fn set_receive_message_opt(&self, group_id: String, opt: i32) -> Result<()> {
        check_group_id(&group_id)?;
        if !(0..=2).contains(&opt) {
            return Err(Error::invalid("the receive option must be 0, 1 or 2"));
        }
        let _: serde_json::Value = self.call(op::GROUP_RECV_OPT, RecvOptReq { group_id, opt }).await?;
        Ok(())
    }

    /// `getGroupMemberList`: up to 50 members after `next_seq` (0 = first page); the result's
    /// `next_seq` is 0 on the last page.
    pub async fn group_member_list(
        &self,
        group_id: String,
        filter: i32,
        next_seq: u64,
    ) -> Result<GroupMemberInfoResult> {
        check_group_id(&group_id)?;
        let res: MembersRes = self.call(op::GROUP_MEMBERS, MembersReq { group_id, filter, next_seq }).await?;
        Ok(res.into())
    }

    /// `getGroupMembersInfo`.
    pub async fn group_members_info(
        &self,
        group_id: String,
        user_ids: Vec<String>,
    ) -> Result<Vec<GroupMemberFullInfo>> {
        check_group_id(&group_id)?;
        check_users(&user_ids)?;
        let res: MembersInfoRes =
            self.call(op::GROUP_MEMBERS_INFO, GroupUsersReq { group_id, user_ids, reason: String::new() }).await?;
        Ok(res.members.into_iter().map(Into::into).collect())
    }

    /// `setGroupMemberInfo`: a member's name card and custom fields.
    pub async fn set_group_member_info(&self, change: GroupMemberChange) -> Result<()> {
        check_group_id(&change.group_id)?;
        if let Some(card) = &change.name_card {
            check_len(card, limits::NAME_CARD, code::SDK_GROUP_INVALID_NAME_CARD, "nameCard")?;
        }
        let _: serde_json::Value = self.call(op::GROUP_SET_MEMBER, SetMemberReq::from(change)).await?;
        Ok(())
    }

    /// `muteGroupMember`: for `seconds` (0 = unmute).
    pub async fn mute_group_member(&self, group_id: String, user_id: String, seconds: u32) -> Result<()> {
        check_group_id(&group_id)?;
        let _: serde_json::Value = self.call(op::GROUP_MUTE, MuteReq { group_id, user_id, seconds }).await?;
        Ok(())
    }

    /// `inviteUserToGroup` (Work groups).
    pub async fn invite_user_to_group(&self, group_id: String, user_ids: Vec<String>) -> Result<Vec<MemberOpResult>> {
        check_group_id(&group_id)?;
        check_users(&user_ids)?;
        let res: MemberOpRes =
            self.call(op::GROUP_INVITE, GroupUsersReq { group_id, user_ids, reason: String::new() }).await?;
        Ok(res.results.into_iter().map(Into::into).collect())
    }

    /// `kickGroupMember`.
    pub async fn kick_group_member(
        &self,
        group_id: String,
        user_ids: Vec<String>,
        reason: String,
    ) -> Result<Vec<MemberOpResult>> {
        check_group_id(&group_id)?;
        check_users(&user_ids)?;
        let res: MemberOpRes = self.call(op::GROUP_KICK, GroupUsersReq { group_id, user_ids, reason }).await?;
        Ok(res.results.into_iter().map(Into::into).collect())
    }

    /// `setGroupMemberRole`: administrator (300) or member (200).
    pub async fn set_group_member_role(&self, group_id: String, user_id: String, role: i32) -> Result<()> {
        check_group_id(&group_id)?;
        let _: serde_json::Value = self.call(op::GROUP_SET_ROLE, RoleReq { group_id, user_id, role }).await?;
        Ok(())
    }

    /// `transferGroupOwner`.
    pub async fn transfer_group_owner(&self, group_id: String, user_id: String) -> Result<()> {
        check_group_id(&group_id)?;
        let _: serde_json::Value = self.call(op::GROUP_TRANSFER, RoleReq { group_id, user_id, role: 0 }).await?;
        Ok(())
    }

    /// `getGroupApplicationList`.
    pub async fn group_application_list(&self) -> Result<GroupApplicationResult> {
        let res: ApplicationsRes = self.call(op::GROUP_APPLICATIONS, serde_json::json!({})).await?;
        Ok(res.into())
    }

    async fn handle_application(&self, application: GroupApplication, accept: bool, reason: String) -> Result<()> {
        if application.app_id.is_empty() {
            return Err(Error::invalid("the application has no id: pass one from getGroupApplicationList"));
        }
        let req = HandleApplicationReq { app_id: application.app_id, accept, reason };
        let _: serde_json::Value = self.call(op::GROUP_HANDLE_APPLICATION, req).await?;
        Ok(())
    }

    /// `acceptGroupApplication`.
    pub async fn accept_group_application(&self, application: GroupApplication, reason: String) -> Result<()> {
        self.handle_application(application, true, reason).await
    }

    /// `refuseGroupApplication`.
    pub async fn refuse_group_application(&self, application: GroupApplication, reason: String) -> Result<()> {
        self.handle_application(application, false, reason).await
    }

    /// `setGroupApplicationRead`.
    pub async fn set_group_application_read(&self) -> Result<()> {
        let _: serde_json::Value = self.call(op::GROUP_APPLICATIONS_READ, serde_json::json!({})).await?;
        Ok(())
    }

    /// `getGroupOnlineMemberCount`.
    pub async fn group_online_member_count(&self, group_id: String) -> Result<u32> {
        check_group_id(&group_id)?;
        let res: OnlineCountRes = self.call(op::GROUP_ONLINE_COUNT, GroupReq { group_id }).await?;
        Ok(res.count)
    }

    /// `getGroupAttributes`: the given keys, or all (`None`). At most 20 reads per 5 s.
    pub async fn group_attributes(
        &self,
        group_id: String,
        keys: Option<Vec<String>>,
    ) -> Result<BTreeMap<String, String>> {
        check_group_id(&group_id)?;
        let session = self.sessions.session()?;
        GroupState::admit(&groups(&session).attr_reads, ATTR_READS_PER_WINDOW, "reads")?;
        runtime::run(async move {
            let attrs: GroupAttrs = request(&session, op::GROUP_ATTRS_GET, &GetAttrsReq { group_id, keys }).await?;
            groups(&session).saw_attrs(&attrs.group_id, attrs.version);
            Ok(attrs.attrs)
        })
        .await
    }

    /// `initGroupAttributes`: replaces all attributes with `attrs`.
    pub async fn init_group_attributes(&self, group_id: String, attrs: BTreeMap<String, String>) -> Result<()> {
        self.write_attrs(group_id, AttrWriteMode::Init, attrs, None).await
    }

    /// `setGroupAttributes`: adds or updates keys.
    pub async fn set_group_attributes(&self, group_id: String, attrs: BTreeMap<String, String>) -> Result<()> {
        if attrs.is_empty() {
            return Err(Error::invalid("no attributes to set"));
        }
        self.write_attrs(group_id, AttrWriteMode::Set, attrs, None).await
    }

    /// `deleteGroupAttributes`: the given keys, or all (`None`).
    pub async fn delete_group_attributes(&self, group_id: String, keys: Option<Vec<String>>) -> Result<()> {
        self.write_attrs(group_id, AttrWriteMode::Delete, BTreeMap::new(), keys).await
    }

    async fn write_attrs(
        &self,
        group_id: String,
        mode: AttrWriteMode,
        attrs: BTreeMap<String, String>,
        keys: Option<Vec<String>>,
    ) -> Result<()> {
        check_group_id(&group_id)?;
        check_attr_sizes(&attrs)?;
        let session = self.sessions.session()?;
        GroupState::admit(&groups(&session).attr_writes, ATTR_WRITES_PER_WINDOW, "writes")?;
        runtime::run(async move {
            let base_version = match groups(&session).attr_version(&group_id) {
                Some(v) => v,
                None => {
                    // No view yet: read one (this does not count as an app read).
                    let req = GetAttrsReq { group_id: group_id.clone(), keys: Some(Vec::new()) };
                    let current: GroupAttrs = request(&session, op::GROUP_ATTRS_GET, &req).await?;
                    groups(&session).saw_attrs(&group_id, current.version);
                    current.version
                }
            };
            let req = WriteAttrsReq { group_id, mode, attrs, keys, base_version };
            let after: GroupAttrs = request(&session, op::GROUP_ATTRS_WRITE, &req).await?;
            groups(&session).saw_attrs(&after.group_id, after.version);
            Ok(())
        })
        .await
    }
}

/// The attribute limits a write can break on its own (the server checks the merged result).
fn check_attr_sizes(attrs: &BTreeMap<String, String>) -> Result<()> {
    if attrs.len() > limits::ATTR_KEYS {
        return Err(Error::invalid(format!("at most {} group attributes", limits::ATTR_KEYS)));
    }
    let mut total = 0;
    for (k, v) in attrs {
        if k.is_empty() {
            return Err(Error::invalid("an attribute key is empty"));
        }
        let size = k.len() + v.len();
        if size > limits::ATTR_BYTES {
            return Err(Error::invalid(format!("attribute {k:?} is {size} bytes; at most {}", limits::ATTR_BYTES)));
        }
        total += size;
    }
    if total > limits::ATTR_TOTAL_BYTES {
        return Err(Error::invalid(format!("attributes are {total} bytes; at most {}", limits::ATTR_TOTAL_BYTES)));
    }
    Ok(())
}

/// Joins the AVChatRooms the session was in again (after a reconnect: rooms forget users who
/// went offline).
async fn rejoin_rooms(session: &Arc<Session>) {
    for group_id in groups(session).rooms() {
        let req = JoinGroupReq { group_id: group_id.clone(), message: String::new() };
        match request::<_, JoinGroupRes>(session, op::GROUP_JOIN, &req).await {
            Ok(_) => {}
            // The room is gone (dismissed while we were away): forget it.
            Err(e) if e.code == code::SVR_GROUP_NOT_FOUND => groups(session).set_room(&group_id, false),
            Err(e) => tracing::info!("joining room {group_id} again failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_snapshots_newer_than_the_last_passed_on_go_to_the_app() {
        let state = GroupState::default();
        assert!(state.newer_push("g", 3));
        assert!(!state.newer_push("g", 2), "an older snapshot arriving late");
        assert!(!state.newer_push("g", 3), "the same snapshot twice");
        assert!(state.newer_push("g", 5));
        assert!(state.newer_push("h", 1), "each group on its own");
        // A group made again under the same id starts its versions over.
        state.forget_attrs("g");
        assert!(state.newer_push("g", 1));
    }
}
