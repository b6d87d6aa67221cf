//! Groups on the wire: group and member records, group tips, limits, and the bodies of the
//! `group.*` operations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Group types (V2TIM's strings).
pub mod group_type {
    /// Friends' work group: invite only, any member edits the profile.
    pub const WORK: &str = "Work";
    /// Public group: apply and be approved (per `add_opt`), owner and admins manage.
    pub const PUBLIC: &str = "Public";
    /// Meeting group: free join, history from before joining is visible.
    pub const MEETING: &str = "Meeting";
    /// Live-stream group: free join, unlimited members, online-only messages.
    pub const AVCHATROOM: &str = "AVChatRoom";

    /// Whether `t` is one of the four types.
    pub fn is_valid(t: &str) -> bool {
        matches!(t, WORK | PUBLIC | MEETING | AVCHATROOM)
    }
}

/// Member roles (`V2TIMGroupMemberRole`).
pub mod role {
    /// Not set.
    pub const UNDEFINED: i32 = 0;
    /// Ordinary member.
    pub const MEMBER: i32 = 200;
    /// Administrator.
    pub const ADMIN: i32 = 300;
    /// Owner.
    pub const OWNER: i32 = 400;
}

/// Member-list filters (`V2TIMGroupMemberFilter`, a bit mask; 0 = all).
pub mod member_filter {
    /// Everyone.
    pub const ALL: i32 = 0x00;
    /// The owner.
    pub const OWNER: i32 = 0x01;
    /// Administrators.
    pub const ADMIN: i32 = 0x02;
    /// Ordinary members.
    pub const COMMON: i32 = 0x04;
}

/// How users may join a Public group (`V2TIMGroupAddOpt`).
pub mod add_opt {
    /// Nobody may join.
    pub const FORBID: i32 = 0;
    /// Owner or admin approval (the default).
    pub const AUTH: i32 = 1;
    /// Anyone may join at once.
    pub const ANY: i32 = 2;
}

/// A member's receive option (`V2TIMGroupReceiveMessageOpt`).
pub mod recv_opt {
    /// Receive online, push offline.
    pub const RECEIVE: i32 = 0;
    /// Receive nothing; the conversation list is not touched.
    pub const NOT_RECEIVE: i32 = 1;
    /// Receive online, no offline push.
    pub const RECEIVE_NOT_NOTIFY: i32 = 2;
}

/// Group tip types (`V2TIMGroupTipsType`).
pub mod tip_type {
    /// Users joined.
    pub const JOIN: i32 = 1;
    /// Users were invited (pulled in).
    pub const INVITE: i32 = 2;
    /// A user quit.
    pub const QUIT: i32 = 3;
    /// Users were kicked.
    pub const KICKED: i32 = 4;
    /// Users became administrators.
    pub const SET_ADMIN: i32 = 5;
    /// Users stopped being administrators.
    pub const CANCEL_ADMIN: i32 = 6;
    /// The group profile changed.
    pub const GROUP_INFO_CHANGE: i32 = 7;
    /// Members' info (mute) changed.
    pub const MEMBER_INFO_CHANGE: i32 = 8;
}

/// Group profile change types (`V2TIMGroupInfoChangeType`).
pub mod info_change {
    /// Name.
    pub const NAME: i32 = 1;
    /// Introduction.
    pub const INTRODUCTION: i32 = 2;
    /// Notification.
    pub const NOTIFICATION: i32 = 3;
    /// Avatar URL.
    pub const FACE: i32 = 4;
    /// Owner (value: the new owner).
    pub const OWNER: i32 = 5;
    /// A custom field (key: the field).
    pub const CUSTOM: i32 = 6;
    /// Whole-group mute (value "1"/"0"; later V2TIM SDKs use the same value).
    pub const SHUT_UP_ALL: i32 = 8;
    /// Join option (value: the number; later V2TIM SDKs use the same value).
    pub const ADD_OPT: i32 = 11;
}

/// Limits (V2TIM's).
pub mod limits {
    /// Group id, bytes.
    pub const GROUP_ID: usize = 48;
    /// Name, bytes.
    pub const NAME: usize = 30;
    /// Introduction, bytes.
    pub const INTRODUCTION: usize = 240;
    /// Notification, bytes.
    pub const NOTIFICATION: usize = 300;
    /// Avatar URL, bytes.
    pub const FACE_URL: usize = 100;
    /// Name card, bytes.
    pub const NAME_CARD: usize = 50;
    /// Custom field key, bytes.
    pub const CUSTOM_KEY: usize = 16;
    /// Custom field value, bytes.
    pub const CUSTOM_VALUE: usize = 512;
    /// Initial members of `createGroup`.
    pub const CREATE_MEMBERS: usize = 500;
    /// Members of one page of `getGroupMemberList`.
    pub const MEMBER_PAGE: u32 = 50;
    /// Users per invite / kick / members-info call.
    pub const BATCH_USERS: usize = 300;
    /// Groups per `getGroupsInfo`.
    pub const INFO_BATCH: usize = 50;
    /// Group attributes per group.
    pub const ATTR_KEYS: usize = 16;
    /// One attribute (key + value), bytes.
    pub const ATTR_BYTES: usize = 4 * 1024;
    /// All attributes of a group (keys + values), bytes.
    pub const ATTR_TOTAL_BYTES: usize = 16 * 1024;
    /// Prefix reserved for ids the server assigns.
    pub const AUTO_ID_PREFIX: &str = "@TGS#";
}

/// Whether `id` is an acceptable group id: 1–48 bytes of printable ASCII (space included).
pub fn is_valid_group_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= limits::GROUP_ID && id.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// One profile change (`V2TIMGroupChangeInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChange {
    /// [`info_change`] value.
    #[serde(rename = "type")]
    pub kind: i32,
    /// The new value.
    pub value: String,
    /// The custom field, for [`info_change::CUSTOM`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
}

/// One member change (`V2TIMGroupMemberChangeInfo`): the member's mute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberChange {
    /// The member.
    pub user_id: String,
    /// Seconds of mute from now (0 = unmuted).
    pub mute_time: i64,
}

/// The content of a group tip (`V2TIMGroupTipsElem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTips {
    /// [`tip_type`].
    pub tip_type: i32,
    /// Who did it.
    pub op_user: String,
    /// Whom it concerns.
    #[serde(default)]
    pub member_list: Vec<String>,
    /// Profile changes ([`tip_type::GROUP_INFO_CHANGE`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_changes: Vec<GroupChange>,
    /// Member changes ([`tip_type::MEMBER_INFO_CHANGE`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_changes: Vec<MemberChange>,
    /// Members after the change.
    #[serde(default)]
    pub member_count: u32,
}

impl GroupTips {
    /// A tip about members (join, quit, invite, kick, role changes): no profile or member-field
    /// changes; the member count is filled in when the tip is stored.
    pub fn members(tip_type: i32, op_user: &str, member_list: Vec<String>) -> GroupTips {
        GroupTips {
            tip_type,
            op_user: op_user.to_owned(),
            member_list,
            group_changes: Vec::new(),
            member_changes: Vec::new(),
            member_count: 0,
        }
    }
}

/// A group's profile, plus the requesting user's own standing in it (`V2TIMGroupInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// Id.
    pub group_id: String,
    /// [`group_type`].
    pub group_type: String,
    /// Name.
    pub name: String,
    /// Introduction.
    pub introduction: String,
    /// Notification.
    pub notification: String,
    /// Avatar URL.
    pub face_url: String,
    /// Owner ("" when a Work owner quit).
    pub owner: String,
    /// [`add_opt`].
    pub add_opt: i32,
    /// Whole-group mute.
    pub all_muted: bool,
    /// Group custom fields.
    pub custom_info: BTreeMap<String, String>,
    /// Members now.
    pub member_count: u32,
    /// Largest allowed (0 = unlimited).
    pub member_max_count: u32,
    /// Unix seconds.
    pub create_time: i64,
    /// Unix seconds of the last profile change.
    pub last_info_time: i64,
    /// The requesting user's role (0 if not a member).
    pub role: i32,
    /// The requesting user's receive option.
    pub recv_opt: i32,
    /// When the requesting user joined, Unix seconds.
    pub join_time: i64,
}

/// A member (`V2TIMGroupMemberFullInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// User.
    pub user_id: String,
    /// Name card in this group.
    pub name_card: String,
    /// [`role`].
    pub role: i32,
    /// Unix seconds.
    pub join_time: i64,
    /// Muted until, Unix seconds (0 = not muted).
    pub mute_until: i64,
    /// Member custom fields.
    pub custom_info: BTreeMap<String, String>,
}

/// A join application or invitation (`V2TIMGroupApplication`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupApplication {
    /// Id (Oxim's; apps pass the record back).
    pub app_id: String,
    /// Group.
    pub group_id: String,
    /// Applicant.
    pub from_user: String,
    /// Empty for join applications.
    pub to_user: String,
    /// Unix seconds.
    pub add_time: i64,
    /// The applicant's message.
    pub request_msg: String,
    /// The handler's message.
    pub handled_msg: String,
    /// 0 join, 1 invite.
    pub app_type: i32,
    /// 0 unhandled, 1 handled by another, 2 handled by me.
    pub handle_status: i32,
    /// 0 refused, 1 agreed.
    pub handle_result: i32,
}

/// A user to add at creation (`V2TIMCreateGroupMemberInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateMember {
    /// User.
    pub user_id: String,
    /// [`role`] (0 / MEMBER, or ADMIN where the type has admins).
    #[serde(default)]
    pub role: i32,
}

/// `group.create` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupReq {
    /// Type.
    pub group_type: String,
    /// Wanted id; empty = assigned.
    #[serde(default)]
    pub group_id: String,
    /// Name.
    pub name: String,
    /// Introduction.
    #[serde(default)]
    pub introduction: String,
    /// Notification.
    #[serde(default)]
    pub notification: String,
    /// Avatar URL.
    #[serde(default)]
    pub face_url: String,
    /// Join option (Public only; others have fixed rules).
    #[serde(default = "default_add_opt")]
    pub add_opt: i32,
    /// Member limit (0 = the server's default for the type).
    #[serde(default)]
    pub max_member_count: u32,
    /// Custom fields.
    #[serde(default)]
    pub custom_info: BTreeMap<String, String>,
    /// Initial members (not the creator).
    #[serde(default)]
    pub members: Vec<CreateMember>,
}

fn default_add_opt() -> i32 {
    add_opt::AUTH
}

impl Default for CreateGroupReq {
    /// A Work group with no id, name or members yet; join option AUTH (V2TIM's default).
    fn default() -> Self {
        CreateGroupReq {
            group_type: group_type::WORK.to_owned(),
            group_id: String::new(),
            name: String::new(),
            introduction: String::new(),
            notification: String::new(),
            face_url: String::new(),
            add_opt: add_opt::AUTH,
            max_member_count: 0,
            custom_info: BTreeMap::new(),
            members: Vec::new(),
        }
    }
}

/// `group.create` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupRes {
    /// The group id.
    pub group_id: String,
}

/// A request naming one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupReq {
    /// The group.
    pub group_id: String,
}

/// `group.join` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupReq {
    /// The group.
    pub group_id: String,
    /// Application message.
    #[serde(default)]
    pub message: String,
}

/// `group.join` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupRes {
    /// Joined now (false: an application awaits approval).
    pub joined: bool,
    /// The group's type (the SDK joins AVChatRooms again after reconnecting).
    #[serde(default)]
    pub group_type: String,
}

/// `group.info` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsInfoReq {
    /// Up to 50 groups.
    pub group_ids: Vec<String>,
}

/// One result of `group.info` (`V2TIMGroupInfoResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfoResult {
    /// 0, or why this group could not be read.
    pub code: i32,
    /// Description of `code`.
    #[serde(default)]
    pub desc: String,
    /// The group (default when `code` != 0).
    pub info: GroupInfo,
}

/// `group.info` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupsInfoRes {
    /// In request order.
    pub results: Vec<GroupInfoResult>,
}

/// `group.joined` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedGroupsRes {
    /// The user's groups (AVChatRooms never listed).
    pub groups: Vec<GroupInfo>,
}

/// `group.set_info` request: the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetGroupInfoReq {
    /// The group.
    pub group_id: String,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New introduction.
    #[serde(default)]
    pub introduction: Option<String>,
    /// New notification.
    #[serde(default)]
    pub notification: Option<String>,
    /// New avatar URL.
    #[serde(default)]
    pub face_url: Option<String>,
    /// New join option.
    #[serde(default)]
    pub add_opt: Option<i32>,
    /// Whole-group mute on/off.
    #[serde(default)]
    pub all_muted: Option<bool>,
    /// Custom fields to set (merged).
    #[serde(default)]
    pub custom_info: Option<BTreeMap<String, String>>,
}

/// `group.members` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersReq {
    /// The group.
    pub group_id: String,
    /// [`member_filter`].
    #[serde(default)]
    pub filter: i32,
    /// 0 for the first page.
    #[serde(default)]
    pub next_seq: u64,
}

/// `group.members` response (`V2TIMGroupMemberInfoResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersRes {
    /// At most 50.
    pub members: Vec<MemberInfo>,
    /// 0 = no more pages.
    pub next_seq: u64,
}

/// A request naming users of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUsersReq {
    /// The group.
    pub group_id: String,
    /// The users.
    pub user_ids: Vec<String>,
    /// Kick reason / invitation message.
    #[serde(default)]
    pub reason: String,
}

/// `group.members_info` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersInfoRes {
    /// The members among the users asked for.
    pub members: Vec<MemberInfo>,
}

/// Outcome for one user of an invite or kick (`V2TIMGroupMemberOperationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberOpResult {
    /// The user.
    pub user_id: String,
    /// 0 fail, 1 success, 2 invalid (already in / not in), 3 pending, 4 over the limit.
    pub result: i32,
}

/// `group.invite` / `group.kick` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberOpRes {
    /// Per user.
    pub results: Vec<MemberOpResult>,
}

/// `group.set_member` request (`setGroupMemberInfo`): the fields present change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMemberReq {
    /// The group.
    pub group_id: String,
    /// The member.
    pub user_id: String,
    /// New name card.
    #[serde(default)]
    pub name_card: Option<String>,
    /// Custom fields to set (merged).
    #[serde(default)]
    pub custom_info: Option<BTreeMap<String, String>>,
}

/// `group.mute` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteReq {
    /// The group.
    pub group_id: String,
    /// The member.
    pub user_id: String,
    /// Seconds (0 = unmute).
    pub seconds: u32,
}

/// `group.set_role` / `group.transfer` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleReq {
    /// The group.
    pub group_id: String,
    /// The member.
    pub user_id: String,
    /// [`role::ADMIN`] or [`role::MEMBER`] (ignored by transfer).
    #[serde(default)]
    pub role: i32,
}

/// `group.applications` response (`V2TIMGroupApplicationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationsRes {
    /// Unhandled applications not yet marked read.
    pub unread_count: u32,
    /// Applications to groups the user manages (and the user's own).
    pub applications: Vec<GroupApplication>,
}

/// `group.application.handle` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleApplicationReq {
    /// The application.
    pub app_id: String,
    /// Accept (true) or refuse.
    pub accept: bool,
    /// Message to the applicant.
    #[serde(default)]
    pub reason: String,
}

/// `group.recv_opt` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecvOptReq {
    /// The group.
    pub group_id: String,
    /// [`recv_opt`].
    pub opt: i32,
}

/// `group.online_count` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineCountRes {
    /// Members online now.
    pub count: u32,
}

/// `group.attrs.get` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAttrsReq {
    /// The group.
    pub group_id: String,
    /// Keys; `None` = all.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
}

/// Group attributes and the version they are at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAttrs {
    /// The group.
    pub group_id: String,
    /// Key → value.
    pub attrs: BTreeMap<String, String>,
    /// Version of the group's attributes (every write moves it).
    pub version: u64,
}

/// How an attribute write applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrWriteMode {
    /// Replace all attributes (`initGroupAttributes`).
    Init,
    /// Add or update keys (`setGroupAttributes`).
    Set,
    /// Delete keys, or all (`deleteGroupAttributes`).
    Delete,
}

/// `group.attrs.write` request.
///
/// `base_version` is the attributes' version the writer last saw. The write fails with 10056
/// if any key it touches (every key, for `Init` and delete-all) changed after that version, so
/// two writers who saw the same state cannot both take the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteAttrsReq {
    /// The group.
    pub group_id: String,
    /// Init, set or delete.
    pub mode: AttrWriteMode,
    /// Key → value (init, set).
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
    /// Keys to delete; `None` = all (delete).
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    /// The version the writer's view is at.
    pub base_version: u64,
}

/// A change of group attributes, pushed to every member (`group_attrs`).
pub type GroupAttrsPush = GroupAttrs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids() {
        assert!(is_valid_group_id("team 1"));
        assert!(is_valid_group_id(&"g".repeat(48)));
        assert!(!is_valid_group_id(&"g".repeat(49)));
        assert!(!is_valid_group_id(""));
        assert!(!is_valid_group_id("tab\there"));
        assert!(!is_valid_group_id("é"));
    }

    #[test]
    fn tips_round_trip() {
        let tips = GroupTips {
            tip_type: tip_type::GROUP_INFO_CHANGE,
            op_user: "alice".into(),
            member_list: vec![],
            group_changes: vec![GroupChange { kind: info_change::NAME, value: "New".into(), key: String::new() }],
            member_changes: vec![],
            member_count: 3,
        };
        let json = serde_json::to_string(&tips).unwrap();
        assert_eq!(serde_json::from_str::<GroupTips>(&json).unwrap(), tips);
    }
}
