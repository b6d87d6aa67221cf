//! Group requests (`group.*`): the checks that need no database, AVChatRoom rooms (online
//! membership, kept here), and the pushes a group write causes.
//!
//! Groups with stored membership (Work, Public, Meeting) are changed by one store write per
//! request, which checks the group-type rules ([`crate::domain::group_rules`]) inside the transaction. AVChatRoom
//! membership, mutes and message rate live in [`crate::domain::rooms::Rooms`]; their profile and attributes are
//! stored like any group's.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use oxim_proto::group::{
    ApplicationsRes, AttrWriteMode, CreateGroupReq, CreateGroupRes, GetAttrsReq, GroupAttrs, GroupInfoResult, GroupReq,
    GroupTips, GroupUsersReq, GroupsInfoReq, GroupsInfoRes, HandleApplicationReq, JoinGroupReq, JoinGroupRes,
    JoinedGroupsRes, MemberChange, MemberOpRes, MembersInfoRes, MembersReq, MembersRes, MuteReq, OnlineCountRes,
    RecvOptReq, RoleReq, SetGroupInfoReq, SetMemberReq, WriteAttrsReq, group_type, limits, role, tip_type,
};
use oxim_proto::message::{Elem, UserEvent};
use oxim_proto::payload::WireMessage;
use oxim_proto::{InFrame, OutFrame, code, op, push};
use serde::Serialize;

use crate::app::App;
use crate::domain::groups::{GroupOp, GroupRow};
use crate::domain::rooms;
use crate::gateway::{Conn, Refusal, now_ms};
use crate::messaging::{self, refusal};
use crate::store::{GroupOutcome, Queued};

/// Dispatches a `group.*` request. Returns false for an unknown operation.
pub async fn handle(conn: &mut Conn, id: u64, frame: &InFrame<'_>) -> bool {
    macro_rules! route {
        ($handler:ident) => {
            match frame.body() {
                Ok(req) => run(conn, id, move |app, user| $handler(app, user, req)).await,
                Err(e) => {
                    conn.out
                        .refuse(id, &Refusal::new(code::INVALID_PARAMETERS, format!("malformed request body: {e}")))
                        .await
                }
            }
        };
    }
    match frame.op.as_ref() {
        op::GROUP_CREATE => route!(create),
        op::GROUP_JOIN => route!(join),
        op::GROUP_QUIT => route!(quit),
        op::GROUP_DISMISS => route!(dismiss),
        op::GROUP_INFO => route!(info),
        op::GROUP_JOINED => route!(joined),
        op::GROUP_SET_INFO => route!(set_info),
        op::GROUP_MEMBERS => route!(members),
        op::GROUP_MEMBERS_INFO => route!(members_info),
        op::GROUP_SET_MEMBER => route!(set_member),
        op::GROUP_MUTE => route!(mute),
        op::GROUP_INVITE => route!(invite),
        op::GROUP_KICK => route!(kick),
        op::GROUP_SET_ROLE => route!(set_role),
        op::GROUP_TRANSFER => route!(transfer),
        op::GROUP_APPLICATIONS => route!(applications),
        op::GROUP_HANDLE_APPLICATION => route!(handle_application),
        op::GROUP_APPLICATIONS_READ => route!(applications_read),
        op::GROUP_RECV_OPT => route!(recv_opt),
        op::GROUP_ONLINE_COUNT => route!(online_count),
        op::GROUP_ATTRS_GET => route!(attrs_get),
        op::GROUP_ATTRS_WRITE => route!(attrs_write),
        _ => return false,
    }
    true
}

/// Who asked: the user and their connection.
#[derive(Clone)]
struct Caller {
    user: String,
}

/// Runs a handler in a task (a store write is queued before the first await inside it, so one
/// connection's writes keep their order) and answers with its result.
async fn run<R, F>(conn: &Conn, id: u64, f: impl FnOnce(Arc<App>, Caller) -> F)
where
    R: Serialize + Send + Sync + 'static,
    F: std::future::Future<Output = Result<R, Refusal>> + Send + 'static,
{
    let caller = match conn.user() {
        Ok(auth) => Caller { user: auth.user.clone() },
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    let out = conn.out.clone();
    let fut = f(conn.app.clone(), caller);
    tokio::spawn(async move { out.answer(id, fut.await).await });
}

/// Awaits a group write and pushes what it caused: stored tips and events to their
/// recipients' sessions (the caller's too: its device learns the tip's seq this way), online
/// tips to the members online.
async fn write(app: &App, queued: Queued<GroupOutcome>) -> Result<GroupOutcome, Refusal> {
    let outcome = queued.await.map_err(refusal)?;
    publish(app, &outcome);
    Ok(outcome)
}

fn publish(app: &App, outcome: &GroupOutcome) {
    for appended in &outcome.written.appended {
        messaging::deliver_to_all(app, appended);
    }
    for (msg, users) in &outcome.online_tips {
        push_online(app, msg, users);
    }
}

/// Pushes an online-only message to `users`' sessions.
fn push_online(app: &App, msg: &WireMessage, users: &[String]) {
    push_online_except(app, msg, users, None);
}

fn push_online_except(app: &App, msg: &WireMessage, users: &[String], except: Option<u64>) {
    let frame: Utf8Bytes = OutFrame::push(push::MSG, msg).to_json().into();
    for u in users {
        app.sessions.deliver(u, &frame, except);
    }
}

/// A group tip for a room (never stored), sent to everyone in it unless the room is busy:
/// room notices count as low-priority messages.
fn room_tip(app: &App, group_id: &str, op_user: &str, tip_type: i32, members: Vec<String>, changes: Vec<MemberChange>) {
    let rate = room_rate(app);
    if !app.rooms.admit_notice(group_id, rate, std::time::Instant::now()) {
        return;
    }
    let tips = GroupTips {
        tip_type,
        op_user: op_user.to_owned(),
        member_list: members,
        group_changes: Vec::new(),
        member_changes: changes,
        member_count: app.rooms.count(group_id),
    };
    let msg = online_msg(group_id, op_user, Elem::GroupTips { tips });
    push_online(app, &msg, &app.rooms.members(group_id));
}

fn online_msg(group_id: &str, sender: &str, elem: Elem) -> WireMessage {
    let mut msg = WireMessage::new("", elem);
    msg.sender = sender.to_owned();
    msg.group_id = group_id.to_owned();
    msg.online_only = true;
    msg.time_ms = now_ms();
    msg
}

/// The rate rule of AVChatRooms.
pub fn room_rate(app: &App) -> rooms::RoomRate {
    rooms::RoomRate { limit: app.config.room_msgs_per_window, window: app.config.room_window }
}

/// The stored group, or 10010.
pub async fn group_or_refuse(app: &App, group_id: &str) -> Result<GroupRow, Refusal> {
    if !oxim_proto::group::is_valid_group_id(group_id) {
        return Err(Refusal::new(code::SVR_GROUP_INVALID_GROUPID, format!("{group_id:?} is not a valid group id")));
    }
    app.store
        .group(group_id)
        .await
        .map_err(refusal)?
        .ok_or_else(|| Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist")))
}

fn is_room(group: &GroupRow) -> bool {
    !group.rules().persistent_members
}

/// Whether `user` is in `group` (room membership for AVChatRooms, stored otherwise).
async fn is_member(app: &App, group: &GroupRow, user: &str) -> Result<bool, Refusal> {
    if is_room(group) {
        return Ok(app.rooms.is_member(&group.info.group_id, user));
    }
    let found = app.store.group_members_info(&group.info.group_id, vec![user.to_owned()]).await.map_err(refusal)?;
    Ok(!found.is_empty())
}

async fn member_or_refuse(app: &App, group: &GroupRow, user: &str) -> Result<(), Refusal> {
    if is_member(app, group, user).await? {
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

async fn create(app: Arc<App>, c: Caller, req: CreateGroupReq) -> Result<CreateGroupRes, Refusal> {
    let is_room = req.group_type == group_type::AVCHATROOM;
    let queued = app.store.group_write(&c.user, GroupOp::Create(req));
    let outcome = write(&app, queued).await?;
    if is_room {
        // The creator is in the room from the start (V2TIM's native SDKs do this).
        app.rooms.join(&outcome.group_id, &c.user, now_ms());
    }
    Ok(CreateGroupRes { group_id: outcome.group_id })
}

async fn join(app: Arc<App>, c: Caller, req: JoinGroupReq) -> Result<JoinGroupRes, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    if is_room(&group) {
        // Joining a room again (the SDK does after every reconnect) is not an error.
        if app.rooms.join(&req.group_id, &c.user, now_ms()) {
            room_tip(&app, &req.group_id, &c.user, tip_type::JOIN, vec![c.user.clone()], Vec::new());
        }
        return Ok(JoinGroupRes { joined: true, group_type: group.info.group_type });
    }
    let queued = app.store.group_write(&c.user, GroupOp::Join { group_id: req.group_id, message: req.message });
    let outcome = write(&app, queued).await?;
    Ok(JoinGroupRes { joined: outcome.joined, group_type: group.info.group_type })
}

async fn quit(app: Arc<App>, c: Caller, req: GroupReq) -> Result<serde_json::Value, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    if is_room(&group) {
        if group.info.owner == c.user {
            return Err(Refusal::new(
                code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT,
                "the owner cannot quit an AVChatRoom; dismiss it",
            ));
        }
        if !app.rooms.quit(&req.group_id, &c.user) {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("you are not in room {}", req.group_id)));
        }
        room_tip(&app, &req.group_id, &c.user, tip_type::QUIT, vec![c.user.clone()], Vec::new());
        return Ok(serde_json::json!({}));
    }
    write(&app, app.store.group_write(&c.user, GroupOp::Quit { group_id: req.group_id })).await?;
    Ok(serde_json::json!({}))
}

async fn dismiss(app: Arc<App>, c: Caller, req: GroupReq) -> Result<serde_json::Value, Refusal> {
    let queued = app.store.group_write(&c.user, GroupOp::Dismiss { group_id: req.group_id.clone() });
    write(&app, queued).await?;
    // A room's members are told online; the owner's devices got the stored event.
    let others: Vec<String> = app.rooms.close(&req.group_id).into_iter().filter(|u| *u != c.user).collect();
    if !others.is_empty() {
        let event = UserEvent::GroupDismissed { group_id: req.group_id.clone(), op_user: c.user.clone() };
        push_online(&app, &online_msg(&req.group_id, &c.user, Elem::Event { event }), &others);
    }
    Ok(serde_json::json!({}))
}

async fn info(app: Arc<App>, c: Caller, req: GroupsInfoReq) -> Result<GroupsInfoRes, Refusal> {
    if req.group_ids.is_empty() || req.group_ids.len() > limits::INFO_BATCH {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("ask for 1 to {} groups", limits::INFO_BATCH)));
    }
    let infos = app.store.groups_info(&c.user, req.group_ids.clone()).await.map_err(refusal)?;
    let results = req
        .group_ids
        .iter()
        .zip(infos)
        .map(|(gid, info)| match info {
            Some(mut info) => {
                if info.group_type == group_type::AVCHATROOM {
                    info.member_count = app.rooms.count(gid);
                    if app.rooms.is_member(gid, &c.user) {
                        info.role = if info.owner == c.user { role::OWNER } else { role::MEMBER };
                    }
                }
                GroupInfoResult { code: 0, desc: String::new(), info }
            }
            None => GroupInfoResult {
                code: code::SVR_GROUP_NOT_FOUND,
                desc: format!("group {gid} does not exist"),
                info: oxim_proto::group::GroupInfo { group_id: gid.clone(), ..Default::default() },
            },
        })
        .collect();
    Ok(GroupsInfoRes { results })
}

async fn joined(app: Arc<App>, c: Caller, _req: serde_json::Value) -> Result<JoinedGroupsRes, Refusal> {
    Ok(JoinedGroupsRes { groups: app.store.joined_groups(&c.user).await.map_err(refusal)? })
}

async fn set_info(app: Arc<App>, c: Caller, req: SetGroupInfoReq) -> Result<serde_json::Value, Refusal> {
    let group_id = req.group_id.clone();
    let outcome = write(&app, app.store.group_write(&c.user, GroupOp::SetInfo(req))).await?;
    // A room's profile change goes to whoever is in the room.
    if app.rooms.count(&group_id) > 0 {
        let members = app.rooms.members(&group_id);
        for (msg, _) in &outcome.online_tips {
            push_online(&app, msg, &members);
        }
    }
    Ok(serde_json::json!({}))
}

async fn members(app: Arc<App>, c: Caller, req: MembersReq) -> Result<MembersRes, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    member_or_refuse(&app, &group, &c.user).await?;
    let (members, next_seq) = if is_room(&group) {
        app.rooms.page(&req.group_id, &group.info.owner, req.next_seq, limits::MEMBER_PAGE)
    } else {
        app.store
            .group_member_page(&req.group_id, req.filter, req.next_seq, limits::MEMBER_PAGE)
            .await
            .map_err(refusal)?
    };
    Ok(MembersRes { members, next_seq })
}

async fn members_info(app: Arc<App>, c: Caller, req: GroupUsersReq) -> Result<MembersInfoRes, Refusal> {
    check_users(&req.user_ids)?;
    let group = group_or_refuse(&app, &req.group_id).await?;
    member_or_refuse(&app, &group, &c.user).await?;
    let members = if is_room(&group) {
        app.rooms.members_info(&req.group_id, &group.info.owner, &req.user_ids)
    } else {
        app.store.group_members_info(&req.group_id, req.user_ids).await.map_err(refusal)?
    };
    Ok(MembersInfoRes { members })
}

async fn set_member(app: Arc<App>, c: Caller, req: SetMemberReq) -> Result<serde_json::Value, Refusal> {
    write(&app, app.store.group_write(&c.user, GroupOp::SetMember(req))).await?;
    Ok(serde_json::json!({}))
}

async fn mute(app: Arc<App>, c: Caller, req: MuteReq) -> Result<serde_json::Value, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    if is_room(&group) {
        // In a room only the owner mutes (there are no admins), and only someone in the room.
        if group.info.owner != c.user || req.user_id == c.user {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, "only the owner may mute in an AVChatRoom"));
        }
        let until = if req.seconds == 0 { 0 } else { now_ms() + i64::from(req.seconds) * 1000 };
        if !app.rooms.mute(&req.group_id, &req.user_id, until) {
            return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("{} is not in the room", req.user_id)));
        }
        let change = MemberChange { user_id: req.user_id.clone(), mute_time: i64::from(req.seconds) };
        room_tip(&app, &req.group_id, &c.user, tip_type::MEMBER_INFO_CHANGE, vec![req.user_id], vec![change]);
        return Ok(serde_json::json!({}));
    }
    let op = GroupOp::Mute { group_id: req.group_id, user_id: req.user_id, seconds: req.seconds };
    write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(serde_json::json!({}))
}

async fn invite(app: Arc<App>, c: Caller, req: GroupUsersReq) -> Result<MemberOpRes, Refusal> {
    check_users(&req.user_ids)?;
    let op = GroupOp::Invite { group_id: req.group_id, users: req.user_ids };
    let outcome = write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(MemberOpRes { results: outcome.results })
}

async fn kick(app: Arc<App>, c: Caller, req: GroupUsersReq) -> Result<MemberOpRes, Refusal> {
    check_users(&req.user_ids)?;
    let op = GroupOp::Kick { group_id: req.group_id, users: req.user_ids };
    let outcome = write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(MemberOpRes { results: outcome.results })
}

async fn set_role(app: Arc<App>, c: Caller, req: RoleReq) -> Result<serde_json::Value, Refusal> {
    let op = GroupOp::SetRole { group_id: req.group_id, user_id: req.user_id, role: req.role };
    write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(serde_json::json!({}))
}

async fn transfer(app: Arc<App>, c: Caller, req: RoleReq) -> Result<serde_json::Value, Refusal> {
    let op = GroupOp::Transfer { group_id: req.group_id, user_id: req.user_id };
    write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(serde_json::json!({}))
}

async fn applications(app: Arc<App>, c: Caller, _req: serde_json::Value) -> Result<ApplicationsRes, Refusal> {
    let (unread_count, applications) = app.store.group_applications(&c.user).await.map_err(refusal)?;
    Ok(ApplicationsRes { unread_count, applications })
}

async fn handle_application(app: Arc<App>, c: Caller, req: HandleApplicationReq) -> Result<serde_json::Value, Refusal> {
    let op = GroupOp::HandleApplication { app_id: req.app_id, accept: req.accept, reason: req.reason };
    write(&app, app.store.group_write(&c.user, op)).await?;
    Ok(serde_json::json!({}))
}

async fn applications_read(app: Arc<App>, c: Caller, _req: serde_json::Value) -> Result<serde_json::Value, Refusal> {
    write(&app, app.store.group_write(&c.user, GroupOp::ApplicationsRead)).await?;
    Ok(serde_json::json!({}))
}

async fn recv_opt(app: Arc<App>, c: Caller, req: RecvOptReq) -> Result<serde_json::Value, Refusal> {
    write(&app, app.store.group_write(&c.user, GroupOp::RecvOpt { group_id: req.group_id, opt: req.opt })).await?;
    Ok(serde_json::json!({}))
}

async fn online_count(app: Arc<App>, c: Caller, req: GroupReq) -> Result<OnlineCountRes, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    member_or_refuse(&app, &group, &c.user).await?;
    let count = if is_room(&group) {
        app.rooms.count(&req.group_id)
    } else {
        let members = app.store.group_members(&req.group_id).await.map_err(refusal)?.unwrap_or_default();
        members.iter().filter(|m| app.sessions.is_online(m)).count() as u32
    };
    Ok(OnlineCountRes { count })
}

async fn attrs_get(app: Arc<App>, c: Caller, req: GetAttrsReq) -> Result<GroupAttrs, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    member_or_refuse(&app, &group, &c.user).await?;
    let mut attrs = group.attrs();
    if let Some(keys) = req.keys {
        attrs.attrs.retain(|k, _| keys.contains(k));
    }
    Ok(attrs)
}

async fn attrs_write(app: Arc<App>, c: Caller, req: WriteAttrsReq) -> Result<GroupAttrs, Refusal> {
    let group = group_or_refuse(&app, &req.group_id).await?;
    let in_room = is_room(&group) && app.rooms.is_member(&req.group_id, &c.user);
    if req.mode != AttrWriteMode::Delete && req.attrs.is_empty() && req.mode != AttrWriteMode::Init {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "no attributes to set"));
    }
    let group_id = req.group_id.clone();
    let outcome = write(
        &app,
        app.store.group_write(
            &c.user,
            GroupOp::WriteAttrs { req, is_member: in_room, max_per_sec: app.config.attr_writes_per_sec },
        ),
    )
    .await?;
    let attrs = outcome.attrs.clone().unwrap_or_default();
    // Every member hears the complete map, the writer's devices included.
    let members = if is_room(&group) { app.rooms.members(&group_id) } else { outcome.members };
    let frame: Utf8Bytes = OutFrame::push(push::GROUP_ATTRS, &attrs).to_json().into();
    for m in &members {
        app.sessions.deliver(m, &frame, None);
    }
    Ok(attrs)
}

/// Sends a member's message into an AVChatRoom: online only, rate-limited, never stored. Every
/// session in the room gets it but the sending connection.
pub fn send_to_room(app: &App, group: &GroupRow, mut msg: WireMessage, origin: u64) -> Result<WireMessage, Refusal> {
    let gid = &group.info.group_id;
    if !app.rooms.is_member(gid, &msg.sender) {
        return Err(Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("you are not in room {gid}")));
    }
    let now = now_ms();
    let mute_until = app.rooms.mute_until(gid, &msg.sender);
    if mute_until > now {
        return Err(Refusal::new(
            code::SVR_GROUP_SHUTUP_DENY,
            format!("you are muted for {} more seconds", (mute_until - now) / 1000),
        ));
    }
    if group.info.all_muted && group.info.owner != msg.sender {
        return Err(Refusal::new(code::SVR_GROUP_SHUTUP_DENY, "the whole room is muted"));
    }
    if !app.rooms.admit(gid, msg.priority, room_rate(app), std::time::Instant::now()) {
        return Err(Refusal::new(
            code::SVR_GROUP_SEND_MSG_FREQ_LIMIT,
            format!("room {gid} is at its message rate; low-priority messages are refused first"),
        ));
    }
    msg.online_only = true;
    msg.seq = 0;
    msg.time_ms = now;
    push_online_except(app, &msg, &app.rooms.members(gid), Some(origin));
    Ok(msg)
}
