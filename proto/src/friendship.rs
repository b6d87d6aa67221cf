//! The relationship chain on the wire (V2TIM's `V2TIMFriendshipManager`): friends, friend
//! applications, the blacklist and friend groups; the bodies of the `friend.*`, `black.*` and
//! `fgroup.*` operations, V2TIM's constants, and the checks shared by the SDK (90xx codes, as
//! V2TIM's SDK checks) and the server (30001). Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::code;
use crate::ids::is_valid_user_id;
use crate::profile::Profile;

/// `V2TIM_FRIEND_TYPE_SINGLE` / `_BOTH`: add and delete types.
pub mod friend_type {
    /// One way: only the caller's list changes.
    pub const SINGLE: i32 = 1;
    /// Both ways.
    pub const BOTH: i32 = 2;
}

/// `V2TIM_FRIEND_ACCEPT_AGREE` / `_AGREE_AND_ADD`.
pub mod accept_type {
    /// The applicant gets the accepter as a friend; not the other way round.
    pub const AGREE: i32 = 0;
    /// Both become each other's friends.
    pub const AGREE_AND_ADD: i32 = 1;
}

/// `V2TIMFriendApplication` types.
pub mod application_type {
    /// Someone asked me.
    pub const COME_IN: i32 = 1;
    /// I asked someone.
    pub const SEND_OUT: i32 = 2;
    /// Both (for fetching and deleting only).
    pub const BOTH: i32 = 3;
}

/// `V2TIM_FRIEND_RELATION_TYPE_*`.
pub mod relation {
    /// Neither list has the other.
    pub const NONE: i32 = 0;
    /// The peer is in my list only.
    pub const IN_MY_FRIEND_LIST: i32 = 1;
    /// I am in the peer's list only.
    pub const IN_OTHER_FRIEND_LIST: i32 = 2;
    /// Both lists.
    pub const BOTH_WAY: i32 = 3;
}

/// Longest friend remark, in bytes (9002 in the SDK).
pub const MAX_REMARK_BYTES: usize = 96;
/// Longest add wording, in bytes (9003).
pub const MAX_WORDING_BYTES: usize = 120;
/// The prefix every add source carries.
pub const ADD_SOURCE_PREFIX: &str = "AddSource_Type_";
/// Longest add source after the prefix, in bytes (9004).
pub const MAX_ADD_SOURCE_BYTES: usize = 8;
/// Longest friend group name, in bytes (9005; empty is refused too).
pub const MAX_GROUP_NAME_BYTES: usize = 30;
/// Most friend groups a user may have (30011).
pub const MAX_FRIEND_GROUPS: usize = 32;
/// Most users one call may name (9006 in the SDK).
pub const MAX_USERS_PER_CALL: usize = 100;

/// A friend as the owner of the list sees them (`V2TIMFriendInfo`); blacklist entries use it
/// too (only `user_id` and `profile` filled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendEntry {
    /// The friend.
    pub user_id: String,
    /// The owner's remark for the friend.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remark: String,
    /// The owner's friend groups the friend is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The owner's custom fields for the friend (keys without `Tag_SNS_Custom_`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_info: BTreeMap<String, String>,
    /// How the friendship came about (`AddSource_Type_...`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub add_source: String,
    /// The wording of the request that made it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub add_wording: String,
    /// When it was made, Unix seconds.
    #[serde(default)]
    pub add_time: i64,
    /// The friend's profile.
    pub profile: Profile,
}

impl FriendEntry {
    /// An entry with nothing but the user's profile.
    pub fn of(profile: Profile) -> FriendEntry {
        FriendEntry {
            user_id: profile.user_id.clone(),
            remark: String::new(),
            groups: Vec::new(),
            custom_info: BTreeMap::new(),
            add_source: String::new(),
            add_wording: String::new(),
            add_time: 0,
            profile,
        }
    }
}

/// A pending friend application (`V2TIMFriendApplication`), seen from one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendApplication {
    /// The other user (the applicant for COME_IN, the one asked for SEND_OUT).
    pub user_id: String,
    /// Their nickname.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nick_name: String,
    /// Their avatar.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub face_url: String,
    /// When it was made, Unix seconds.
    pub add_time: i64,
    /// Its source.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub add_source: String,
    /// Its wording.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub add_wording: String,
    /// [`application_type`] COME_IN or SEND_OUT.
    #[serde(rename = "type")]
    pub app_type: i32,
}

/// One user's outcome in a call about several (`V2TIMFriendOperationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// The user.
    pub user_id: String,
    /// 0, or the V2TIM code of what happened (30539: pending confirmation).
    pub code: i32,
    /// What the code means.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub info: String,
}

impl OpResult {
    /// A result for `user_id`.
    pub fn new(user_id: impl Into<String>, code: i32, info: impl Into<String>) -> OpResult {
        OpResult { user_id: user_id.into(), code, info: info.into() }
    }
}

/// `friend.list` and `black.list` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendsRes {
    /// The entries, by user id.
    pub friends: Vec<FriendEntry>,
}

/// A request naming users: `friend.info`, `black.add`, `black.delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersReq {
    /// 1 to [`MAX_USERS_PER_CALL`] users.
    pub user_ids: Vec<String>,
}

/// One user of `friend.info` (`V2TIMFriendInfoResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendInfoResult {
    /// 0, or 30003 for a user who does not exist.
    pub code: i32,
    /// What the code means.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub info: String,
    /// [`relation`].
    pub relation: i32,
    /// The entry (for a non-friend only the profile is filled).
    pub friend: FriendEntry,
}

/// `friend.info` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendInfoRes {
    /// In request order.
    pub results: Vec<FriendInfoResult>,
}

/// `friend.set_info` request (`setFriendInfo`): what is set changes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SetFriendInfoReq {
    /// The friend.
    pub user_id: String,
    /// New remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Custom fields to set (an empty value removes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_info: Option<BTreeMap<String, String>>,
}

/// `friend.add` request (`V2TIMFriendAddApplication`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AddFriendReq {
    /// Whom to add.
    pub user_id: String,
    /// Remark for them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remark: String,
    /// A friend group to put them in (created if needed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Wording.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wording: String,
    /// Source (`AddSource_Type_` + at most 8 bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// [`friend_type`].
    pub add_type: i32,
}

/// `friend.delete` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteFriendsReq {
    /// 1 to 100 users.
    pub user_ids: Vec<String>,
    /// [`friend_type`].
    pub delete_type: i32,
}

/// `friend.check` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFriendsReq {
    /// 1 to 100 users.
    pub user_ids: Vec<String>,
    /// [`friend_type`]: SINGLE asks only whether they are in my list.
    pub check_type: i32,
}

/// One user of `friend.check` (`V2TIMFriendCheckResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The user.
    pub user_id: String,
    /// 0.
    pub code: i32,
    /// [`relation`].
    pub relation: i32,
}

/// `friend.check` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRes {
    /// In request order.
    pub results: Vec<CheckResult>,
}

/// Response of calls with one result per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResultsRes {
    /// In request order.
    pub results: Vec<OpResult>,
}

/// `friend.apps` response (`V2TIMFriendApplicationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationsRes {
    /// Applications to me the user has not marked read.
    pub unread: u32,
    /// Both directions, newest first.
    pub apps: Vec<FriendApplication>,
}

/// `friend.app.accept`, `friend.app.refuse` and `friend.app.delete` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplicationReq {
    /// The other user of the application.
    pub user_id: String,
    /// Accept: [`accept_type`]. Delete: the [`application_type`] of the application.
    #[serde(default)]
    pub kind: i32,
}

/// `fgroup.create`, `fgroup.add` and `fgroup.remove` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendGroupReq {
    /// The group.
    pub name: String,
    /// Friends to put in or take out (0 to 100).
    #[serde(default)]
    pub user_ids: Vec<String>,
}

/// `fgroup.get` and `fgroup.delete` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendGroupsReq {
    /// The groups (get: empty = all).
    #[serde(default)]
    pub names: Vec<String>,
}

/// `fgroup.rename` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameFriendGroupReq {
    /// The group.
    pub old_name: String,
    /// Its new name.
    pub new_name: String,
}

/// A friend group (`V2TIMFriendGroup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendGroup {
    /// Its name.
    pub name: String,
    /// Its friends, by user id.
    pub members: Vec<String>,
}

/// `fgroup.get` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendGroupsRes {
    /// By name.
    pub groups: Vec<FriendGroup>,
}

/// Why the SDK (or the server) refuses a friendship request before looking at any relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No users, a malformed user id, or a value out of range.
    Invalid(String),
    /// More than [`MAX_USERS_PER_CALL`] users.
    TooManyUsers(usize),
    /// A remark over 96 bytes.
    Remark(usize),
    /// A wording over 120 bytes.
    Wording(usize),
    /// A source without the prefix or too long after it.
    Source(String),
    /// A group name empty or over 30 bytes.
    GroupName(String),
    /// A custom field that is not 1-8 letters / 500 bytes.
    Custom(String),
}

impl Problem {
    /// The code the SDK reports (V2TIM's 90xx).
    pub fn sdk_code(&self) -> i32 {
        match self {
            Problem::Invalid(_) => code::INVALID_PARAMETERS,
            Problem::TooManyUsers(_) => code::SDK_FRIENDSHIP_EXCEED_THE_LIMIT,
            Problem::Remark(_) => code::SDK_FRIENDSHIP_INVALID_ADD_REMARK,
            Problem::Wording(_) => code::SDK_FRIENDSHIP_INVALID_ADD_WORDING,
            Problem::Source(_) => code::SDK_FRIENDSHIP_INVALID_ADD_SOURCE,
            Problem::GroupName(_) => code::SDK_FRIENDSHIP_FRIEND_GROUP_EMPTY,
            Problem::Custom(_) => code::SDK_FRIENDSHIP_INVALID_PROFILE_KEY,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Invalid(why) => write!(f, "{why}"),
            Problem::TooManyUsers(n) => write!(f, "{n} users; at most {MAX_USERS_PER_CALL} per call"),
            Problem::Remark(n) => write!(f, "the remark is {n} bytes; at most {MAX_REMARK_BYTES}"),
            Problem::Wording(n) => write!(f, "the add wording is {n} bytes; at most {MAX_WORDING_BYTES}"),
            Problem::Source(s) => {
                write!(f, "add source {s:?} must be {ADD_SOURCE_PREFIX} and 1-{MAX_ADD_SOURCE_BYTES} bytes")
            }
            Problem::GroupName(n) => write!(f, "friend group name {n:?} must be 1-{MAX_GROUP_NAME_BYTES} bytes"),
            Problem::Custom(why) => write!(f, "{why}"),
        }
    }
}

/// Checks a list of users: 1 to 100 valid ids.
pub fn check_users(user_ids: &[String]) -> Result<(), Problem> {
    if user_ids.is_empty() {
        return Err(Problem::Invalid("the userID list is empty".into()));
    }
    check_some_users(user_ids)
}

/// Checks a list of users that may be empty: at most 100 valid ids.
pub fn check_some_users(user_ids: &[String]) -> Result<(), Problem> {
    if user_ids.len() > MAX_USERS_PER_CALL {
        return Err(Problem::TooManyUsers(user_ids.len()));
    }
    if let Some(bad) = user_ids.iter().find(|u| !is_valid_user_id(u)) {
        return Err(Problem::Invalid(format!("{bad:?} is not a valid userID")));
    }
    Ok(())
}

/// Checks a remark.
pub fn check_remark(remark: &str) -> Result<(), Problem> {
    if remark.len() > MAX_REMARK_BYTES {
        return Err(Problem::Remark(remark.len()));
    }
    Ok(())
}

/// Checks a friend group name.
pub fn check_group_name(name: &str) -> Result<(), Problem> {
    if name.is_empty() || name.len() > MAX_GROUP_NAME_BYTES {
        return Err(Problem::GroupName(name.to_owned()));
    }
    Ok(())
}

/// Checks an add request: the user, the type, remark, wording, source, group.
pub fn check_add(req: &AddFriendReq) -> Result<(), Problem> {
    if !is_valid_user_id(&req.user_id) {
        return Err(Problem::Invalid(format!("{:?} is not a valid userID", req.user_id)));
    }
    check_type(req.add_type, "addType")?;
    check_remark(&req.remark)?;
    if req.wording.len() > MAX_WORDING_BYTES {
        return Err(Problem::Wording(req.wording.len()));
    }
    if !req.source.is_empty() {
        let rest = req.source.strip_prefix(ADD_SOURCE_PREFIX);
        if !rest.is_some_and(|r| !r.is_empty() && r.len() <= MAX_ADD_SOURCE_BYTES) {
            return Err(Problem::Source(req.source.clone()));
        }
    }
    if !req.group.is_empty() {
        check_group_name(&req.group)?;
    }
    Ok(())
}

/// Checks a SINGLE/BOTH type.
pub fn check_type(t: i32, what: &str) -> Result<(), Problem> {
    if t != friend_type::SINGLE && t != friend_type::BOTH {
        return Err(Problem::Invalid(format!("{what} {t} is neither SINGLE (1) nor BOTH (2)")));
    }
    Ok(())
}

/// Checks a `setFriendInfo`: the user, the remark, the custom fields.
pub fn check_set_info(req: &SetFriendInfoReq) -> Result<(), Problem> {
    if !is_valid_user_id(&req.user_id) {
        return Err(Problem::Invalid(format!("{:?} is not a valid userID", req.user_id)));
    }
    if req.remark.is_none() && req.custom_info.is_none() {
        return Err(Problem::Invalid("setFriendInfo sets nothing".into()));
    }
    if let Some(r) = &req.remark {
        check_remark(r)?;
    }
    if let Some(c) = &req.custom_info {
        crate::profile::check_custom(c).map_err(|p| Problem::Custom(p.to_string()))?;
        crate::profile::check_custom_count(c.len()).map_err(|p| Problem::Custom(p.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_at_their_boundaries() {
        let add = |remark: &str, wording: &str, source: &str, group: &str| AddFriendReq {
            user_id: "bob".into(),
            remark: remark.into(),
            group: group.into(),
            wording: wording.into(),
            source: source.into(),
            add_type: friend_type::BOTH,
        };
        let r96 = "r".repeat(96);
        let w120 = "w".repeat(120);
        let g30 = "g".repeat(30);
        assert_eq!(check_add(&add(&r96, &w120, "AddSource_Type_abcdefgh", &g30)), Ok(()));
        assert_eq!(check_add(&add(&"r".repeat(97), "", "", "")).unwrap_err().sdk_code(), 9002);
        assert_eq!(check_add(&add("", &"w".repeat(121), "", "")).unwrap_err().sdk_code(), 9003);
        for bad in ["AddSource_Type_abcdefghi", "AddSource_Type_", "Android"] {
            assert_eq!(check_add(&add("", "", bad, "")).unwrap_err().sdk_code(), 9004, "{bad}");
        }
        assert_eq!(check_add(&add("", "", "", &"g".repeat(31))).unwrap_err().sdk_code(), 9005);
        assert_eq!(check_group_name("").unwrap_err().sdk_code(), 9005);
        let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
        assert_eq!(check_users(&ids(100)), Ok(()));
        assert_eq!(check_users(&ids(101)).unwrap_err().sdk_code(), 9006);
        assert_eq!(check_users(&[]).unwrap_err().sdk_code(), 6017);
        let mut bad_type = add("", "", "", "");
        bad_type.add_type = 3;
        assert_eq!(check_add(&bad_type).unwrap_err().sdk_code(), 6017);
    }
}
