//! Group operations decided without storage: [`needs`] says what a store must load for an
//! operation, [`decide`] turns the operation and what was loaded ([`Facts`]) into a
//! [`Decision`] (the [`Change`]s to apply, in order, and the answer), or a refusal. A store
//! loads, decides and applies in one transaction; it never checks a rule itself.

use std::collections::{BTreeMap, HashMap, HashSet};

use oxim_proto::code;
use oxim_proto::group::{
    AttrWriteMode, CreateGroupReq, GroupAttrs, GroupChange, GroupTips, MemberChange, MemberInfo, MemberOpResult,
    SetGroupInfoReq, SetMemberReq, WriteAttrsReq, add_opt, group_type, info_change, is_valid_group_id, limits, role,
    tip_type,
};
use oxim_proto::message::UserEvent;

use super::checks::{check_attrs, check_custom, check_len};
use super::{GroupOp, GroupRow};
use crate::domain::group_rules::{self, MemberLimits, Rules};
use crate::domain::refusal::Refusal;

/// What a store loads for one operation, before [`decide`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// The group the operation is about.
    pub group: Option<String>,
    /// A join application: loaded first; its group becomes [`Needs::group`] and its applicant
    /// is added to [`Needs::members`].
    pub application: Option<String>,
    /// Users whose member rows (in the group) matter.
    pub members: Vec<String>,
    /// Users whose existence matters.
    pub users: Vec<String>,
    /// The group's member count.
    pub member_count: bool,
    /// The group's member ids, in join order.
    pub member_ids: bool,
    /// The group's owner and administrators.
    pub approvers: bool,
    /// Whether the caller has an unhandled application to the group.
    pub pending_application: bool,
    /// The caller's receive option for the group's conversation.
    pub recv_opt: bool,
    /// The group's attribute writes in the last second.
    pub attr_writes: bool,
}

/// A join application as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its group.
    pub group_id: String,
    /// Who applied.
    pub applicant: String,
    /// Already accepted or refused.
    pub handled: bool,
}

/// What a store loaded ([`Needs`] says what; the rest stays empty).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The group (`None`: it does not exist).
    pub group: Option<GroupRow>,
    /// The application (`None`: it does not exist).
    pub application: Option<Application>,
    /// Member rows of the users asked for who are members.
    pub members: HashMap<String, MemberInfo>,
    /// The users asked for who exist.
    pub users: HashSet<String>,
    /// Members of the group.
    pub member_count: u32,
    /// Member ids in join order.
    pub member_ids: Vec<String>,
    /// Owner and administrators.
    pub approvers: Vec<String>,
    /// The caller has an unhandled application to the group.
    pub pending_application: bool,
    /// The caller's receive option (`None`: the caller has no row for the conversation).
    pub recv_opt: Option<i32>,
    /// Attribute writes of the group in the last second.
    pub attr_writes: u32,
}

/// What [`decide`] needs besides the facts.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Now, Unix ms.
    pub now_ms: i64,
    /// A random number for the ids the operation may make (group ids, application ids).
    pub nonce: u64,
    /// The server's member limits per group type.
    pub member_limits: MemberLimits,
}

/// One change to a group's stored state, applied in order by the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert the group row (members come with [`Change::AddMember`]).
    Create {
        /// The group type's name.
        group_type: &'static str,
        /// The profile fields of the request (its members are ignored here).
        req: CreateGroupReq,
        /// The owner.
        owner: String,
        /// The join option.
        add_opt: i32,
        /// The member limit (0 = none).
        max_members: u32,
    },
    /// Add a stored member and open (or reopen) their view of the conversation.
    AddMember {
        /// The user.
        user: String,
        /// Their role.
        role: i32,
        /// They see the history from before they joined (else their view starts now).
        sees_history: bool,
    },
    /// Remove a stored member; their view ends at the conversation's last seq, or at the next
    /// one when the tip that tells them follows (`sees_next_tip`).
    RemoveMember {
        /// The member.
        user: String,
        /// Their view includes the next stored tip.
        sees_next_tip: bool,
    },
    /// Change a member's role.
    SetRole {
        /// The member.
        user: String,
        /// The new role.
        role: i32,
    },
    /// Change profile fields (`None` fields stay).
    Profile(Profile),
    /// Change a member's card or custom fields (the merged map).
    MemberFields {
        /// The member.
        user: String,
        /// New name card.
        name_card: Option<String>,
        /// All custom fields after the change.
        custom_info: Option<BTreeMap<String, String>>,
    },
    /// Mute a member until `until_ms` (0 = unmute).
    Mute {
        /// The member.
        user: String,
        /// Unix ms.
        until_ms: i64,
    },
    /// Delete the group and its applications.
    Delete,
    /// Record a join application.
    Apply {
        /// Its id.
        app_id: String,
        /// The applicant.
        user: String,
        /// Their message.
        message: String,
    },
    /// Mark an application handled.
    Handle {
        /// The application.
        app_id: String,
        /// Accepted (else refused).
        accepted: bool,
        /// Who handled it.
        handler: String,
        /// Their message to the applicant.
        reason: String,
    },
    /// `user` read the applications they see.
    ApplicationsRead {
        /// The user.
        user: String,
    },
    /// Set `user`'s receive option for the group.
    RecvOpt {
        /// The member.
        user: String,
        /// The option.
        opt: i32,
    },
    /// Replace the attributes.
    Attrs {
        /// Key → (value, version written).
        attrs: BTreeMap<String, (String, u64)>,
        /// The new attributes' version.
        version: u64,
    },
    /// A group tip to the members (after the changes before it), plus `extra` users; stored in
    /// the group's conversation or pushed online only.
    Tip {
        /// The tip (the store fills in the member count).
        tips: GroupTips,
        /// Recipients besides the members (kicked users).
        extra: Vec<String>,
        /// Stored (Work, Public), else online only (Meeting, AVChatRoom).
        stored: bool,
    },
    /// An event in `user`'s own stream.
    Event {
        /// The user.
        user: String,
        /// The event.
        event: UserEvent,
    },
}

/// Profile fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Name.
    pub name: Option<String>,
    /// Introduction.
    pub introduction: Option<String>,
    /// Notification.
    pub notification: Option<String>,
    /// Avatar URL.
    pub face_url: Option<String>,
    /// Join option.
    pub add_opt: Option<i32>,
    /// Whole-group mute.
    pub all_muted: Option<bool>,
    /// All custom fields after the change.
    pub custom_info: Option<BTreeMap<String, String>>,
    /// Owner (`""`: none).
    pub owner: Option<String>,
    /// Moves the profile's change time to now.
    pub touch: bool,
}

/// What an operation does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// The group (made by create).
    pub group_id: String,
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// Joined at once (join; false: an application awaits approval).
    pub joined: bool,
    /// Per-user results (invite, kick).
    pub results: Vec<MemberOpResult>,
    /// The attributes after a write.
    pub attrs: Option<GroupAttrs>,
    /// Stored members to tell (dismiss: everyone who was in; attribute writes: the members).
    pub members: Vec<String>,
}

/// The id of a group being created: the requested one, or `@TGS#` and 16 hex digits.
pub fn new_group_id(req: &CreateGroupReq, nonce: u64) -> String {
    if req.group_id.is_empty() { format!("{}{nonce:016x}", limits::AUTO_ID_PREFIX) } else { req.group_id.clone() }
}

/// What the store must load for `op` by `user`.
pub fn needs(op: &GroupOp, user: &str, env: &Env) -> Needs {
    let me = || vec![user.to_owned()];
    let group = |g: &str| Some(g.to_owned());
    match op {
        GroupOp::Create(req) => Needs {
            group: group(&new_group_id(req, env.nonce)),
            users: req.members.iter().map(|m| m.user_id.clone()).collect(),
            ..Needs::default()
        },
        GroupOp::Join { group_id, .. } => Needs {
            group: group(group_id),
            members: me(),
            member_count: true,
            approvers: true,
            pending_application: true,
            ..Needs::default()
        },
        GroupOp::Quit { group_id } => Needs { group: group(group_id), members: me(), ..Needs::default() },
        GroupOp::Dismiss { group_id } => Needs { group: group(group_id), member_ids: true, ..Needs::default() },
        GroupOp::SetInfo(req) => Needs { group: group(&req.group_id), members: me(), ..Needs::default() },
        GroupOp::SetMember(req) => Needs {
            group: group(&req.group_id),
            members: vec![user.to_owned(), req.user_id.clone()],
            ..Needs::default()
        },
        GroupOp::Mute { group_id, user_id, .. }
        | GroupOp::SetRole { group_id, user_id, .. }
        | GroupOp::Transfer { group_id, user_id } => {
            Needs { group: group(group_id), members: vec![user.to_owned(), user_id.clone()], ..Needs::default() }
        }
        GroupOp::Invite { group_id, users } => Needs {
            group: group(group_id),
            members: std::iter::once(user.to_owned()).chain(users.iter().cloned()).collect(),
            users: users.clone(),
            member_count: true,
            ..Needs::default()
        },
        GroupOp::Kick { group_id, users } => Needs {
            group: group(group_id),
            members: std::iter::once(user.to_owned()).chain(users.iter().cloned()).collect(),
            ..Needs::default()
        },
        GroupOp::HandleApplication { app_id, .. } => {
            Needs { application: Some(app_id.clone()), members: me(), member_count: true, ..Needs::default() }
        }
        GroupOp::ApplicationsRead => Needs::default(),
        GroupOp::RecvOpt { group_id, .. } => {
            Needs { group: group(group_id), members: me(), recv_opt: true, ..Needs::default() }
        }
        GroupOp::WriteAttrs { req, .. } => Needs {
            group: group(&req.group_id),
            members: me(),
            member_ids: true,
            attr_writes: true,
            ..Needs::default()
        },
    }
}

fn refused(code: i32, desc: impl Into<String>) -> Refusal {
    Refusal::new(code, desc)
}

fn denied(desc: impl Into<String>) -> Refusal {
    refused(code::SVR_GROUP_PERMISSION_DENY, desc)
}

fn invalid(desc: impl Into<String>) -> Refusal {
    refused(code::SVR_GROUP_INVALID_PARAMETERS, desc)
}

fn group_of<'f>(facts: &'f Facts, group_id: &str) -> Result<&'f GroupRow, Refusal> {
    facts.group.as_ref().ok_or_else(|| refused(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist")))
}

fn member_of<'f>(facts: &'f Facts, group_id: &str, user: &str) -> Result<&'f MemberInfo, Refusal> {
    facts.members.get(user).ok_or_else(|| denied(format!("{user} is not a member of {group_id}")))
}

fn role_in(facts: &Facts, user: &str) -> i32 {
    facts.members.get(user).map_or(role::UNDEFINED, |m| m.role)
}

/// The most members `group` may have (0 = no limit): its own limit, else its type's.
fn max_members(group: &GroupRow, limits: &MemberLimits) -> u32 {
    match group.info.member_max_count {
        0 => limits.of(&group.info.group_type),
        n => n,
    }
}

/// A tip as `rules` keep it: stored, or online only.
fn tip(rules: &Rules, tips: GroupTips, extra: Vec<String>) -> Change {
    Change::Tip { tips, extra, stored: rules.stored_tips }
}

fn event(user: &str, event: UserEvent) -> Change {
    Change::Event { user: user.to_owned(), event }
}

/// Decides `op` by `user` over `facts` (loaded as [`needs`] said).
pub fn decide(op: GroupOp, user: &str, facts: &Facts, env: &Env) -> Result<Decision, Refusal> {
    match op {
        GroupOp::Create(req) => create(user, req, facts, env),
        GroupOp::Join { group_id, message } => join(user, &group_id, message, facts, env),
        GroupOp::Quit { group_id } => quit(user, &group_id, facts),
        GroupOp::Dismiss { group_id } => dismiss(user, &group_id, facts),
        GroupOp::SetInfo(req) => set_info(user, req, facts),
        GroupOp::SetMember(req) => set_member(user, req, facts),
        GroupOp::Mute { group_id, user_id, seconds } => mute(user, &group_id, &user_id, seconds, facts, env),
        GroupOp::Invite { group_id, users } => invite(user, &group_id, &users, facts, env),
        GroupOp::Kick { group_id, users } => kick(user, &group_id, &users, facts),
        GroupOp::SetRole { group_id, user_id, role } => set_role(user, &group_id, &user_id, role, facts),
        GroupOp::Transfer { group_id, user_id } => transfer(user, &group_id, &user_id, facts),
        GroupOp::HandleApplication { app_id, accept, reason } => {
            handle_application(user, &app_id, accept, reason, facts, env)
        }
        GroupOp::ApplicationsRead => {
            Ok(Decision { changes: vec![Change::ApplicationsRead { user: user.to_owned() }], ..Decision::default() })
        }
        GroupOp::RecvOpt { group_id, opt } => recv_opt(user, &group_id, opt, facts),
        GroupOp::WriteAttrs { req, is_member, max_per_sec } => write_attrs(user, req, is_member, max_per_sec, facts),
    }
}

fn create(user: &str, req: CreateGroupReq, facts: &Facts, env: &Env) -> Result<Decision, Refusal> {
    let rules =
        group_rules::of(&req.group_type).ok_or_else(|| invalid(format!("unknown group type {:?}", req.group_type)))?;
    if !req.group_id.is_empty()
        && (!is_valid_group_id(&req.group_id) || req.group_id.starts_with(limits::AUTO_ID_PREFIX))
    {
        return Err(refused(
            code::SVR_GROUP_INVALID_GROUPID,
            "groupID must be 1-48 printable ASCII bytes, not starting with @TGS#",
        ));
    }
    let group_id = new_group_id(&req, env.nonce);
    if req.name.is_empty() {
        return Err(invalid("groupName is empty"));
    }
    check_len("groupName", &req.name, limits::NAME)?;
    check_len("introduction", &req.introduction, limits::INTRODUCTION)?;
    check_len("notification", &req.notification, limits::NOTIFICATION)?;
    check_len("faceURL", &req.face_url, limits::FACE_URL)?;
    check_custom(&req.custom_info)?;
    if facts.group.is_some() {
        return Err(refused(code::SVR_GROUP_GROUPID_IN_USED, format!("group {group_id} already exists")));
    }
    if !rules.create_members && !req.members.is_empty() {
        return Err(invalid("an AVChatRoom cannot have initial members"));
    }
    if req.members.len() > limits::CREATE_MEMBERS {
        return Err(invalid("at most 500 initial members"));
    }
    let max = match (req.max_member_count, env.member_limits.of(rules.name)) {
        (0, l) => l,
        (n, 0) => n,
        (n, l) => n.min(l),
    };
    if max > 0 && req.members.len() as u32 + 1 > max {
        return Err(refused(code::SVR_GROUP_MEMBER_COUNT_LIMIT, format!("the group may have at most {max} members")));
    }
    for m in &req.members {
        if !facts.users.contains(&m.user_id) || m.user_id == user {
            return Err(refused(code::SVR_GROUP_ACCOUNT_NOT_FOUND, format!("user {} cannot be added", m.user_id)));
        }
        if m.role == role::OWNER || (m.role == role::ADMIN && !rules.has_admins) {
            return Err(invalid(format!("role {} is not allowed here", m.role)));
        }
    }
    // Only Public groups choose how to join; the others have fixed rules.
    let opt = if rules.name == group_type::PUBLIC { req.add_opt.clamp(0, 2) } else { add_opt::ANY };
    let mut changes = Vec::with_capacity(req.members.len() + 3);
    let members = req.members.clone();
    changes.push(Change::Create {
        group_type: rules.name,
        req,
        owner: user.to_owned(),
        add_opt: opt,
        max_members: max,
    });
    if rules.persistent_members {
        let sees_history = rules.history_before_join;
        changes.push(Change::AddMember { user: user.to_owned(), role: role::OWNER, sees_history });
        for m in members {
            let r = if m.role == role::ADMIN { role::ADMIN } else { role::MEMBER };
            changes.push(Change::AddMember { user: m.user_id, role: r, sees_history });
        }
    }
    changes.push(event(user, UserEvent::GroupCreated { group_id: group_id.clone() }));
    Ok(Decision { group_id, changes, joined: true, ..Decision::default() })
}

fn join(user: &str, group_id: &str, message: String, facts: &Facts, env: &Env) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    if !rules.can_apply {
        return Err(denied(format!("a {} group cannot be joined by applying", rules.name)));
    }
    if facts.members.contains_key(user) {
        return Err(refused(code::SVR_GROUP_ALLREADY_MEMBER, format!("{user} is already a member")));
    }
    let mut changes = Vec::new();
    let free = rules.free_join || group.info.add_opt == add_opt::ANY;
    if !free {
        if group.info.add_opt == add_opt::FORBID {
            return Err(denied("this group does not accept members"));
        }
        check_len("application message", &message, limits::INTRODUCTION)?;
        if !facts.pending_application {
            for approver in &facts.approvers {
                let e = UserEvent::JoinApplication {
                    group_id: group_id.to_owned(),
                    applicant: user.to_owned(),
                    reason: message.clone(),
                };
                changes.push(event(approver, e));
            }
            let app_id = format!("app-{:016x}", env.nonce);
            changes.insert(0, Change::Apply { app_id, user: user.to_owned(), message });
        }
        return Ok(Decision { group_id: group_id.to_owned(), changes, joined: false, ..Decision::default() });
    }
    check_room(group, facts.member_count, 1, &env.member_limits)?;
    changes.push(Change::AddMember {
        user: user.to_owned(),
        role: role::MEMBER,
        sees_history: rules.history_before_join,
    });
    changes.push(tip(rules, GroupTips::members(tip_type::JOIN, user, vec![user.to_owned()]), Vec::new()));
    Ok(Decision { group_id: group_id.to_owned(), changes, joined: true, ..Decision::default() })
}

/// The group has room for `adding` more members.
fn check_room(group: &GroupRow, count: u32, adding: u32, limits: &MemberLimits) -> Result<(), Refusal> {
    let max = max_members(group, limits);
    if max > 0 && count + adding > max {
        return Err(refused(code::SVR_GROUP_FULL_MEMBER_COUNT, format!("the group is full ({max} members)")));
    }
    Ok(())
}

fn quit(user: &str, group_id: &str, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    let me = member_of(facts, group_id, user)?;
    if me.role == role::OWNER && !rules.owner_may_quit {
        return Err(refused(
            code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT,
            "the owner cannot quit this group; dismiss it or transfer it first",
        ));
    }
    let mut changes = vec![Change::RemoveMember { user: user.to_owned(), sees_next_tip: false }];
    if me.role == role::OWNER {
        // A Work group's owner may quit: the group then has no owner.
        changes.push(Change::Profile(Profile { owner: Some(String::new()), ..Profile::default() }));
    }
    changes.push(tip(rules, GroupTips::members(tip_type::QUIT, user, vec![user.to_owned()]), Vec::new()));
    changes.push(event(user, UserEvent::QuitGroup { group_id: group_id.to_owned() }));
    Ok(Decision { group_id: group_id.to_owned(), changes, ..Decision::default() })
}

fn dismiss(user: &str, group_id: &str, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    if group.info.owner != user {
        return Err(denied("only the owner may dismiss the group"));
    }
    if !group.rules().client_dismiss {
        return Err(denied("a Work group can only be dismissed through the server API"));
    }
    let members = facts.member_ids.clone();
    let mut changes: Vec<Change> =
        members.iter().map(|m| Change::RemoveMember { user: m.clone(), sees_next_tip: false }).collect();
    changes.push(Change::Delete);
    let mut told = members.clone();
    if !told.iter().any(|m| m == user) {
        told.push(user.to_owned());
    }
    for m in &told {
        changes.push(event(m, UserEvent::GroupDismissed { group_id: group_id.to_owned(), op_user: user.to_owned() }));
    }
    Ok(Decision { group_id: group_id.to_owned(), changes, members, ..Decision::default() })
}

fn set_info(user: &str, req: SetGroupInfoReq, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, &req.group_id)?;
    let rules = group.rules();
    let op_role = if rules.persistent_members {
        role_in(facts, user)
    } else if group.info.owner == user {
        role::OWNER
    } else {
        role::MEMBER
    };
    if !rules.may_edit_profile(op_role) {
        return Err(denied("you may not edit this group's profile"));
    }
    if (req.all_muted.is_some() || req.add_opt.is_some()) && !rules.may_manage_group(op_role) {
        return Err(denied("only the owner or an admin may change this"));
    }
    if req.add_opt.is_some() && rules.name != group_type::PUBLIC {
        return Err(invalid("only Public groups have a join option"));
    }
    let mut changes = Vec::new();
    let mut profile = Profile { touch: true, ..Profile::default() };
    let change = |kind: i32, value: String| GroupChange { kind, value, key: String::new() };
    if let Some(v) = req.name {
        if v.is_empty() {
            return Err(invalid("groupName is empty"));
        }
        check_len("groupName", &v, limits::NAME)?;
        changes.push(change(info_change::NAME, v.clone()));
        profile.name = Some(v);
    }
    if let Some(v) = req.introduction {
        check_len("introduction", &v, limits::INTRODUCTION)?;
        changes.push(change(info_change::INTRODUCTION, v.clone()));
        profile.introduction = Some(v);
    }
    if let Some(v) = req.notification {
        check_len("notification", &v, limits::NOTIFICATION)?;
        changes.push(change(info_change::NOTIFICATION, v.clone()));
        profile.notification = Some(v);
    }
    if let Some(v) = req.face_url {
        check_len("faceURL", &v, limits::FACE_URL)?;
        changes.push(change(info_change::FACE, v.clone()));
        profile.face_url = Some(v);
    }
    if let Some(v) = req.add_opt {
        if !(0..=2).contains(&v) {
            return Err(invalid("groupAddOpt must be 0, 1 or 2"));
        }
        changes.push(change(info_change::ADD_OPT, v.to_string()));
        profile.add_opt = Some(v);
    }
    if let Some(v) = req.all_muted {
        changes.push(change(info_change::SHUT_UP_ALL, if v { "1" } else { "0" }.into()));
        profile.all_muted = Some(v);
    }
    if let Some(custom) = req.custom_info {
        check_custom(&custom)?;
        let mut merged = group.info.custom_info.clone();
        for (k, v) in custom {
            changes.push(GroupChange { kind: info_change::CUSTOM, value: v.clone(), key: k.clone() });
            merged.insert(k, v);
        }
        profile.custom_info = Some(merged);
    }
    let mut out = vec![Change::Profile(profile)];
    if !changes.is_empty() {
        let tips =
            GroupTips { group_changes: changes, ..GroupTips::members(tip_type::GROUP_INFO_CHANGE, user, Vec::new()) };
        out.push(tip(rules, tips, Vec::new()));
    }
    Ok(Decision { group_id: req.group_id, changes: out, ..Decision::default() })
}

fn set_member(user: &str, req: SetMemberReq, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, &req.group_id)?;
    let op = member_of(facts, &req.group_id, user)?;
    let target = member_of(facts, &req.group_id, &req.user_id)?;
    if !group.rules().may_set_member_info(op.role, target.role, user == req.user_id) {
        return Err(denied("you may not change this member"));
    }
    if let Some(card) = &req.name_card {
        check_len("nameCard", card, limits::NAME_CARD)?;
    }
    let custom_info = match req.custom_info {
        Some(custom) => {
            check_custom(&custom)?;
            let mut merged = target.custom_info.clone();
            merged.extend(custom);
            Some(merged)
        }
        None => None,
    };
    let change = Change::MemberFields { user: req.user_id, name_card: req.name_card, custom_info };
    Ok(Decision { group_id: req.group_id, changes: vec![change], ..Decision::default() })
}

fn mute(
    user: &str,
    group_id: &str,
    target_id: &str,
    seconds: u32,
    facts: &Facts,
    env: &Env,
) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let op = member_of(facts, group_id, user)?;
    let target = member_of(facts, group_id, target_id)?;
    if !group.rules().may_mute(op.role, target.role) {
        return Err(denied("you may not mute this member"));
    }
    let until_ms = if seconds == 0 { 0 } else { env.now_ms + i64::from(seconds) * 1000 };
    let tips = GroupTips {
        member_changes: vec![MemberChange { user_id: target_id.to_owned(), mute_time: i64::from(seconds) }],
        ..GroupTips::members(tip_type::MEMBER_INFO_CHANGE, user, vec![target_id.to_owned()])
    };
    let changes = vec![Change::Mute { user: target_id.to_owned(), until_ms }, tip(group.rules(), tips, Vec::new())];
    Ok(Decision { group_id: group_id.to_owned(), changes, ..Decision::default() })
}

/// Invite results (`V2TIMGroupMemberOperationResult`).
mod result {
    /// Failed (an unknown user).
    pub const FAIL: i32 = 0;
    /// Done.
    pub const OK: i32 = 1;
    /// Invalid: already a member (invite), not a member (kick).
    pub const INVALID: i32 = 2;
    /// The group is full.
    pub const OVERLIMIT: i32 = 4;
}

fn invite(user: &str, group_id: &str, users: &[String], facts: &Facts, env: &Env) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    member_of(facts, group_id, user)?;
    if !rules.members_invite {
        return Err(denied(format!("members cannot invite users into a {} group", rules.name)));
    }
    let max = max_members(group, &env.member_limits);
    let mut count = facts.member_count;
    let mut added: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut results = Vec::with_capacity(users.len());
    for u in users {
        let result = if !facts.users.contains(u) {
            result::FAIL
        } else if facts.members.contains_key(u) || added.contains(u) {
            result::INVALID
        } else if max > 0 && count >= max {
            result::OVERLIMIT
        } else {
            changes.push(Change::AddMember {
                user: u.clone(),
                role: role::MEMBER,
                sees_history: rules.history_before_join,
            });
            added.push(u.clone());
            count += 1;
            result::OK
        };
        results.push(MemberOpResult { user_id: u.clone(), result });
    }
    if !added.is_empty() {
        changes.push(tip(rules, GroupTips::members(tip_type::INVITE, user, added), Vec::new()));
    }
    Ok(Decision { group_id: group_id.to_owned(), changes, results, ..Decision::default() })
}

fn kick(user: &str, group_id: &str, users: &[String], facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    let op = member_of(facts, group_id, user)?;
    if !rules.can_kick {
        return Err(denied(format!("members of a {} group cannot be kicked", rules.name)));
    }
    let mut results = Vec::with_capacity(users.len());
    let mut targets = Vec::new();
    for u in users {
        match facts.members.get(u) {
            None => results.push(MemberOpResult { user_id: u.clone(), result: result::INVALID }),
            Some(t) if !rules.may_kick(op.role, t.role) => return Err(denied(format!("you may not kick {u}"))),
            Some(_) => targets.push(u.clone()),
        }
    }
    let mut changes = Vec::new();
    if !targets.is_empty() {
        for u in &targets {
            // Their view ends with the tip that tells them (if it is stored).
            changes.push(Change::RemoveMember { user: u.clone(), sees_next_tip: rules.stored_tips });
            results.push(MemberOpResult { user_id: u.clone(), result: result::OK });
        }
        changes.push(tip(rules, GroupTips::members(tip_type::KICKED, user, targets.clone()), targets));
    }
    Ok(Decision { group_id: group_id.to_owned(), changes, results, ..Decision::default() })
}

fn set_role(user: &str, group_id: &str, target_id: &str, new_role: i32, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    let op = member_of(facts, group_id, user)?;
    if !rules.may_set_roles(op.role) {
        return Err(denied("only the owner of a Public or Meeting group may set roles"));
    }
    if new_role != role::ADMIN && new_role != role::MEMBER {
        return Err(invalid("role must be admin (300) or member (200)"));
    }
    let target = member_of(facts, group_id, target_id)?;
    if target.role == role::OWNER {
        return Err(denied("the owner's role is changed by transferring the group"));
    }
    let mut decision = Decision { group_id: group_id.to_owned(), ..Decision::default() };
    if target.role == new_role {
        return Ok(decision);
    }
    let kind = if new_role == role::ADMIN { tip_type::SET_ADMIN } else { tip_type::CANCEL_ADMIN };
    decision.changes = vec![
        Change::SetRole { user: target_id.to_owned(), role: new_role },
        tip(rules, GroupTips::members(kind, user, vec![target_id.to_owned()]), Vec::new()),
    ];
    Ok(decision)
}

fn transfer(user: &str, group_id: &str, target_id: &str, facts: &Facts) -> Result<Decision, Refusal> {
    let group = group_of(facts, group_id)?;
    let rules = group.rules();
    if group.info.owner != user {
        return Err(denied("only the owner may transfer the group"));
    }
    if !rules.can_transfer {
        return Err(denied(format!("a {} group cannot be transferred", rules.name)));
    }
    if target_id == user {
        return Err(invalid("you already own the group"));
    }
    member_of(facts, group_id, target_id)?;
    let tips = GroupTips {
        group_changes: vec![GroupChange { kind: info_change::OWNER, value: target_id.to_owned(), key: String::new() }],
        ..GroupTips::members(tip_type::GROUP_INFO_CHANGE, user, Vec::new())
    };
    let changes = vec![
        Change::SetRole { user: user.to_owned(), role: role::MEMBER },
        Change::SetRole { user: target_id.to_owned(), role: role::OWNER },
        Change::Profile(Profile { owner: Some(target_id.to_owned()), touch: true, ..Profile::default() }),
        tip(rules, tips, Vec::new()),
    ];
    Ok(Decision { group_id: group_id.to_owned(), changes, ..Decision::default() })
}

fn handle_application(
    user: &str,
    app_id: &str,
    accept: bool,
    reason: String,
    facts: &Facts,
    env: &Env,
) -> Result<Decision, Refusal> {
    let Some(app) = &facts.application else {
        return Err(invalid(format!("application {app_id} does not exist")));
    };
    let group = group_of(facts, &app.group_id)?;
    if !group.rules().may_approve(role_in(facts, user)) {
        return Err(denied("only the owner or an admin may handle applications"));
    }
    if app.handled {
        return Err(refused(code::SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED, "the application was already handled"));
    }
    let mut changes = Vec::new();
    if accept && !facts.members.contains_key(&app.applicant) {
        check_room(group, facts.member_count, 1, &env.member_limits)?;
        changes.push(Change::AddMember {
            user: app.applicant.clone(),
            role: role::MEMBER,
            sees_history: group.rules().history_before_join,
        });
        changes.push(tip(
            group.rules(),
            GroupTips::members(tip_type::JOIN, user, vec![app.applicant.clone()]),
            Vec::new(),
        ));
    }
    changes.push(Change::Handle {
        app_id: app_id.to_owned(),
        accepted: accept,
        handler: user.to_owned(),
        reason: reason.clone(),
    });
    let e = UserEvent::ApplicationProcessed {
        group_id: app.group_id.clone(),
        op_user: user.to_owned(),
        agree: accept,
        reason,
    };
    changes.push(event(&app.applicant, e));
    Ok(Decision { group_id: app.group_id.clone(), changes, ..Decision::default() })
}

fn recv_opt(user: &str, group_id: &str, opt: i32, facts: &Facts) -> Result<Decision, Refusal> {
    if !(0..=2).contains(&opt) {
        return Err(invalid("the receive option must be 0, 1 or 2"));
    }
    let group = group_of(facts, group_id)?;
    if group.rules().persistent_members {
        member_of(facts, group_id, user)?;
    }
    let mut decision = Decision { group_id: group_id.to_owned(), ..Decision::default() };
    // Only a change of an existing conversation row is told (a user with no row has nothing to
    // change).
    if facts.recv_opt.is_some_and(|current| current != opt) {
        let conv = oxim_proto::ids::ConvId::Group(group_id.to_owned());
        decision.changes = vec![
            Change::RecvOpt { user: user.to_owned(), opt },
            event(user, UserEvent::ConvRecvOpt { conv_id: conv, opt }),
        ];
    }
    Ok(decision)
}

fn write_attrs(
    user: &str,
    req: WriteAttrsReq,
    is_member: bool,
    max_per_sec: u32,
    facts: &Facts,
) -> Result<Decision, Refusal> {
    let group = group_of(facts, &req.group_id)?;
    let persistent = group.rules().persistent_members;
    if persistent && !facts.members.contains_key(user) || !persistent && !is_member {
        return Err(denied("only members may write group attributes"));
    }
    let mut attrs = group.attrs.clone();
    // Keys this write touches; a conflict is any of them written after the writer's view.
    let touched: Vec<String> = match req.mode {
        AttrWriteMode::Init => attrs.keys().chain(req.attrs.keys()).cloned().collect(),
        AttrWriteMode::Set => req.attrs.keys().cloned().collect(),
        AttrWriteMode::Delete => match &req.keys {
            Some(keys) => keys.clone(),
            None => attrs.keys().cloned().collect(),
        },
    };
    let whole_map = matches!(req.mode, AttrWriteMode::Init) || req.keys.is_none() && req.mode == AttrWriteMode::Delete;
    let conflict = touched.iter().any(|k| attrs.get(k).is_some_and(|(_, v)| *v > req.base_version))
        || whole_map && group.attr_version > req.base_version
        || req.base_version > group.attr_version;
    if conflict {
        return Err(refused(
            code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT,
            format!(
                "the attributes changed since version {} (now {}); read them and retry",
                req.base_version, group.attr_version
            ),
        ));
    }
    let version = group.attr_version + 1;
    match req.mode {
        AttrWriteMode::Init => {
            attrs = req.attrs.iter().map(|(k, v)| (k.clone(), (v.clone(), version))).collect();
        }
        AttrWriteMode::Set => {
            for (k, v) in &req.attrs {
                attrs.insert(k.clone(), (v.clone(), version));
            }
        }
        AttrWriteMode::Delete => match &req.keys {
            Some(keys) => keys.iter().for_each(|k| drop(attrs.remove(k))),
            None => attrs.clear(),
        },
    }
    check_attrs(&attrs)?;
    // The rate is checked last: only writes that would succeed count against it.
    if facts.attr_writes >= max_per_sec {
        return Err(refused(
            code::SVR_GROUP_ATTR_FREQUENCY_LIMIT,
            format!("at most {max_per_sec} attribute writes per second per group"),
        ));
    }
    let after = GroupRow { info: group.info.clone(), attrs: attrs.clone(), attr_version: version };
    Ok(Decision {
        group_id: req.group_id,
        changes: vec![Change::Attrs { attrs, version }],
        attrs: Some(after.attrs()),
        members: if persistent { facts.member_ids.clone() } else { Vec::new() },
        ..Decision::default()
    })
}

/// Whether `sender` (a member: `member`) may send a message into `group` at `now_ms`: not
/// muted, and not silenced by a whole-group mute unless an owner or administrator.
pub fn may_send(group: &GroupRow, member: Option<&MemberInfo>, sender: &str, now_ms: i64) -> Result<(), Refusal> {
    let group_id = &group.info.group_id;
    let member = member.ok_or_else(|| denied(format!("{sender} is not a member of {group_id}")))?;
    if member.mute_until * 1000 > now_ms {
        return Err(refused(
            code::SVR_GROUP_SHUTUP_DENY,
            format!("you are muted for {} more seconds", (member.mute_until * 1000 - now_ms) / 1000),
        ));
    }
    if group.info.all_muted && member.role < role::ADMIN {
        return Err(refused(code::SVR_GROUP_SHUTUP_DENY, "the whole group is muted"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use oxim_proto::group::{GroupInfo, group_type as gt};

    use super::*;

    const OWNER: i32 = role::OWNER;
    const ADMIN: i32 = role::ADMIN;
    const MEMBER: i32 = role::MEMBER;
    const NONE: i32 = role::UNDEFINED;
    const DENY: i32 = code::SVR_GROUP_PERMISSION_DENY;

    fn env() -> Env {
        Env { now_ms: 1_000_000, nonce: 0xabc, member_limits: MemberLimits::default() }
    }

    /// A group `g` of `kind` owned by "owner", with "admin" (where admins exist), "member" and
    /// "other" as stored members of the given roles, and "stranger" outside.
    fn facts(kind: &str, add_opt: i32) -> Facts {
        let info = GroupInfo {
            group_id: "g".into(),
            group_type: kind.into(),
            owner: "owner".into(),
            add_opt,
            ..GroupInfo::default()
        };
        let mut f =
            Facts { group: Some(GroupRow { info, attrs: BTreeMap::new(), attr_version: 0 }), ..Facts::default() };
        let stored = group_rules::of(kind).unwrap().persistent_members;
        for (user, r) in [("owner", OWNER), ("admin", ADMIN), ("member", MEMBER), ("other", MEMBER)] {
            if stored {
                f.members.insert(user.into(), MemberInfo { user_id: user.into(), role: r, ..MemberInfo::default() });
                f.member_ids.push(user.into());
            }
        }
        f.member_count = f.member_ids.len() as u32;
        f.users = ["owner", "admin", "member", "other", "stranger"].map(String::from).into();
        f
    }

    fn role_of(name: &str) -> i32 {
        match name {
            "owner" => OWNER,
            "admin" => ADMIN,
            "member" | "other" => MEMBER,
            _ => NONE,
        }
    }

    fn run(kind: &str, op: GroupOp, user: &str) -> Result<Decision, i32> {
        decide(op, user, &facts(kind, add_opt::AUTH), &env()).map_err(|r| r.code)
    }

    fn kick(target: &str) -> GroupOp {
        GroupOp::Kick { group_id: "g".into(), users: vec![target.into()] }
    }

    fn mute(target: &str) -> GroupOp {
        GroupOp::Mute { group_id: "g".into(), user_id: target.into(), seconds: 60 }
    }

    fn set_info(name: &str) -> GroupOp {
        GroupOp::SetInfo(SetGroupInfoReq {
            group_id: "g".into(),
            name: Some(name.into()),
            introduction: None,
            notification: None,
            face_url: None,
            add_opt: None,
            all_muted: None,
            custom_info: None,
        })
    }

    /// V2TIM's group-type table, row by row: who may do what in which type (Ok, or the code).
    #[test]
    fn the_group_type_table() {
        let ok = |r: Result<Decision, i32>| r.map(|_| ());
        let cases: Vec<(&str, &str, GroupOp, Result<(), i32>)> = vec![
            // Work: members invite and edit, nobody applies, mutes or appoints admins; the
            // owner may quit (leaving it ownerless) but not dismiss from a client.
            (gt::WORK, "member", GroupOp::Invite { group_id: "g".into(), users: vec!["stranger".into()] }, Ok(())),
            (gt::WORK, "member", set_info("new"), Ok(())),
            (gt::WORK, "stranger", GroupOp::Join { group_id: "g".into(), message: String::new() }, Err(DENY)),
            (gt::WORK, "owner", mute("member"), Err(DENY)),
            (gt::WORK, "owner", kick("member"), Ok(())),
            (gt::WORK, "member", kick("other"), Err(DENY)),
            (gt::WORK, "owner", GroupOp::Quit { group_id: "g".into() }, Ok(())),
            (gt::WORK, "owner", GroupOp::Dismiss { group_id: "g".into() }, Err(DENY)),
            (
                gt::WORK,
                "owner",
                GroupOp::SetRole { group_id: "g".into(), user_id: "member".into(), role: ADMIN },
                Err(DENY),
            ),
            (gt::WORK, "owner", GroupOp::Transfer { group_id: "g".into(), user_id: "member".into() }, Ok(())),
            // Public: only applications (or add_opt ANY) let users in; owner and admins
            // manage ordinary members; admins do not manage admins; the owner cannot quit.
            (gt::PUBLIC, "member", GroupOp::Invite { group_id: "g".into(), users: vec!["stranger".into()] }, Err(DENY)),
            (gt::PUBLIC, "stranger", GroupOp::Join { group_id: "g".into(), message: "hi".into() }, Ok(())),
            (
                gt::PUBLIC,
                "member",
                GroupOp::Join { group_id: "g".into(), message: String::new() },
                Err(code::SVR_GROUP_ALLREADY_MEMBER),
            ),
            (gt::PUBLIC, "member", set_info("new"), Err(DENY)),
            (gt::PUBLIC, "admin", set_info("new"), Ok(())),
            (gt::PUBLIC, "admin", kick("member"), Ok(())),
            (gt::PUBLIC, "admin", kick("owner"), Err(DENY)),
            (gt::PUBLIC, "owner", kick("admin"), Ok(())),
            (gt::PUBLIC, "admin", mute("member"), Ok(())),
            (gt::PUBLIC, "admin", mute("owner"), Err(DENY)),
            (gt::PUBLIC, "member", mute("other"), Err(DENY)),
            (gt::PUBLIC, "owner", GroupOp::Quit { group_id: "g".into() }, Err(code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT)),
            (gt::PUBLIC, "member", GroupOp::Quit { group_id: "g".into() }, Ok(())),
            (gt::PUBLIC, "stranger", GroupOp::Quit { group_id: "g".into() }, Err(DENY)),
            (gt::PUBLIC, "admin", GroupOp::Dismiss { group_id: "g".into() }, Err(DENY)),
            (gt::PUBLIC, "owner", GroupOp::Dismiss { group_id: "g".into() }, Ok(())),
            (
                gt::PUBLIC,
                "owner",
                GroupOp::SetRole { group_id: "g".into(), user_id: "member".into(), role: ADMIN },
                Ok(()),
            ),
            (
                gt::PUBLIC,
                "admin",
                GroupOp::SetRole { group_id: "g".into(), user_id: "member".into(), role: ADMIN },
                Err(DENY),
            ),
            (
                gt::PUBLIC,
                "owner",
                GroupOp::SetRole { group_id: "g".into(), user_id: "member".into(), role: OWNER },
                Err(10004),
            ),
            (gt::PUBLIC, "admin", GroupOp::Transfer { group_id: "g".into(), user_id: "member".into() }, Err(DENY)),
            // Meeting: anyone joins at once; same management as Public.
            (gt::MEETING, "stranger", GroupOp::Join { group_id: "g".into(), message: String::new() }, Ok(())),
            (gt::MEETING, "admin", kick("member"), Ok(())),
            // AVChatRoom: nobody is kicked, nothing is transferred, only the owner edits.
            (gt::AVCHATROOM, "owner", kick("member"), Err(DENY)),
            (gt::AVCHATROOM, "owner", GroupOp::Transfer { group_id: "g".into(), user_id: "member".into() }, Err(DENY)),
            (gt::AVCHATROOM, "owner", set_info("new"), Ok(())),
            (gt::AVCHATROOM, "member", set_info("new"), Err(DENY)),
            (gt::AVCHATROOM, "owner", GroupOp::Dismiss { group_id: "g".into() }, Ok(())),
        ];
        for (kind, user, op, want) in cases {
            let what = format!("{kind}: {user} ({}) {op:?}", role_of(user));
            assert_eq!(ok(run(kind, op, user)), want, "{what}");
        }
        assert_eq!(run(gt::PUBLIC, kick("member"), "ghost").unwrap_err(), DENY);
        let missing = decide(kick("member"), "owner", &Facts::default(), &env()).unwrap_err();
        assert_eq!(missing.code, code::SVR_GROUP_NOT_FOUND);
    }

    #[test]
    fn stored_tips_and_views_follow_the_type() {
        // Work and Public store tips; a kicked member's view ends with the tip that tells them.
        let d = run(gt::PUBLIC, kick("member"), "owner").unwrap();
        assert_eq!(d.results, [MemberOpResult { user_id: "member".into(), result: 1 }]);
        assert!(matches!(&d.changes[0], Change::RemoveMember { user, sees_next_tip: true } if user == "member"));
        assert!(matches!(&d.changes[1], Change::Tip { stored: true, extra, .. } if extra == &["member".to_string()]));
        // Meeting: online tips; new members see the history from before they joined.
        let d = run(gt::MEETING, GroupOp::Join { group_id: "g".into(), message: String::new() }, "stranger").unwrap();
        assert!(d.joined);
        assert!(matches!(&d.changes[0], Change::AddMember { sees_history: true, role: MEMBER, .. }));
        assert!(matches!(&d.changes[1], Change::Tip { stored: false, .. }));
        let d = run(gt::MEETING, kick("member"), "owner").unwrap();
        assert!(matches!(&d.changes[0], Change::RemoveMember { sees_next_tip: false, .. }));
        // Work: the owner quits; the group is left without an owner, and the owner is told.
        let d = run(gt::WORK, GroupOp::Quit { group_id: "g".into() }, "owner").unwrap();
        assert!(matches!(&d.changes[1], Change::Profile(Profile { owner: Some(o), touch: false, .. }) if o.is_empty()));
        assert!(matches!(&d.changes[3], Change::Event { user, event: UserEvent::QuitGroup { .. } } if user == "owner"));
    }

    #[test]
    fn joining_a_public_group_follows_its_join_option() {
        let join = || GroupOp::Join { group_id: "g".into(), message: "let me in".into() };
        let mut f = facts(gt::PUBLIC, add_opt::AUTH);
        f.approvers = vec!["owner".into(), "admin".into()];
        let d = decide(join(), "stranger", &f, &env()).unwrap();
        assert!(!d.joined);
        assert!(
            matches!(&d.changes[0], Change::Apply { app_id, user, .. } if app_id == "app-0000000000000abc" && user == "stranger")
        );
        assert_eq!(d.changes.len(), 3, "the application and one event per approver");
        f.pending_application = true;
        let again = decide(join(), "stranger", &f, &env()).unwrap();
        assert!(!again.joined && again.changes.is_empty(), "one pending application at a time");
        let d = decide(join(), "stranger", &facts(gt::PUBLIC, add_opt::ANY), &env()).unwrap();
        assert!(d.joined && matches!(&d.changes[0], Change::AddMember { sees_history: false, .. }));
        let forbid = decide(join(), "stranger", &facts(gt::PUBLIC, add_opt::FORBID), &env()).unwrap_err();
        assert_eq!(forbid.code, DENY);
        let mut full = facts(gt::PUBLIC, add_opt::ANY);
        full.group.as_mut().unwrap().info.member_max_count = 4;
        assert_eq!(decide(join(), "stranger", &full, &env()).unwrap_err().code, code::SVR_GROUP_FULL_MEMBER_COUNT);
    }

    #[test]
    fn invite_results_per_user() {
        let mut f = facts(gt::WORK, add_opt::ANY);
        f.users.insert("newbie".into());
        f.group.as_mut().unwrap().info.member_max_count = 5;
        let users = ["ghost", "member", "stranger", "stranger", "newbie"].map(String::from).to_vec();
        let d = decide(GroupOp::Invite { group_id: "g".into(), users }, "member", &f, &env()).unwrap();
        let results: Vec<i32> = d.results.iter().map(|r| r.result).collect();
        // unknown user, already a member, added, listed twice, group full.
        assert_eq!(results, [0, 2, 1, 2, 4]);
        assert!(
            matches!(&d.changes[..], [Change::AddMember { .. }, Change::Tip { tips, .. }] if tips.member_list == ["stranger"])
        );
    }

    #[test]
    fn create_checks_and_makes_members() {
        let req = |kind: &str, id: &str, members: &[(&str, i32)]| {
            super::super::create_req(kind, id, add_opt::FORBID, members)
        };
        let fresh = Facts { users: ["bob", "carol"].map(String::from).into(), ..Facts::default() };
        let d = decide(GroupOp::Create(req(gt::PUBLIC, "", &[("bob", ADMIN)])), "alice", &fresh, &env()).unwrap();
        assert_eq!(d.group_id, "@TGS#0000000000000abc");
        assert_eq!(needs(&GroupOp::Create(req(gt::PUBLIC, "", &[])), "alice", &env()).group.unwrap(), d.group_id);
        assert!(matches!(&d.changes[0], Change::Create { add_opt: add_opt::FORBID, max_members: 200, .. }));
        assert!(matches!(&d.changes[1], Change::AddMember { user, role: OWNER, .. } if user == "alice"));
        assert!(matches!(&d.changes[2], Change::AddMember { user, role: ADMIN, .. } if user == "bob"));
        // Work groups have no admins and ignore the join option.
        let code = |r: CreateGroupReq, f: &Facts| {
            decide(GroupOp::Create(r), "alice", f, &env()).map(|_| ()).map_err(|e| e.code)
        };
        assert_eq!(code(req(gt::WORK, "", &[("bob", ADMIN)]), &fresh), Err(10004));
        let d = decide(GroupOp::Create(req(gt::WORK, "w", &[])), "alice", &fresh, &env()).unwrap();
        assert!(matches!(&d.changes[0], Change::Create { add_opt: add_opt::ANY, .. }));
        assert_eq!(code(req(gt::WORK, "", &[("dave", MEMBER)]), &fresh), Err(code::SVR_GROUP_ACCOUNT_NOT_FOUND));
        assert_eq!(code(req(gt::WORK, "", &[("alice", MEMBER)]), &fresh), Err(code::SVR_GROUP_ACCOUNT_NOT_FOUND));
        assert_eq!(code(req(gt::AVCHATROOM, "", &[("bob", MEMBER)]), &fresh), Err(10004));
        assert_eq!(code(req(gt::WORK, "@TGS#mine", &[]), &fresh), Err(code::SVR_GROUP_INVALID_GROUPID));
        assert_eq!(code(req("Private", "", &[]), &fresh), Err(10004));
        assert_eq!(code(req(gt::WORK, "g", &[]), &facts(gt::WORK, 0)), Err(code::SVR_GROUP_GROUPID_IN_USED));
        let mut small = req(gt::WORK, "", &[("bob", MEMBER), ("carol", MEMBER)]);
        small.max_member_count = 2;
        assert_eq!(code(small, &fresh), Err(code::SVR_GROUP_MEMBER_COUNT_LIMIT));
        // An AVChatRoom has no stored members: only the creator's event.
        let d = decide(GroupOp::Create(req(gt::AVCHATROOM, "live", &[])), "alice", &fresh, &env()).unwrap();
        assert!(matches!(&d.changes[..], [Change::Create { .. }, Change::Event { .. }]));
    }

    #[test]
    fn applications_are_handled_once_by_owner_or_admins() {
        let handle = |accept| GroupOp::HandleApplication { app_id: "app-1".into(), accept, reason: "ok".into() };
        let mut f = facts(gt::PUBLIC, add_opt::AUTH);
        f.application = Some(Application { group_id: "g".into(), applicant: "stranger".into(), handled: false });
        let d = decide(handle(true), "admin", &f, &env()).unwrap();
        assert!(matches!(&d.changes[0], Change::AddMember { user, .. } if user == "stranger"));
        assert!(matches!(&d.changes[2], Change::Handle { accepted: true, .. }));
        assert!(matches!(&d.changes[3], Change::Event { user, .. } if user == "stranger"));
        let refused = decide(handle(false), "owner", &f, &env()).unwrap();
        assert!(matches!(&refused.changes[..], [Change::Handle { accepted: false, .. }, Change::Event { .. }]));
        assert_eq!(decide(handle(true), "member", &f, &env()).unwrap_err().code, DENY);
        f.application.as_mut().unwrap().handled = true;
        assert_eq!(
            decide(handle(true), "owner", &f, &env()).unwrap_err().code,
            code::SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED
        );
        f.application = None;
        assert_eq!(decide(handle(true), "owner", &f, &env()).unwrap_err().code, 10004);
    }

    #[test]
    fn attribute_writes_conflict_on_stale_versions_and_are_rate_limited() {
        let write = |mode, attrs: &[(&str, &str)], base| GroupOp::WriteAttrs {
            req: WriteAttrsReq {
                group_id: "g".into(),
                mode,
                attrs: attrs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
                keys: None,
                base_version: base,
            },
            is_member: false,
            max_per_sec: 5,
        };
        let mut f = facts(gt::WORK, 0);
        let row = f.group.as_mut().unwrap();
        row.attrs.insert("a".into(), ("1".into(), 3));
        row.attr_version = 3;
        let d = decide(write(AttrWriteMode::Set, &[("b", "2")], 3), "member", &f, &env()).unwrap();
        assert_eq!(d.attrs.as_ref().unwrap().version, 4);
        assert_eq!(d.members.len(), 4, "stored members hear about it");
        assert!(matches!(&d.changes[..], [Change::Attrs { version: 4, attrs }] if attrs.len() == 2));
        // Setting a key written after the writer's view, or resetting the whole map, conflicts.
        let code = |op, f: &Facts| decide(op, "member", f, &env()).unwrap_err().code;
        assert_eq!(code(write(AttrWriteMode::Set, &[("a", "x")], 2), &f), code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT);
        assert_eq!(code(write(AttrWriteMode::Init, &[], 2), &f), code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT);
        assert_eq!(code(write(AttrWriteMode::Set, &[("b", "x")], 9), &f), code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT);
        assert!(decide(write(AttrWriteMode::Set, &[("b", "x")], 2), "member", &f, &env()).is_ok(), "b is untouched");
        assert_eq!(code(write(AttrWriteMode::Set, &[("b", "2")], 3), &Facts { attr_writes: 5, ..f.clone() }), 10049);
        assert_eq!(decide(write(AttrWriteMode::Set, &[("b", "2")], 3), "stranger", &f, &env()).unwrap_err().code, DENY);
        // In an AVChatRoom membership is the caller's word (the rooms are in memory).
        let room = facts(gt::AVCHATROOM, 0);
        assert_eq!(code(write(AttrWriteMode::Set, &[("b", "2")], 0), &room), DENY);
        let GroupOp::WriteAttrs { req, max_per_sec, .. } = write(AttrWriteMode::Set, &[("b", "2")], 0) else {
            unreachable!()
        };
        let d = decide(GroupOp::WriteAttrs { req, is_member: true, max_per_sec }, "member", &room, &env()).unwrap();
        assert!(d.members.is_empty());
    }

    #[test]
    fn mutes_and_receive_options() {
        let d = run(gt::PUBLIC, mute("member"), "owner").unwrap();
        assert!(matches!(&d.changes[0], Change::Mute { until_ms: 1_060_000, .. }));
        let mut f = facts(gt::PUBLIC, 0);
        let opt = |o| GroupOp::RecvOpt { group_id: "g".into(), opt: o };
        f.recv_opt = Some(0);
        assert_eq!(decide(opt(1), "member", &f, &env()).unwrap().changes.len(), 2, "a change and its event");
        assert!(decide(opt(0), "member", &f, &env()).unwrap().changes.is_empty(), "no change, no event");
        assert_eq!(decide(opt(3), "member", &f, &env()).unwrap_err().code, 10004);
        assert_eq!(decide(opt(1), "stranger", &f, &env()).unwrap_err().code, DENY);
        // Sending: muted members and whole-group mutes (owner and admins excepted).
        let mut group = f.group.clone().unwrap();
        let member =
            |mute_until: i64, r: i32| MemberInfo { user_id: "u".into(), role: r, mute_until, ..MemberInfo::default() };
        assert!(may_send(&group, Some(&member(0, MEMBER)), "u", 1_000_000).is_ok());
        assert_eq!(
            may_send(&group, Some(&member(1_001, MEMBER)), "u", 1_000_000).unwrap_err().code,
            code::SVR_GROUP_SHUTUP_DENY
        );
        assert_eq!(may_send(&group, None, "u", 0).unwrap_err().code, DENY);
        group.info.all_muted = true;
        assert_eq!(may_send(&group, Some(&member(0, MEMBER)), "u", 0).unwrap_err().code, code::SVR_GROUP_SHUTUP_DENY);
        assert!(may_send(&group, Some(&member(0, ADMIN)), "u", 0).is_ok());
    }
}
