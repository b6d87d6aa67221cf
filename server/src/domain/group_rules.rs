//! The group-type table (V2TIM's, seed 004 part B §4) as code: who may do what in which type of
//! group. The server checks every group operation against these rules; nothing here trusts the
//! client.

use oxim_proto::group::{GroupInfo, group_type as gt, role};

/// The rules of one group type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The type's name.
    pub name: &'static str,
    /// Has administrators (Public, Meeting).
    pub has_admins: bool,
    /// `joinGroup` joins at once, no approval (Meeting, AVChatRoom; Public with add_opt ANY).
    pub free_join: bool,
    /// `joinGroup` is possible at all (not Work).
    pub can_apply: bool,
    /// Members may pull others in with `inviteUserToGroup` (Work).
    pub members_invite: bool,
    /// The owner may quit (Work: the group then has no owner).
    pub owner_may_quit: bool,
    /// The owner may dismiss it from a client (not Work: only the REST API may).
    pub client_dismiss: bool,
    /// Who may edit the profile: any member (Work), owner and admins, or the owner only.
    pub profile_editors: Editors,
    /// Kicking is possible (not AVChatRoom).
    pub can_kick: bool,
    /// Muting is possible (not Work).
    pub can_mute: bool,
    /// Ownership may be transferred (not AVChatRoom).
    pub can_transfer: bool,
    /// New members see the history from before they joined (Meeting).
    pub history_before_join: bool,
    /// Messages are stored and counted (not AVChatRoom: online only).
    pub stores_messages: bool,
    /// Has unread counts (Work, Public).
    pub unread: bool,
    /// Group tips are messages in the history (Work, Public); otherwise listener events only.
    pub stored_tips: bool,
    /// Listed by `getJoinedGroupList` and kept as members in storage (not AVChatRoom).
    pub persistent_members: bool,
    /// Initial members may be given at creation (not AVChatRoom).
    pub create_members: bool,
    /// Non-members may read the profile's public fields (not Work: private).
    pub outsiders_read_profile: bool,
}

/// Who may edit a group's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editors {
    /// Any member.
    AnyMember,
    /// The owner and administrators.
    OwnerAndAdmins,
    /// The owner only.
    OwnerOnly,
}

const WORK: Rules = Rules {
    name: gt::WORK,
    has_admins: false,
    free_join: false,
    can_apply: false,
    members_invite: true,
    owner_may_quit: true,
    client_dismiss: false,
    profile_editors: Editors::AnyMember,
    can_kick: true,
    can_mute: false,
    can_transfer: true,
    history_before_join: false,
    stores_messages: true,
    unread: true,
    stored_tips: true,
    persistent_members: true,
    create_members: true,
    outsiders_read_profile: false,
};

const PUBLIC: Rules = Rules {
    name: gt::PUBLIC,
    has_admins: true,
    free_join: false,
    can_apply: true,
    members_invite: false,
    owner_may_quit: false,
    client_dismiss: true,
    profile_editors: Editors::OwnerAndAdmins,
    can_kick: true,
    can_mute: true,
    can_transfer: true,
    history_before_join: false,
    stores_messages: true,
    unread: true,
    stored_tips: true,
    persistent_members: true,
    create_members: true,
    outsiders_read_profile: true,
};

const MEETING: Rules = Rules {
    name: gt::MEETING,
    free_join: true,
    history_before_join: true,
    unread: false,
    stored_tips: false,
    ..PUBLIC
};

const AVCHATROOM: Rules = Rules {
    name: gt::AVCHATROOM,
    has_admins: false,
    free_join: true,
    can_apply: true,
    members_invite: false,
    owner_may_quit: false,
    client_dismiss: true,
    profile_editors: Editors::OwnerOnly,
    can_kick: false,
    can_mute: true,
    can_transfer: false,
    history_before_join: false,
    stores_messages: false,
    unread: false,
    stored_tips: false,
    persistent_members: false,
    create_members: false,
    outsiders_read_profile: true,
};

/// The rules of `group_type` (`None` for an unknown type).
pub fn of(group_type: &str) -> Option<&'static Rules> {
    match group_type {
        gt::WORK => Some(&WORK),
        gt::PUBLIC => Some(&PUBLIC),
        gt::MEETING => Some(&MEETING),
        gt::AVCHATROOM => Some(&AVCHATROOM),
        _ => None,
    }
}

impl Rules {
    /// What a non-member may read of a group's profile (V2TIM's group table): nothing of a
    /// Work group (`None`), the public fields of the others (id, name, owner, type, creation
    /// time, member counts, introduction, face, add option, custom fields).
    pub fn outsider_view(&self, info: GroupInfo) -> Option<GroupInfo> {
        if !self.outsiders_read_profile {
            return None;
        }
        Some(GroupInfo {
            notification: String::new(),
            all_muted: false,
            last_info_time: 0,
            role: role::UNDEFINED,
            recv_opt: 0,
            join_time: 0,
            ..info
        })
    }

    /// Whether a member with `op_role` may edit the profile.
    pub fn may_edit_profile(&self, op_role: i32) -> bool {
        match self.profile_editors {
            Editors::AnyMember => op_role >= role::MEMBER,
            Editors::OwnerAndAdmins => op_role >= role::ADMIN,
            Editors::OwnerOnly => op_role == role::OWNER,
        }
    }

    /// Whether `op_role` may kick a member with `target_role`: the owner kicks anyone but
    /// themselves; administrators (where they exist) kick ordinary members only.
    pub fn may_kick(&self, op_role: i32, target_role: i32) -> bool {
        self.can_kick && may_manage(self, op_role, target_role)
    }

    /// Whether `op_role` may mute a member with `target_role` (same hierarchy as kicking).
    pub fn may_mute(&self, op_role: i32, target_role: i32) -> bool {
        self.can_mute && may_manage(self, op_role, target_role)
    }

    /// Whether `op_role` may change other members' roles (the owner, where admins exist).
    pub fn may_set_roles(&self, op_role: i32) -> bool {
        self.has_admins && op_role == role::OWNER
    }

    /// Whether `op_role` may mute the whole group or change the join option.
    pub fn may_manage_group(&self, op_role: i32) -> bool {
        match self.profile_editors {
            Editors::AnyMember => op_role == role::OWNER,
            _ => self.may_edit_profile(op_role),
        }
    }

    /// Whether `op_role` may set `target`'s name card / custom fields (`target_is_self`).
    pub fn may_set_member_info(&self, op_role: i32, target_role: i32, target_is_self: bool) -> bool {
        target_is_self || may_manage(self, op_role, target_role)
    }

    /// Whether `op_role` may handle join applications.
    pub fn may_approve(&self, op_role: i32) -> bool {
        op_role == role::OWNER || (self.has_admins && op_role == role::ADMIN)
    }
}

fn may_manage(rules: &Rules, op_role: i32, target_role: i32) -> bool {
    match op_role {
        role::OWNER => target_role != role::OWNER,
        role::ADMIN => rules.has_admins && target_role == role::MEMBER,
        _ => false,
    }
}

/// Member limits per group type (0 = unlimited); the server's configuration sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MemberLimits {
    /// Work groups (V2TIM's default: 200).
    pub work: u32,
    /// Public groups (200).
    pub public: u32,
    /// Meeting groups (200).
    pub meeting: u32,
    /// AVChatRoom (unlimited).
    pub avchatroom: u32,
}

impl Default for MemberLimits {
    fn default() -> Self {
        // V2TIM's default per group (Pro edition); its largest configurable limit is 6000.
        MemberLimits { work: 200, public: 200, meeting: 200, avchatroom: 0 }
    }
}

impl MemberLimits {
    /// The limit for `group_type`.
    pub fn of(&self, group_type: &str) -> u32 {
        match group_type {
            gt::WORK => self.work,
            gt::PUBLIC => self.public,
            gt::MEETING => self.meeting,
            _ => self.avchatroom,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let work = of("Work").unwrap();
        assert!(work.members_invite && work.owner_may_quit && !work.client_dismiss && !work.can_apply);
        assert!(work.may_edit_profile(role::MEMBER));
        assert!(!work.may_mute(role::OWNER, role::MEMBER));
        let public = of("Public").unwrap();
        assert!(!public.owner_may_quit && !public.members_invite && public.can_apply && !public.free_join);
        assert!(public.may_kick(role::ADMIN, role::MEMBER));
        assert!(!public.may_kick(role::ADMIN, role::ADMIN));
        assert!(!public.may_kick(role::MEMBER, role::MEMBER));
        assert!(!public.may_mute(role::ADMIN, role::OWNER));
        assert!(public.may_set_roles(role::OWNER) && !public.may_set_roles(role::ADMIN));
        let meeting = of("Meeting").unwrap();
        assert!(meeting.free_join && meeting.history_before_join && !meeting.unread);
        let live = of("AVChatRoom").unwrap();
        assert!(!live.can_kick && !live.stores_messages && !live.persistent_members && !live.can_transfer);
        assert!(live.may_edit_profile(role::OWNER) && !live.may_edit_profile(role::ADMIN));
        assert!(of("Private").is_none());
    }
}
