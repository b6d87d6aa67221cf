//! Group requests (`group.*`).
//!
//! Groups with stored membership (Work, Public, Meeting) are changed by one store write per
//! request; the group-type rules are decided by [`crate::domain::groups`] inside it. AVChatRoom
//! membership, mutes and message rate live in memory ([`crate::domain::rooms::Rooms`]); their
//! profile and attributes are stored like any group's. Tips and events a write appends are
//! pushed to every session of their recipients, the requesting one included (no device knows
//! their seq before it arrives).

use oxim_proto::group::{
    ApplicationsRes, AttrWriteMode, CreateGroupReq, CreateGroupRes, GetAttrsReq, GroupAttrs, GroupInfoResult, GroupReq,
    GroupTips, GroupUsersReq, GroupsInfoReq, GroupsInfoRes, HandleApplicationReq, JoinGroupReq, JoinGroupRes,
    JoinedGroupsRes, MemberChange, MemberOpRes, MembersInfoRes, MembersReq, MembersRes, MuteReq, OnlineCountRes,
    RecvOptReq, RoleReq, SetGroupInfoReq, SetMemberReq, WriteAttrsReq, group_type, limits, role, tip_type,
};
use oxim_proto::message::{Elem, UserEvent};
use oxim_proto::payload::{SendMsgRes, WireMessage};
use oxim_proto::{code, push};

use super::{Caller, Ctx, Effect, Effects, Push, PushBody, Reply, appended_pushes, refusal};
use crate::domain::group_rules;
use crate::domain::groups::{GroupOp, GroupRow};
use crate::domain::refusal::Refusal;
use crate::store::GroupOutcome;

/// What a group write causes: stored tips and events to every session of their recipients,
/// online tips to the members online.
fn outcome_pushes(outcome: &mut GroupOutcome) -> Effects {
    let mut effects = appended_pushes(std::mem::take(&mut outcome.written.appended), true);
    for (msg, users) in std::mem::take(&mut outcome.online_tips) {
        effects.push(Effect::msg(msg, users, true));
    }
    effects
}

/// Runs a group write for the caller.
async fn write(ctx: &Ctx, caller: &Caller, op: GroupOp) -> Result<(GroupOutcome, Effects), Refusal> {
    let mut outcome = ctx.write(|s| s.group_write(&caller.user, op)).await.map_err(refusal)?;
    let effects = outcome_pushes(&mut outcome);
    Ok((outcome, effects))
}

fn done(effects: Effects) -> Reply<serde_json::Value> {
    Ok((serde_json::json!({}), effects))
}

/// An online-only message in a group, from `sender`.
fn online_msg(ctx: &Ctx, group_id: &str, sender: &str, elem: Elem) -> WireMessage {
    let mut msg = WireMessage::new("", elem);
    msg.sender = sender.to_owned();
    msg.group_id = group_id.to_owned();
    msg.online_only = true;
    msg.time_ms = ctx.now_ms();
    msg
}

/// A group tip for a room (never stored), to everyone in it, unless the room is busy: room
/// notices count as low-priority messages.
fn room_tip(
    ctx: &Ctx,
    group_id: &str,
    op_user: &str,
    tip: i32,
    users: Vec<String>,
    changes: Vec<MemberChange>,
) -> Effects {
    if !ctx.rooms.admit_notice(group_id, ctx.room_rate(), ctx.clock.instant()) {
        return Vec::new();
    }
    let tips = GroupTips {
        member_changes: changes,
        member_count: ctx.rooms.count(group_id),
        ..GroupTips::members(tip, op_user, users)
    };
    let msg = online_msg(ctx, group_id, op_user, Elem::GroupTips { tips });
    vec![Effect::msg(msg, ctx.rooms.members(group_id), true)]
}

/// The stored group, or 10010.
async fn group_or_refuse(ctx: &Ctx, group_id: &str) -> Result<GroupRow, Refusal> {
    if !oxim_proto::group::is_valid_group_id(group_id) {
        return Err(Refusal::new(code::SVR_GROUP_INVALID_GROUPID, format!("{group_id:?} is not a valid group id")));
    }
    ctx.store
        .group(group_id)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist")))
}

fn is_room(group: &GroupRow) -> bool {
    !group.rules().persistent_members
}

/// Whether `user` is in `group` (room membership for AVChatRooms, stored otherwise).
async fn is_member(ctx: &Ctx, group: &GroupRow, user: &str) -> Result<bool, Refusal> {
    if is_room(group) {
        return Ok(ctx.rooms.is_member(&group.info.group_id, user));
    }
    let found = ctx.store.group_members_info(&group.info.group_id, vec![user.to_owned()]).await.map_err(refusal)?;
    Ok(!found.is_empty())
}

async fn member_or_refuse(ctx: &Ctx, group: &GroupRow, user: &str) -> Result<(), Refusal> {
    if is_member(ctx, group, user).await? {
        Ok(())
    } else {
        Err(Refusal::new(
            code::SVR_GROUP_PERMISSION_DENY,
            format!("you are not a member of group {}", group.info.group_id),
        ))
    }
}

fn check_users(users: &[String]) -> Result<(), Refusal> {
    if users.is_empty() || users.len() > limits::BATCH_USERS {
        return Err(Refusal::new(
            code::SVR_GROUP_INVALID_PARAMETERS,
            format!("name 1 to {} users", limits::BATCH_USERS),
        ));
    }
    Ok(())
}

/// A member's message to a group (called by `msg.send` once the message passed its checks):
/// online to a room (AVChatRoom), online to the members (online-only), otherwise stored in the
/// group's conversation. Outside AVChatRooms, the message takes a token of the caller's
/// message rate.
pub(super) async fn send(ctx: &Ctx, caller: &Caller, msg: WireMessage) -> Reply<SendMsgRes> {
    let group = group_or_refuse(ctx, &msg.group_id).await?;
    if !group.rules().stores_messages {
        return send_to_room(ctx, &group, msg);
    }
    // Group conversations are keyed apart from C2C ones (a user id has no space).
    let conv = format!("group {}", msg.group_id);
    caller.take_send_token(ctx.now_ms(), (!msg.online_only).then_some((conv.as_str(), msg.msg_id.as_str())))?;
    if msg.online_only {
        // Checked like any group message, then pushed to the members online and not stored.
        let members = ctx.store.group_members(&msg.group_id).await.map_err(refusal)?.unwrap_or_default();
        if !members.contains(&msg.sender) {
            return Err(Refusal::new(
                code::SVR_GROUP_PERMISSION_DENY,
                format!("you are not a member of {}", msg.group_id),
            ));
        }
        let mut msg = msg;
        msg.time_ms = ctx.now_ms();
        let res = SendMsgRes { seq: 0, time_ms: msg.time_ms };
        return Ok((res, vec![Effect::msg(msg, members, false)]));
    }
    let appended = ctx.write(|s| s.group_send(msg)).await.map_err(refusal)?;
    let res = SendMsgRes { seq: appended.msg.seq, time_ms: appended.msg.time_ms };
    Ok((res, appended_pushes([appended], false)))
}

/// A member's message into an AVChatRoom: online only, rate-limited, never stored. Every
/// session in the room gets it but the sending connection.
fn send_to_room(ctx: &Ctx, group: &GroupRow, mut msg: WireMessage) -> Reply<SendMsgRes> {
    let gid = &group.info.group_id;
    if !ctx.rooms.is_member(gid, &msg.sender) {
        return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("you are not in room {gid}")));
    }
    let now = ctx.now_ms();
    let mute_until = ctx.rooms.mute_until(gid, &msg.sender);
    if mute_until > now {
        return Err(Refusal::new(
            code::SVR_GROUP_SHUTUP_DENY,
            format!("you are muted for {} more seconds", (mute_until - now) / 1000),
        ));
    }
    if group.info.all_muted && group.info.owner != msg.sender {
        return Err(Refusal::new(code::SVR_GROUP_SHUTUP_DENY, "the whole room is muted"));
    }
    if !ctx.rooms.admit(gid, msg.priority, ctx.room_rate(), ctx.clock.instant()) {
        return Err(Refusal::new(
            code::SVR_GROUP_SEND_MSG_FREQ_LIMIT,
            format!("room {gid} is at its message rate; low-priority messages are refused first"),
        ));
    }
    msg.online_only = true;
    msg.seq = 0;
    msg.time_ms = now;
    let res = SendMsgRes { seq: 0, time_ms: now };
    let members = ctx.rooms.members(gid);
    Ok((res, vec![Effect::msg(msg, members, false)]))
}

/// Handles `group.create`.
pub async fn create(ctx: &Ctx, caller: &Caller, req: CreateGroupReq) -> Reply<CreateGroupRes> {
    let is_room = req.group_type == group_type::AVCHATROOM;
    let (outcome, effects) = write(ctx, caller, GroupOp::Create(req)).await?;
    if is_room {
        // The creator is in the room from the start (V2TIM's native SDKs do this).
        ctx.rooms.join(&outcome.group_id, &caller.user, ctx.now_ms());
    }
    Ok((CreateGroupRes { group_id: outcome.group_id }, effects))
}

/// Handles `group.join`.
pub async fn join(ctx: &Ctx, caller: &Caller, req: JoinGroupReq) -> Reply<JoinGroupRes> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    if is_room(&group) {
        // Joining a room again (the SDK does after every reconnect) is not an error.
        let mut effects = Vec::new();
        if ctx.rooms.join(&req.group_id, &caller.user, ctx.now_ms()) {
            effects = room_tip(ctx, &req.group_id, &caller.user, tip_type::JOIN, vec![caller.user.clone()], Vec::new());
        }
        return Ok((JoinGroupRes { joined: true, group_type: group.info.group_type }, effects));
    }
    let op = GroupOp::Join { group_id: req.group_id, message: req.message };
    let (outcome, effects) = write(ctx, caller, op).await?;
    Ok((JoinGroupRes { joined: outcome.joined, group_type: group.info.group_type }, effects))
}

/// Handles `group.quit`.
pub async fn quit(ctx: &Ctx, caller: &Caller, req: GroupReq) -> Reply<serde_json::Value> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    if is_room(&group) {
        if group.info.owner == caller.user {
            return Err(Refusal::new(
                code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT,
                "the owner cannot quit an AVChatRoom; dismiss it",
            ));
        }
        if !ctx.rooms.quit(&req.group_id, &caller.user) {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("you are not in room {}", req.group_id)));
        }
        return done(room_tip(ctx, &req.group_id, &caller.user, tip_type::QUIT, vec![caller.user.clone()], Vec::new()));
    }
    let (_, effects) = write(ctx, caller, GroupOp::Quit { group_id: req.group_id }).await?;
    done(effects)
}

/// Handles `group.dismiss`.
pub async fn dismiss(ctx: &Ctx, caller: &Caller, req: GroupReq) -> Reply<serde_json::Value> {
    let (_, mut effects) = write(ctx, caller, GroupOp::Dismiss { group_id: req.group_id.clone() }).await?;
    // A room's members are told online; the owner's devices got the stored event.
    let others: Vec<String> = ctx.rooms.close(&req.group_id).into_iter().filter(|u| *u != caller.user).collect();
    if !others.is_empty() {
        let event = UserEvent::GroupDismissed { group_id: req.group_id.clone(), op_user: caller.user.clone() };
        let msg = online_msg(ctx, &req.group_id, &caller.user, Elem::Event { event });
        effects.push(Effect::msg(msg, others, true));
    }
    done(effects)
}

/// Handles `group.info`.
pub async fn info(ctx: &Ctx, caller: &Caller, req: GroupsInfoReq) -> Reply<GroupsInfoRes> {
    if req.group_ids.is_empty() || req.group_ids.len() > limits::INFO_BATCH {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("ask for 1 to {} groups", limits::INFO_BATCH)));
    }
    let infos = ctx.store.groups_info(&caller.user, req.group_ids.clone()).await.map_err(refusal)?;
    let results = req
        .group_ids
        .iter()
        .zip(infos)
        .map(|(gid, info)| match info {
            Some(mut info) => {
                if info.group_type == group_type::AVCHATROOM {
                    info.member_count = ctx.rooms.count(gid);
                    if ctx.rooms.is_member(gid, &caller.user) {
                        info.role = if info.owner == caller.user { role::OWNER } else { role::MEMBER };
                    }
                }
                if info.role != role::UNDEFINED {
                    return GroupInfoResult { code: 0, desc: String::new(), info };
                }
                // A non-member (a former member too) reads what the group type shows outsiders.
                match group_rules::of(&info.group_type).and_then(|rules| rules.outsider_view(info)) {
                    Some(info) => GroupInfoResult { code: 0, desc: String::new(), info },
                    None => GroupInfoResult {
                        code: code::SVR_GROUP_PERMISSION_DENY,
                        desc: format!("only members may read group {gid}"),
                        info: oxim_proto::group::GroupInfo { group_id: gid.clone(), ..Default::default() },
                    },
                }
            }
            None => GroupInfoResult {
                code: code::SVR_GROUP_NOT_FOUND,
                desc: format!("group {gid} does not exist"),
                info: oxim_proto::group::GroupInfo { group_id: gid.clone(), ..Default::default() },
            },
        })
        .collect();
    Ok((GroupsInfoRes { results }, Vec::new()))
}

/// Handles `group.joined`.
pub async fn joined(ctx: &Ctx, caller: &Caller, _req: serde_json::Value) -> Reply<JoinedGroupsRes> {
    let groups = ctx.store.joined_groups(&caller.user).await.map_err(refusal)?;
    Ok((JoinedGroupsRes { groups }, Vec::new()))
}

/// Handles `group.set_info`.
pub async fn set_info(ctx: &Ctx, caller: &Caller, req: SetGroupInfoReq) -> Reply<serde_json::Value> {
    let group_id = req.group_id.clone();
    let op = GroupOp::SetInfo(req);
    let mut outcome = ctx.write(|s| s.group_write(&caller.user, op)).await.map_err(refusal)?;
    let mut effects = appended_pushes(std::mem::take(&mut outcome.written.appended), true);
    // A room's profile change goes to whoever is in the room (its members are not stored).
    let in_room = ctx.rooms.count(&group_id) > 0;
    for (msg, users) in outcome.online_tips {
        let to = if in_room { ctx.rooms.members(&group_id) } else { users };
        effects.push(Effect::msg(msg, to, true));
    }
    done(effects)
}

/// Handles `group.members`.
pub async fn members(ctx: &Ctx, caller: &Caller, req: MembersReq) -> Reply<MembersRes> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    member_or_refuse(ctx, &group, &caller.user).await?;
    let (members, next_seq) = if is_room(&group) {
        ctx.rooms.page(&req.group_id, &group.info.owner, req.next_seq, limits::MEMBER_PAGE)
    } else {
        ctx.store
            .group_member_page(&req.group_id, req.filter, req.next_seq, limits::MEMBER_PAGE)
            .await
            .map_err(refusal)?
    };
    Ok((MembersRes { members, next_seq }, Vec::new()))
}

/// Handles `group.members_info`.
pub async fn members_info(ctx: &Ctx, caller: &Caller, req: GroupUsersReq) -> Reply<MembersInfoRes> {
    check_users(&req.user_ids)?;
    let group = group_or_refuse(ctx, &req.group_id).await?;
    member_or_refuse(ctx, &group, &caller.user).await?;
    let members = if is_room(&group) {
        ctx.rooms.members_info(&req.group_id, &group.info.owner, &req.user_ids)
    } else {
        ctx.store.group_members_info(&req.group_id, req.user_ids).await.map_err(refusal)?
    };
    Ok((MembersInfoRes { members }, Vec::new()))
}

/// Handles `group.set_member`.
pub async fn set_member(ctx: &Ctx, caller: &Caller, req: SetMemberReq) -> Reply<serde_json::Value> {
    let (_, effects) = write(ctx, caller, GroupOp::SetMember(req)).await?;
    done(effects)
}

/// Handles `group.mute`.
pub async fn mute(ctx: &Ctx, caller: &Caller, req: MuteReq) -> Reply<serde_json::Value> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    if is_room(&group) {
        // In a room only the owner mutes (there are no admins), and only someone in the room.
        if group.info.owner != caller.user || req.user_id == caller.user {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, "only the owner may mute in an AVChatRoom"));
        }
        let until = if req.seconds == 0 { 0 } else { ctx.now_ms() + i64::from(req.seconds) * 1000 };
        if !ctx.rooms.mute(&req.group_id, &req.user_id, until) {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("{} is not in the room", req.user_id)));
        }
        let change = MemberChange { user_id: req.user_id.clone(), mute_time: i64::from(req.seconds) };
        let kind = tip_type::MEMBER_INFO_CHANGE;
        return done(room_tip(ctx, &req.group_id, &caller.user, kind, vec![req.user_id], vec![change]));
    }
    let op = GroupOp::Mute { group_id: req.group_id, user_id: req.user_id, seconds: req.seconds };
    let (_, effects) = write(ctx, caller, op).await?;
    done(effects)
}

/// Handles `group.invite`.
pub async fn invite(ctx: &Ctx, caller: &Caller, req: GroupUsersReq) -> Reply<MemberOpRes> {
    check_users(&req.user_ids)?;
    let op = GroupOp::Invite { group_id: req.group_id, users: req.user_ids };
    let (outcome, effects) = write(ctx, caller, op).await?;
    Ok((MemberOpRes { results: outcome.results }, effects))
}

/// Handles `group.kick`.
pub async fn kick(ctx: &Ctx, caller: &Caller, req: GroupUsersReq) -> Reply<MemberOpRes> {
    check_users(&req.user_ids)?;
    let op = GroupOp::Kick { group_id: req.group_id, users: req.user_ids };
    let (outcome, effects) = write(ctx, caller, op).await?;
    Ok((MemberOpRes { results: outcome.results }, effects))
}

/// Handles `group.set_role`.
pub async fn set_role(ctx: &Ctx, caller: &Caller, req: RoleReq) -> Reply<serde_json::Value> {
    let op = GroupOp::SetRole { group_id: req.group_id, user_id: req.user_id, role: req.role };
    let (_, effects) = write(ctx, caller, op).await?;
    done(effects)
}

/// Handles `group.transfer`.
pub async fn transfer(ctx: &Ctx, caller: &Caller, req: RoleReq) -> Reply<serde_json::Value> {
    let op = GroupOp::Transfer { group_id: req.group_id, user_id: req.user_id };
    let (_, effects) = write(ctx, caller, op).await?;
    done(effects)
}

/// Handles `group.applications`.
pub async fn applications(ctx: &Ctx, caller: &Caller, _req: serde_json::Value) -> Reply<ApplicationsRes> {
    let (unread_count, applications) = ctx.store.group_applications(&caller.user).await.map_err(refusal)?;
    Ok((ApplicationsRes { unread_count, applications }, Vec::new()))
}

/// Handles `group.application.handle`.
pub async fn handle_application(ctx: &Ctx, caller: &Caller, req: HandleApplicationReq) -> Reply<serde_json::Value> {
    let op = GroupOp::HandleApplication { app_id: req.app_id, accept: req.accept, reason: req.reason };
    let (_, effects) = write(ctx, caller, op).await?;
    done(effects)
}

/// Handles `group.applications.read`.
pub async fn applications_read(ctx: &Ctx, caller: &Caller, _req: serde_json::Value) -> Reply<serde_json::Value> {
    let (_, effects) = write(ctx, caller, GroupOp::ApplicationsRead).await?;
    done(effects)
}

/// Handles `group.recv_opt`.
pub async fn recv_opt(ctx: &Ctx, caller: &Caller, req: RecvOptReq) -> Reply<serde_json::Value> {
    let (_, effects) = write(ctx, caller, GroupOp::RecvOpt { group_id: req.group_id, opt: req.opt }).await?;
    done(effects)
}

/// Handles `group.online_count`.
pub async fn online_count(ctx: &Ctx, caller: &Caller, req: GroupReq) -> Reply<OnlineCountRes> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    member_or_refuse(ctx, &group, &caller.user).await?;
    let count = if is_room(&group) {
        ctx.rooms.count(&req.group_id)
    } else {
        let members = ctx.store.group_members(&req.group_id).await.map_err(refusal)?.unwrap_or_default();
        members.iter().filter(|m| ctx.presence.is_online(m)).count() as u32
    };
    Ok((OnlineCountRes { count }, Vec::new()))
}

/// Handles `group.attrs.get`.
pub async fn attrs_get(ctx: &Ctx, caller: &Caller, req: GetAttrsReq) -> Reply<GroupAttrs> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    member_or_refuse(ctx, &group, &caller.user).await?;
    let mut attrs = group.attrs();
    if let Some(keys) = req.keys {
        attrs.attrs.retain(|k, _| keys.contains(k));
    }
    Ok((attrs, Vec::new()))
}

/// Handles `group.attrs.write`: every member hears the complete map, the writer's devices
/// included. The snapshot is pushed from the store's commit order ([`super::Presence::push_now`] in an
/// [`AfterCommit`](crate::store::AfterCommit) hook), not as this request's effect: writes to
/// one group commit one after the other, so every member gets the snapshots in version order
/// (as effects, two writers' pushes could leave in either order, and a member's last map be an
/// older one).
pub async fn attrs_write(ctx: &Ctx, caller: &Caller, req: WriteAttrsReq) -> Reply<GroupAttrs> {
    let group = group_or_refuse(ctx, &req.group_id).await?;
    let in_room = is_room(&group) && ctx.rooms.is_member(&req.group_id, &caller.user);
    if req.mode != AttrWriteMode::Delete && req.attrs.is_empty() && req.mode != AttrWriteMode::Init {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "no attributes to set"));
    }
    let (group_id, room, services) = (req.group_id.clone(), is_room(&group), ctx.services());
    let op = GroupOp::WriteAttrs { req, is_member: in_room, max_per_sec: ctx.config.attr_writes_per_sec };
    let push_snapshot = Box::new(move |outcome: &GroupOutcome| {
        let to = if room { services.rooms.members(&group_id) } else { outcome.members.clone() };
        let attrs = outcome.attrs.clone().unwrap_or_default();
        services.presence.push_now(&Push {
            event: push::GROUP_ATTRS,
            body: PushBody::Attrs(attrs),
            to,
            to_caller: true,
        });
    });
    let mut outcome = ctx.write(|s| s.group_write_then(&caller.user, op, push_snapshot)).await.map_err(refusal)?;
    let effects = outcome_pushes(&mut outcome);
    Ok((outcome.attrs.unwrap_or_default(), effects))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use oxim_proto::group::GroupsInfoReq;

    use super::*;
    use crate::handlers::testing::{Bench, pushes, users};

    fn create_req(kind: &str, id: &str, members: &[&str]) -> CreateGroupReq {
        let members: Vec<_> = members.iter().map(|u| (*u, role::MEMBER)).collect();
        crate::domain::groups::create_req(kind, id, 2, &members)
    }

    /// A message from `from` (checked as `msg.send` checks every message) to `group`.
    fn group_text(from: &Caller, id: &str, group: &str, priority: i32) -> WireMessage {
        let mut msg = WireMessage::new(id, Elem::Text { text: "hi".into() });
        msg.sender = from.user.clone();
        msg.group_id = group.into();
        msg.priority = priority;
        msg
    }

    fn req(group: &str) -> GroupReq {
        GroupReq { group_id: group.into() }
    }

    #[tokio::test]
    async fn stored_tips_and_events_reach_every_session_of_their_recipients() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob", "carol"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let (made, effects) = create(&ctx, &alice, create_req(group_type::WORK, "w", &["bob"])).await.unwrap();
        assert_eq!(made.group_id, "w");
        // The creator's devices hear of the group (the creating one too: it learns the seq).
        assert_eq!(
            pushes(&effects).iter().map(|p| (p.2.clone(), p.3)).collect::<Vec<_>>(),
            [(users(&["alice"]), true)]
        );
        let invited =
            GroupUsersReq { group_id: "w".into(), user_ids: users(&["carol", "dave"]), reason: String::new() };
        let (res, effects) = invite(&ctx, &Caller::new("bob"), invited).await.unwrap();
        assert_eq!(res.results.iter().map(|r| r.result).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(pushes(&effects), [(push::MSG, "group:w#1".to_string(), users(&["alice", "bob", "carol"]), true)]);
        // A member's message: stored, pushed to the others' sessions (not the sending one).
        let (sent, effects) =
            send(&ctx, &Caller::new("carol"), group_text(&Caller::new("carol"), "g1", "w", 0)).await.unwrap();
        assert_eq!(sent.seq, 2);
        assert_eq!(pushes(&effects), [(push::MSG, "g1".to_string(), users(&["alice", "bob", "carol"]), false)]);
        // Work groups cannot be dismissed by a client; nothing happens, nobody is told.
        assert_eq!(dismiss(&ctx, &alice, req("w")).await.unwrap_err().code, code::SVR_GROUP_PERMISSION_DENY);
        let stranger =
            send(&ctx, &Caller::new("mallory"), group_text(&Caller::new("mallory"), "g2", "w", 0)).await.unwrap_err();
        assert_eq!(stranger.code, code::SVR_GROUP_PERMISSION_DENY);
    }

    #[tokio::test]
    async fn avchatroom_membership_tips_and_messages_stay_online() {
        let bench = Bench::with_config(|c| c.room_msgs_per_window = 4).await;
        bench.users(&["owner", "fan", "other"]).await;
        let ctx = bench.ctx();
        let (owner, fan) = (Caller::new("owner"), Caller::new("fan"));
        create(&ctx, &owner, create_req(group_type::AVCHATROOM, "live", &[])).await.unwrap();
        let (joined, effects) =
            join(&ctx, &fan, JoinGroupReq { group_id: "live".into(), message: String::new() }).await.unwrap();
        assert!(joined.joined);
        let tips = pushes(&effects);
        assert_eq!((tips.len(), tips[0].2.clone(), tips[0].3), (1, users(&["owner", "fan"]), true));
        let (_, again) =
            join(&ctx, &fan, JoinGroupReq { group_id: "live".into(), message: String::new() }).await.unwrap();
        assert!(again.is_empty(), "joining again is no news");
        // Messages go to the room's sessions but the sender's; low priority is refused first.
        let (sent, effects) = send(&ctx, &fan, group_text(&fan, "r1", "live", 2)).await.unwrap();
        assert_eq!(sent.seq, 0);
        assert_eq!(pushes(&effects), [(push::MSG, "r1".to_string(), users(&["owner", "fan"]), false)]);
        let low = send(&ctx, &fan, group_text(&fan, "r2", "live", 3)).await.unwrap_err();
        assert_eq!(low.code, code::SVR_GROUP_SEND_MSG_FREQ_LIMIT, "low priority gets half the window");
        let outsider =
            send(&ctx, &Caller::new("other"), group_text(&Caller::new("other"), "r3", "live", 1)).await.unwrap_err();
        assert_eq!(outsider.code, code::SVR_GROUP_PERMISSION_DENY);
        // Only the owner mutes; a muted fan cannot send until the mute ends.
        let mute_fan =
            |by: &str| (Caller::new(by), MuteReq { group_id: "live".into(), user_id: "fan".into(), seconds: 60 });
        let (by, m) = mute_fan("other");
        assert_eq!(mute(&ctx, &by, m).await.unwrap_err().code, code::SVR_GROUP_PERMISSION_DENY);
        let (by, m) = mute_fan("owner");
        mute(&ctx, &by, m).await.unwrap();
        let muted = send(&ctx, &fan, group_text(&fan, "r4", "live", 1)).await.unwrap_err();
        assert_eq!(muted.code, code::SVR_GROUP_SHUTUP_DENY);
        bench.clock.advance(std::time::Duration::from_secs(61));
        send(&ctx, &fan, group_text(&fan, "r5", "live", 1)).await.unwrap();
        // The room's numbers come from memory.
        let (infos, _) = info(&ctx, &fan, GroupsInfoReq { group_ids: users(&["live", "gone"]) }).await.unwrap();
        assert_eq!((infos.results[0].info.member_count, infos.results[0].info.role), (2, role::MEMBER));
        assert_eq!(infos.results[1].code, code::SVR_GROUP_NOT_FOUND);
        // The owner cannot quit; dismissing tells whoever is still in the room.
        assert_eq!(quit(&ctx, &owner, req("live")).await.unwrap_err().code, code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT);
        let (_, effects) = dismiss(&ctx, &owner, req("live")).await.unwrap();
        let told = pushes(&effects);
        assert_eq!(told.last().unwrap().2, users(&["fan"]));
        assert_eq!(ctx.rooms.count("live"), 0);
    }

    #[tokio::test]
    async fn online_counts_ask_who_is_online_and_attribute_writes_tell_every_member() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob", "carol"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        create(&ctx, &alice, create_req(group_type::WORK, "w", &["bob", "carol"])).await.unwrap();
        bench.online("bob");
        let (count, _) = online_count(&ctx, &alice, req("w")).await.unwrap();
        assert_eq!(count.count, 1);
        let outsider = online_count(&ctx, &Caller::new("dave"), req("w")).await.unwrap_err();
        assert_eq!(outsider.code, code::SVR_GROUP_PERMISSION_DENY);
        let write = WriteAttrsReq {
            group_id: "w".into(),
            mode: AttrWriteMode::Set,
            attrs: BTreeMap::from([("seat".to_owned(), "1".to_owned())]),
            keys: None,
            base_version: 0,
        };
        let (attrs, effects) = attrs_write(&ctx, &Caller::new("bob"), write.clone()).await.unwrap();
        assert_eq!(attrs.version, 1);
        // Pushed in commit order, before the answer; nothing left for the request's effects.
        assert!(pushes(&effects).is_empty());
        assert_eq!(
            bench.online.pushed_now(),
            [(push::GROUP_ATTRS, String::new(), users(&["alice", "bob", "carol"]), true)]
        );
        let stale = attrs_write(&ctx, &Caller::new("carol"), write).await.unwrap_err();
        assert_eq!(stale.code, code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT);
        let (read, effects) =
            attrs_get(&ctx, &Caller::new("carol"), GetAttrsReq { group_id: "w".into(), keys: None }).await.unwrap();
        assert_eq!((read.attrs["seat"].as_str(), effects.len()), ("1", 0));
        let empty = attrs_req("w");
        assert_eq!(attrs_write(&ctx, &alice, empty).await.unwrap_err().code, code::INVALID_PARAMETERS);
    }

    fn attrs_req(group: &str) -> WriteAttrsReq {
        WriteAttrsReq {
            group_id: group.into(),
            mode: AttrWriteMode::Set,
            attrs: BTreeMap::new(),
            keys: None,
            base_version: 1,
        }
    }

    #[tokio::test]
    async fn bad_group_input_is_refused_before_the_store() {
        let bench = Bench::new().await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let bad = join(&ctx, &alice, JoinGroupReq { group_id: "tab\there".into(), message: String::new() }).await;
        assert_eq!(bad.unwrap_err().code, code::SVR_GROUP_INVALID_GROUPID);
        let none = GroupUsersReq { group_id: "w".into(), user_ids: vec![], reason: String::new() };
        assert_eq!(kick(&ctx, &alice, none).await.unwrap_err().code, code::SVR_GROUP_INVALID_PARAMETERS);
        let too_many = GroupsInfoReq { group_ids: (0..=limits::INFO_BATCH).map(|i| format!("g{i}")).collect() };
        assert_eq!(info(&ctx, &alice, too_many).await.unwrap_err().code, code::INVALID_PARAMETERS);
        assert_eq!(quit(&ctx, &alice, req("missing")).await.unwrap_err().code, code::SVR_GROUP_NOT_FOUND);
    }
}
