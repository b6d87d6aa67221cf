//! The relationship chain (`V2TIMFriendshipManager`'s records): friends, applications, results,
//! friend groups, and what `V2TIMFriendshipListener` is told. They convert from the protocol's
//! records here; those records are never public API.

use std::collections::BTreeMap;

use oxim_proto::friendship as wire;

pub use oxim_proto::friendship::{accept_type, application_type, friend_type, relation};

use crate::model::profile::UserFullInfo;

/// `V2TIMFriendInfo`: a friend as the logged-in user's list has them (blacklist entries carry
/// only `user_id` and `user_full_info`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendInfo {
    /// The friend.
    pub user_id: String,
    /// My remark for them.
    pub friend_remark: String,
    /// My friend groups they are in.
    pub friend_groups: Vec<String>,
    /// My custom fields for them (keys without `Tag_SNS_Custom_`).
    pub friend_custom_info: BTreeMap<String, String>,
    /// Their profile.
    pub user_full_info: UserFullInfo,
}

impl From<wire::FriendEntry> for FriendInfo {
    fn from(e: wire::FriendEntry) -> Self {
        FriendInfo {
            user_id: e.user_id,
            friend_remark: e.remark,
            friend_groups: e.groups,
            friend_custom_info: e.custom_info,
            user_full_info: e.profile.into(),
        }
    }
}

/// `setFriendInfo`: what to change in a friend's entry (`None` leaves it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendInfoChange {
    /// The friend.
    pub user_id: String,
    /// New remark (at most 96 bytes).
    pub friend_remark: Option<String>,
    /// Custom fields to set (an empty value removes one).
    pub friend_custom_info: Option<BTreeMap<String, String>>,
}

impl From<FriendInfoChange> for wire::SetFriendInfoReq {
    fn from(c: FriendInfoChange) -> Self {
        wire::SetFriendInfoReq { user_id: c.user_id, remark: c.friend_remark, custom_info: c.friend_custom_info }
    }
}

/// `V2TIMFriendInfoResult`: one user of `getFriendsInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendInfoResult {
    /// 0, or 30003 for a user who does not exist.
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
    /// [`relation`].
    pub relation: i32,
    /// The entry (for a non-friend only `user_id` and the profile).
    pub friend_info: FriendInfo,
}

impl From<wire::FriendInfoResult> for FriendInfoResult {
    fn from(r: wire::FriendInfoResult) -> Self {
        FriendInfoResult {
            result_code: r.code,
            result_info: r.info,
            relation: r.relation,
            friend_info: r.friend.into(),
        }
    }
}

/// `V2TIMFriendAddApplication`: what `addFriend` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendAddApplication {
    /// Whom to add.
    pub user_id: String,
    /// Remark for them (at most 96 bytes).
    pub friend_remark: String,
    /// A friend group to put them in.
    pub friend_group: String,
    /// Wording (at most 120 bytes).
    pub add_wording: String,
    /// Source: `AddSource_Type_` and at most 8 bytes.
    pub add_source: String,
    /// [`friend_type`] (BOTH by default, as V2TIM).
    pub add_type: i32,
}

impl FriendAddApplication {
    /// An application to add `user_id` both ways, nothing else set.
    pub fn new(user_id: impl Into<String>) -> Self {
        FriendAddApplication {
            user_id: user_id.into(),
            friend_remark: String::new(),
            friend_group: String::new(),
            add_wording: String::new(),
            add_source: String::new(),
            add_type: friend_type::BOTH,
        }
    }
}

impl From<FriendAddApplication> for wire::AddFriendReq {
    fn from(a: FriendAddApplication) -> Self {
        wire::AddFriendReq {
            user_id: a.user_id,
            remark: a.friend_remark,
            group: a.friend_group,
            wording: a.add_wording,
            source: a.add_source,
            add_type: a.add_type,
        }
    }
}

/// `V2TIMFriendApplication`: a pending application, seen from this user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendApplication {
    /// The other user.
    pub user_id: String,
    /// Their nickname.
    pub nick_name: String,
    /// Their avatar.
    pub face_url: String,
    /// When it was made, Unix seconds.
    pub add_time: i64,
    /// Its source.
    pub add_source: String,
    /// Its wording.
    pub add_wording: String,
    /// [`application_type`]: COME_IN (to me) or SEND_OUT (from me).
    pub app_type: i32,
}

impl From<wire::FriendApplication> for FriendApplication {
    fn from(a: wire::FriendApplication) -> Self {
        FriendApplication {
            user_id: a.user_id,
            nick_name: a.nick_name,
            face_url: a.face_url,
            add_time: a.add_time,
            add_source: a.add_source,
            add_wording: a.add_wording,
            app_type: a.app_type,
        }
    }
}

/// `V2TIMFriendApplicationResult`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendApplicationResult {
    /// Applications to me not yet marked read.
    pub unread_count: u32,
    /// Both directions, newest first.
    pub application_list: Vec<FriendApplication>,
}

/// `V2TIMFriendOperationResult`: one user's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendOperationResult {
    /// The user.
    pub user_id: String,
    /// 0, or the code of what happened (30539: waiting for confirmation).
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
}

impl From<wire::OpResult> for FriendOperationResult {
    fn from(r: wire::OpResult) -> Self {
        FriendOperationResult { user_id: r.user_id, result_code: r.code, result_info: r.info }
    }
}

/// `V2TIMFriendCheckResult`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendCheckResult {
    /// The user.
    pub user_id: String,
    /// 0.
    pub result_code: i32,
    /// What the code means.
    pub result_info: String,
    /// [`relation`].
    pub result_type: i32,
}

impl From<wire::CheckResult> for FriendCheckResult {
    fn from(r: wire::CheckResult) -> Self {
        FriendCheckResult {
            user_id: r.user_id,
            result_code: r.code,
            result_info: String::new(),
            result_type: r.relation,
        }
    }
}

/// `V2TIMFriendGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendGroup {
    /// Its name.
    pub name: String,
    /// How many friends it holds.
    pub friend_count: u64,
    /// Their user ids.
    pub friend_list: Vec<String>,
}

impl From<wire::FriendGroup> for FriendGroup {
    fn from(g: wire::FriendGroup) -> Self {
        FriendGroup { name: g.name, friend_count: g.members.len() as u64, friend_list: g.members }
    }
}

/// What `V2TIMFriendshipListener` is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FriendshipEvent {
    /// `onFriendApplicationListAdded`.
    ApplicationsAdded(Vec<FriendApplication>),
    /// `onFriendApplicationListDeleted`.
    ApplicationsDeleted(Vec<String>),
    /// `onFriendApplicationListRead`.
    ApplicationsRead,
    /// `onFriendListAdded`.
    FriendsAdded(Vec<FriendInfo>),
    /// `onFriendListDeleted`.
    FriendsDeleted(Vec<String>),
    /// `onBlackListAdd`.
    BlackAdded(Vec<FriendInfo>),
    /// `onBlackListDeleted`.
    BlackDeleted(Vec<String>),
    /// `onFriendInfoChanged`.
    FriendsChanged(Vec<FriendInfo>),
}

impl FriendshipEvent {
    /// The callback a user event makes, if it is a relationship event.
    pub fn from_user_event(event: &oxim_proto::message::UserEvent) -> Option<FriendshipEvent> {
        use oxim_proto::message::UserEvent as U;
        let infos = |v: &Vec<wire::FriendEntry>| v.iter().cloned().map(FriendInfo::from).collect();
        Some(match event {
            U::FriendsAdded { friends } => FriendshipEvent::FriendsAdded(infos(friends)),
            U::FriendsDeleted { user_ids } => FriendshipEvent::FriendsDeleted(user_ids.clone()),
            U::FriendsChanged { friends } => FriendshipEvent::FriendsChanged(infos(friends)),
            U::FriendAppsAdded { apps } => {
                FriendshipEvent::ApplicationsAdded(apps.iter().cloned().map(FriendApplication::from).collect())
            }
            U::FriendAppsDeleted { user_ids } => FriendshipEvent::ApplicationsDeleted(user_ids.clone()),
            U::FriendAppsRead => FriendshipEvent::ApplicationsRead,
            U::BlackAdded { friends } => FriendshipEvent::BlackAdded(infos(friends)),
            U::BlackDeleted { user_ids } => FriendshipEvent::BlackDeleted(user_ids.clone()),
            _ => return None,
        })
    }
}
