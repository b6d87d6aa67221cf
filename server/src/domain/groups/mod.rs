//! Groups: a group's stored state, the operations users ask for, and the pure decision of
//! each operation ([`decide`]) over the state a store loaded for it ([`needs`], [`Facts`]).
//! A store applies the decided [`Change`]s; it checks no rule itself, so every store (SQLite
//! today, PostgreSQL next) enforces the same group rules.

mod checks;
mod decide;

pub use checks::{check_attrs, check_custom, check_len};
pub use decide::{Application, Change, Decision, Env, Facts, Needs, Profile, decide, may_send, needs, new_group_id};

use std::collections::BTreeMap;

use oxim_proto::group::{CreateGroupReq, GroupAttrs, GroupInfo, SetGroupInfoReq, SetMemberReq, WriteAttrsReq};

use super::group_rules::{self, Rules};

/// Tests: a `group.create` request for a group named "team" with join option `add_opt` and
/// `members` (user, role) besides its creator.
#[cfg(test)]
pub(crate) fn create_req(kind: &str, id: &str, add_opt: i32, members: &[(&str, i32)]) -> CreateGroupReq {
    CreateGroupReq {
        group_type: kind.into(),
        group_id: id.into(),
        name: "team".into(),
        introduction: String::new(),
        notification: String::new(),
        face_url: String::new(),
        add_opt,
        max_member_count: 0,
        custom_info: BTreeMap::new(),
        members: members
            .iter()
            .map(|(u, r)| oxim_proto::group::CreateMember { user_id: (*u).into(), role: *r })
            .collect(),
    }
}

/// A group as stored: profile (without member count or the caller's standing) and attributes.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Profile.
    pub info: GroupInfo,
    /// Attribute key → (value, attributes' version when it was written).
    pub attrs: BTreeMap<String, (String, u64)>,
    /// Attributes' version: every write moves it on.
    pub attr_version: u64,
}

impl GroupRow {
    /// The rules of the group's type.
    pub fn rules(&self) -> &'static Rules {
        group_rules::of(&self.info.group_type).expect("stored group types are valid")
    }

    /// The attributes as the API shows them.
    pub fn attrs(&self) -> GroupAttrs {
        GroupAttrs {
            group_id: self.info.group_id.clone(),
            attrs: self.attrs.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect(),
            version: self.attr_version,
        }
    }
}

/// A group write by a user. Each is one transaction that checks the group-type rules, changes
/// the rows and appends the group tips and user events it causes.
#[derive(Debug, Clone)]
pub enum GroupOp {
    /// Create a group (the user owns it).
    Create(CreateGroupReq),
    /// Join, or apply to, a group with stored membership.
    Join {
        /// The group.
        group_id: String,
        /// Application message.
        message: String,
    },
    /// Quit.
    Quit {
        /// The group.
        group_id: String,
    },
    /// Dismiss (owner).
    Dismiss {
        /// The group.
        group_id: String,
    },
    /// Change the profile.
    SetInfo(SetGroupInfoReq),
    /// Change a member's card or custom fields.
    SetMember(SetMemberReq),
    /// Mute a member for `seconds` (0 = unmute).
    Mute {
        /// The group.
        group_id: String,
        /// The member.
        user_id: String,
        /// Seconds.
        seconds: u32,
    },
    /// Pull users in (Work).
    Invite {
        /// The group.
        group_id: String,
        /// The users.
        users: Vec<String>,
    },
    /// Kick members.
    Kick {
        /// The group.
        group_id: String,
        /// The members.
        users: Vec<String>,
    },
    /// Make a member admin (300) or ordinary member (200).
    SetRole {
        /// The group.
        group_id: String,
        /// The member.
        user_id: String,
        /// The new role.
        role: i32,
    },
    /// Hand the group to another member.
    Transfer {
        /// The group.
        group_id: String,
        /// The new owner.
        user_id: String,
    },
    /// Accept or refuse a join application.
    HandleApplication {
        /// The application.
        app_id: String,
        /// Accept.
        accept: bool,
        /// Message to the applicant.
        reason: String,
    },
    /// Mark the applications the user sees read.
    ApplicationsRead,
    /// Set the user's receive option for the group.
    RecvOpt {
        /// The group.
        group_id: String,
        /// `recv_opt` value.
        opt: i32,
    },
    /// Write attributes. `is_member` says whether the caller is in the group where membership
    /// is not stored (AVChatRoom; the caller knows who is in the room). A write that would
    /// change something is refused (10049) once the group had `max_per_sec` writes in the last
    /// second; a stale write is refused (10056) whatever the rate.
    WriteAttrs {
        /// The write.
        req: WriteAttrsReq,
        /// Membership of a non-stored group.
        is_member: bool,
        /// The server's rate limit per group.
        max_per_sec: u32,
    },
}
