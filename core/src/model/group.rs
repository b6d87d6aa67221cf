//! Groups as the app sees them: the records of `V2TIMGroupManager`'s calls and the group
//! listener's events.
//!
//! The records are the SDK's own; the protocol's requests and responses convert to and from
//! them here, so a change of the wire format is not a change of the API. What a group tip
//! carries ([`GroupTips`], [`GroupChange`], [`MemberChange`]) is message content, which the
//! SDK and the server share (see [`crate::model::message`]); so are V2TIM's numeric constants.
//!
//! What the group listener hears is derived from what the server delivers: group tips
//! (messages in the group's stream, or online-only for Meeting groups and AVChatRooms), the
//! user's own events (applications, dismissals, own creations and quits) and attribute pushes.

use std::collections::BTreeMap;

use oxim_proto::group as wire;
use oxim_proto::message::UserEvent;

pub use oxim_proto::group::{
    GroupChange, GroupTips, MemberChange, add_opt, group_type, info_change, member_filter, recv_opt, role, tip_type,
};

/// `V2TIMGroupMemberInfo`: a member as listener callbacks name them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupMemberInfo {
    /// User.
    pub user_id: String,
    /// Nickname (empty until profiles exist).
    pub nick_name: String,
    /// Name card in the group.
    pub name_card: String,
    /// The logged-in user's remark for them.
    pub friend_remark: String,
    /// Avatar.
    pub face_url: String,
}

impl GroupMemberInfo {
    /// A member known by id only.
    pub fn of(user_id: &str) -> GroupMemberInfo {
        GroupMemberInfo { user_id: user_id.to_owned(), ..GroupMemberInfo::default() }
    }
}

/// One `V2TIMGroupListener` callback.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupEvent {
    /// `onMemberEnter`.
    MemberEnter { group_id: String, members: Vec<GroupMemberInfo> },
    /// `onMemberLeave`.
    MemberLeave { group_id: String, member: GroupMemberInfo },
    /// `onMemberInvited`.
    MemberInvited { group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo> },
    /// `onMemberKicked`.
    MemberKicked { group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo> },
    /// `onMemberInfoChanged`.
    MemberInfoChanged { group_id: String, changes: Vec<MemberChange> },
    /// `onGroupCreated`.
    GroupCreated { group_id: String },
    /// `onGroupDismissed`.
    GroupDismissed { group_id: String, op_user: GroupMemberInfo },
    /// `onGroupInfoChanged`.
    GroupInfoChanged { group_id: String, changes: Vec<GroupChange> },
    /// `onReceiveJoinApplication`.
    ReceiveJoinApplication { group_id: String, member: GroupMemberInfo, reason: String },
    /// `onApplicationProcessed`.
    ApplicationProcessed { group_id: String, op_user: GroupMemberInfo, agreed: bool, reason: String },
    /// `onGrantAdministrator`.
    GrantAdministrator { group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo> },
    /// `onRevokeAdministrator`.
    RevokeAdministrator { group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo> },
    /// `onQuitFromGroup`.
    QuitFromGroup { group_id: String },
    /// `onGroupAttributeChanged`: the complete map.
    AttributeChanged { group_id: String, attributes: BTreeMap<String, String> },
}

fn members(ids: &[String]) -> Vec<GroupMemberInfo> {
    ids.iter().map(|u| GroupMemberInfo::of(u)).collect()
}

/// The callback a group tip means.
pub fn from_tips(group_id: &str, tips: &GroupTips) -> Option<GroupEvent> {
    let group_id = group_id.to_owned();
    let op_user = GroupMemberInfo::of(&tips.op_user);
    Some(match tips.tip_type {
        tip_type::JOIN => GroupEvent::MemberEnter { group_id, members: members(&tips.member_list) },
        tip_type::INVITE => GroupEvent::MemberInvited { group_id, op_user, members: members(&tips.member_list) },
        tip_type::QUIT => GroupEvent::MemberLeave { group_id, member: op_user },
        tip_type::KICKED => GroupEvent::MemberKicked { group_id, op_user, members: members(&tips.member_list) },
        tip_type::SET_ADMIN => {
            GroupEvent::GrantAdministrator { group_id, op_user, members: members(&tips.member_list) }
        }
        tip_type::CANCEL_ADMIN => {
            GroupEvent::RevokeAdministrator { group_id, op_user, members: members(&tips.member_list) }
        }
        tip_type::GROUP_INFO_CHANGE => GroupEvent::GroupInfoChanged { group_id, changes: tips.group_changes.clone() },
        tip_type::MEMBER_INFO_CHANGE => {
            GroupEvent::MemberInfoChanged { group_id, changes: tips.member_changes.clone() }
        }
        _ => return None,
    })
}

/// The callback one of the user's own events means (`None`: not a group event).
pub fn from_user_event(event: &UserEvent) -> Option<GroupEvent> {
    Some(match event {
        UserEvent::JoinApplication { group_id, applicant, reason } => GroupEvent::ReceiveJoinApplication {
            group_id: group_id.clone(),
            member: GroupMemberInfo::of(applicant),
            reason: reason.clone(),
        },
        UserEvent::ApplicationProcessed { group_id, op_user, agree, reason } => GroupEvent::ApplicationProcessed {
            group_id: group_id.clone(),
            op_user: GroupMemberInfo::of(op_user),
            agreed: *agree,
            reason: reason.clone(),
        },
        UserEvent::GroupDismissed { group_id, op_user } => {
            GroupEvent::GroupDismissed { group_id: group_id.clone(), op_user: GroupMemberInfo::of(op_user) }
        }
        UserEvent::GroupCreated { group_id } => GroupEvent::GroupCreated { group_id: group_id.clone() },
        UserEvent::QuitGroup { group_id } => GroupEvent::QuitFromGroup { group_id: group_id.clone() },
        _ => return None,
    })
}

// ---- records of the group manager's calls -------------------------------------------------

/// A user to add at creation (`V2TIMCreateGroupMemberInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMember {
    /// User.
    pub user_id: String,
    /// [`role`] (0 / MEMBER, or ADMIN where the type has admins).
    pub role: i32,
}

/// What `createGroup` creates: the profile and the first members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCreation {
    /// [`group_type`].
    pub group_type: String,
    /// Wanted id; empty = assigned by the server.
    pub group_id: String,
    /// Name.
    pub name: String,
    /// Introduction.
    pub introduction: String,
    /// Notification.
    pub notification: String,
    /// Avatar URL.
    pub face_url: String,
    /// Join option ([`add_opt`]; Public only, the other types have fixed rules).
    pub add_opt: i32,
    /// Member limit (0 = the server's default for the type).
    pub max_member_count: u32,
    /// Custom fields.
    pub custom_info: BTreeMap<String, String>,
    /// Initial members (not the creator).
    pub members: Vec<CreateMember>,
}

impl Default for GroupCreation {
    /// A Work group with no id, name or members yet; join option AUTH (V2TIM's default).
    fn default() -> Self {
        GroupCreation {
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

impl From<GroupCreation> for wire::CreateGroupReq {
    fn from(c: GroupCreation) -> Self {
        wire::CreateGroupReq {
            group_type: c.group_type,
            group_id: c.group_id,
            name: c.name,
            introduction: c.introduction,
            notification: c.notification,
            face_url: c.face_url,
            add_opt: c.add_opt,
            max_member_count: c.max_member_count,
            custom_info: c.custom_info,
            members: c.members.into_iter().map(|m| wire::CreateMember { user_id: m.user_id, role: m.role }).collect(),
        }
    }
}

/// A group's profile, plus the user's own standing in it (`V2TIMGroupInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// The user's role (0 if not a member).
    pub role: i32,
    /// The user's receive option ([`recv_opt`]).
    pub recv_opt: i32,
    /// When the user joined, Unix seconds.
    pub join_time: i64,
}

impl From<wire::GroupInfo> for GroupInfo {
    fn from(g: wire::GroupInfo) -> Self {
        GroupInfo {
            group_id: g.group_id,
            group_type: g.group_type,
            name: g.name,
            introduction: g.introduction,
            notification: g.notification,
            face_url: g.face_url,
            owner: g.owner,
            add_opt: g.add_opt,
            all_muted: g.all_muted,
            custom_info: g.custom_info,
            member_count: g.member_count,
            member_max_count: g.member_max_count,
            create_time: g.create_time,
            last_info_time: g.last_info_time,
            role: g.role,
            recv_opt: g.recv_opt,
            join_time: g.join_time,
        }
    }
}

/// One result of `getGroupsInfo` (`V2TIMGroupInfoResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfoResult {
    /// 0, or why this group could not be read.
    pub code: i32,
    /// Description of `code`.
    pub desc: String,
    /// The group (default when `code` != 0).
    pub info: GroupInfo,
}

impl From<wire::GroupInfoResult> for GroupInfoResult {
    fn from(r: wire::GroupInfoResult) -> Self {
        GroupInfoResult { code: r.code, desc: r.desc, info: r.info.into() }
    }
}

/// `setGroupInfo`: the fields that are `Some` change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInfoChange {
    /// The group.
    pub group_id: String,
    /// New name.
    pub name: Option<String>,
    /// New introduction.
    pub introduction: Option<String>,
    /// New notification.
    pub notification: Option<String>,
    /// New avatar URL.
    pub face_url: Option<String>,
    /// New join option.
    pub add_opt: Option<i32>,
    /// Whole-group mute on/off.
    pub all_muted: Option<bool>,
    /// Custom fields to set (merged).
    pub custom_info: Option<BTreeMap<String, String>>,
}

impl From<GroupInfoChange> for wire::SetGroupInfoReq {
    fn from(c: GroupInfoChange) -> Self {
        wire::SetGroupInfoReq {
            group_id: c.group_id,
            name: c.name,
            introduction: c.introduction,
            notification: c.notification,
            face_url: c.face_url,
            add_opt: c.add_opt,
            all_muted: c.all_muted,
            custom_info: c.custom_info,
        }
    }
}

/// A member (`V2TIMGroupMemberFullInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMemberFullInfo {
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

impl From<wire::MemberInfo> for GroupMemberFullInfo {
    fn from(m: wire::MemberInfo) -> Self {
        GroupMemberFullInfo {
            user_id: m.user_id,
            name_card: m.name_card,
            role: m.role,
            join_time: m.join_time,
            mute_until: m.mute_until,
            custom_info: m.custom_info,
        }
    }
}

/// A page of `getGroupMemberList` (`V2TIMGroupMemberInfoResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberInfoResult {
    /// At most 50.
    pub members: Vec<GroupMemberFullInfo>,
    /// 0 = no more pages.
    pub next_seq: u64,
}

impl From<wire::MembersRes> for GroupMemberInfoResult {
    fn from(r: wire::MembersRes) -> Self {
        GroupMemberInfoResult { members: r.members.into_iter().map(Into::into).collect(), next_seq: r.next_seq }
    }
}

/// `setGroupMemberInfo`: the fields that are `Some` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberChange {
    /// The group.
    pub group_id: String,
    /// The member.
    pub user_id: String,
    /// New name card.
    pub name_card: Option<String>,
    /// Custom fields to set (merged).
    pub custom_info: Option<BTreeMap<String, String>>,
}

impl From<GroupMemberChange> for wire::SetMemberReq {
    fn from(c: GroupMemberChange) -> Self {
        wire::SetMemberReq {
            group_id: c.group_id,
            user_id: c.user_id,
            name_card: c.name_card,
            custom_info: c.custom_info,
        }
    }
}

/// Outcome for one user of an invite or kick (`V2TIMGroupMemberOperationResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberOpResult {
    /// The user.
    pub user_id: String,
    /// 0 fail, 1 success, 2 invalid (already in / not in), 3 pending, 4 over the limit.
    pub result: i32,
}

impl From<wire::MemberOpResult> for MemberOpResult {
    fn from(r: wire::MemberOpResult) -> Self {
        MemberOpResult { user_id: r.user_id, result: r.result }
    }
}

/// A join application or invitation (`V2TIMGroupApplication`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

impl From<wire::GroupApplication> for GroupApplication {
    fn from(a: wire::GroupApplication) -> Self {
        GroupApplication {
            app_id: a.app_id,
            group_id: a.group_id,
            from_user: a.from_user,
            to_user: a.to_user,
            add_time: a.add_time,
            request_msg: a.request_msg,
            handled_msg: a.handled_msg,
            app_type: a.app_type,
            handle_status: a.handle_status,
            handle_result: a.handle_result,
        }
    }
}

/// `getGroupApplicationList` (`V2TIMGroupApplicationResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupApplicationResult {
    /// Unhandled applications not yet marked read.
    pub unread_count: u32,
    /// Applications to groups the user manages (and the user's own).
    pub applications: Vec<GroupApplication>,
}

impl From<wire::ApplicationsRes> for GroupApplicationResult {
    fn from(r: wire::ApplicationsRes) -> Self {
        GroupApplicationResult {
            unread_count: r.unread_count,
            applications: r.applications.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tips_become_callbacks() {
        let tips = GroupTips {
            tip_type: tip_type::KICKED,
            op_user: "owner".into(),
            member_list: vec!["bob".into()],
            group_changes: vec![],
            member_changes: vec![],
            member_count: 2,
        };
        match from_tips("g", &tips) {
            Some(GroupEvent::MemberKicked { op_user, members, .. }) => {
                assert_eq!((op_user.user_id.as_str(), members[0].user_id.as_str()), ("owner", "bob"));
            }
            other => panic!("{other:?}"),
        }
        assert!(from_user_event(&UserEvent::Read { conv_id: oxim_proto::ids::ConvId::System, seq: 1 }).is_none());
    }
}
