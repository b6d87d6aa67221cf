//! What the group listener hears, derived from what the server delivers: group tips (messages
//! in the group's stream, or online-only for Meeting groups and AVChatRooms), the user's own
//! events (applications, dismissals, own creations and quits) and attribute pushes.

use std::collections::BTreeMap;

use oxim_proto::group::{GroupChange, GroupTips, MemberChange, tip_type};
use oxim_proto::message::UserEvent;

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
