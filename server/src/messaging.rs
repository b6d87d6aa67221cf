//! Message requests: send, pull, history, sync, revoke, read, delete, clear.
//!
//! Writes are queued to the store in request order; their answers are awaited in spawned
//! tasks. Whatever a write appended (the message, a revoke notice, stream events) is pushed to
//! its recipients' online sessions after the commit.

use axum::extract::ws::Utf8Bytes;
use oxim_proto::check::Side;
use oxim_proto::code;
use oxim_proto::ids::{ConvId, is_valid_user_id};
use oxim_proto::payload::{
    ClearReq, ClearRes, DeleteReq, HistoryReq, HistoryRes, MAX_DELETE, MAX_PAGE, PullReq, PullRes, ReadReq, ReadRes,
    RevokeReq, RevokeRes, SendMsgReq, SendMsgRes, SyncReq, SyncRes, WireMessage,
};
use oxim_proto::{OutFrame, push};

use crate::app::App;
use crate::domain::keys::{c2c_target, target_of};
use crate::gateway::{Conn, Refusal, Responder, now_ms};
use crate::groups;
use crate::store::{Appended, Queued, StoreError, Written};

/// The refusal for a store error.
pub fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::MsgIdTaken(id) => Refusal::new(code::INVALID_PARAMETERS, format!("msgID {id} is already used")),
        StoreError::Refused { code, desc } => Refusal::new(code, desc),
        e => {
            tracing::error!("store: {e}");
            Refusal::new(code::SVR_MSG_INTERNAL_ERROR, e.to_string())
        }
    }
}

/// Checks a message before anything is stored.
async fn validate(conn: &Conn, msg: &WireMessage) -> Result<(), Refusal> {
    oxim_proto::check::check_message(msg).map_err(|p| Refusal::new(p.code(Side::Server), p.to_string()))?;
    if !msg.group_id.is_empty() {
        // Membership, mutes and the group's existence are checked where the message goes.
        return Ok(());
    }
    if !is_valid_user_id(&msg.receiver) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "receiver is not a valid userID"));
    }
    let exists = conn.app.user_exists(&msg.receiver).await.map_err(refusal)?;
    if !exists {
        return Err(Refusal::new(code::SVR_MSG_INVALID_ID, format!("user {} does not exist", msg.receiver)));
    }
    Ok(())
}

/// Pushes a stored message to its recipients' sessions (not to the connection it came from).
pub fn deliver(app: &App, appended: &Appended, origin_conn: u64) {
    if appended.duplicate {
        // It was pushed (or will be synced) when it was first stored.
        return;
    }
    let frame: Utf8Bytes = OutFrame::push(push::MSG, &appended.msg).to_json().into();
    for user in &appended.recipients {
        app.sessions.deliver(user, &frame, Some(origin_conn));
    }
}

/// Pushes a stored message to every session of its recipients, the originating one included
/// (group tips and events: no device knows their seq before it arrives).
pub fn deliver_to_all(app: &App, appended: &Appended) {
    if appended.duplicate {
        return;
    }
    let frame: Utf8Bytes = OutFrame::push(push::MSG, &appended.msg).to_json().into();
    for user in &appended.recipients {
        app.sessions.deliver(user, &frame, None);
    }
}

/// Awaits a queued write in a task, answers with `answer(result)`, then pushes what it appended.
pub(crate) fn finish<T, R>(conn: &Conn, id: u64, queued: Queued<T>, answer: impl FnOnce(&T) -> R + Send + 'static)
where
    T: Into<Written> + Send + 'static,
    R: serde::Serialize + Send + Sync,
{
    let (app, out, origin) = (conn.app.clone(), conn.out.clone(), conn.conn_id);
    tokio::spawn(async move {
        match queued.await {
            Ok(value) => {
                let body = answer(&value);
                out.ok(id, &body).await;
                for appended in &value.into().appended {
                    deliver(&app, appended, origin);
                }
            }
            Err(e) => out.refuse(id, &refusal(e)).await,
        }
    });
}

impl From<Appended> for Written {
    fn from(a: Appended) -> Written {
        Written { seq: a.msg.seq, appended: vec![a] }
    }
}

/// The authenticated user, or the refusal (answered right away).
pub(crate) async fn user_or_refuse(conn: &Conn, id: u64) -> Option<String> {
    match conn.user() {
        Ok(auth) => Some(auth.user.clone()),
        Err(refusal) => {
            conn.out.refuse(id, &refusal).await;
            None
        }
    }
}

/// Checks a conversation id an app named: not the user's own stream.
pub(crate) fn check_conv(conv: &ConvId) -> Result<(), Refusal> {
    match conv {
        ConvId::System => Err(Refusal::new(code::INVALID_CONVERSATION, "not a conversation")),
        ConvId::Group(_) | ConvId::C2C(_) => Ok(()),
    }
}

/// Handles `msg.send`: validates, queues the write in request order, then answers after the
/// commit and pushes the message to the other online sessions of both users.
pub async fn send(conn: &mut Conn, id: u64, req: SendMsgReq) {
    let Some(sender) = user_or_refuse(conn, id).await else { return };
    let mut msg = req.msg;
    msg.sender = sender;
    msg.seq = 0;
    msg.revoked = false;
    // A sender's local file paths never leave the server (nor should they have reached it).
    msg.elem = msg.elem.without_local_paths();
    if let Err(refusal) = validate(conn, &msg).await {
        return conn.out.refuse(id, &refusal).await;
    }
    if !msg.group_id.is_empty() {
        return send_to_group(conn, id, msg).await;
    }
    if msg.online_only {
        // Never stored, no seq: delivered to whoever is online right now.
        msg.time_ms = now_ms();
        let recipients = vec![msg.receiver.clone(), msg.sender.clone()];
        let appended = Appended { msg, duplicate: false, recipients };
        deliver(&conn.app, &appended, conn.conn_id);
        return conn.out.ok(id, &SendMsgRes { seq: 0, time_ms: appended.msg.time_ms }).await;
    }
    let queued = conn.app.store.append(c2c_target(&msg.sender, &msg.receiver), msg);
    finish(conn, id, queued, |a: &Appended| SendMsgRes { seq: a.msg.seq, time_ms: a.msg.time_ms });
}

/// A group message: online to a room (AVChatRoom), otherwise stored in the group's stream.
async fn send_to_group(conn: &mut Conn, id: u64, msg: WireMessage) {
    let app = conn.app.clone();
    let group = match groups::group_or_refuse(&app, &msg.group_id).await {
        Ok(g) => g,
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    if !group.rules().stores_messages {
        let result =
            groups::send_to_room(&app, &group, msg, conn.conn_id).map(|m| SendMsgRes { seq: 0, time_ms: m.time_ms });
        return conn.out.answer(id, result).await;
    }
    if msg.online_only {
        // Checked like any group message, then pushed to the members online and not stored.
        let members = match app.store.group_members(&msg.group_id).await {
            Ok(m) => m.unwrap_or_default(),
            Err(e) => return conn.out.refuse(id, &refusal(e)).await,
        };
        if !members.contains(&msg.sender) {
            let r = Refusal::new(code::SVR_GROUP_PERMISSION_DENY, format!("you are not a member of {}", msg.group_id));
            return conn.out.refuse(id, &r).await;
        }
        let mut msg = msg;
        msg.time_ms = now_ms();
        let appended = Appended { msg, duplicate: false, recipients: members };
        deliver(&app, &appended, conn.conn_id);
        return conn.out.ok(id, &SendMsgRes { seq: 0, time_ms: appended.msg.time_ms }).await;
    }
    let queued = app.store.group_send(msg);
    finish(conn, id, queued, |a: &Appended| SendMsgRes { seq: a.msg.seq, time_ms: a.msg.time_ms });
}

/// Handles `msg.revoke`.
pub async fn revoke(conn: &mut Conn, id: u64, req: RevokeReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    let mut target = target_of(&user, &req.conv_id);
    if let ConvId::Group(g) = &req.conv_id {
        // The notice goes to every member online.
        match conn.app.store.group_members(g).await {
            Ok(Some(members)) => target.members = members.into_iter().map(|m| (m, req.conv_id.clone())).collect(),
            Ok(None) => {
                let r = Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {g} has no stored messages"));
                return conn.out.refuse(id, &r).await;
            }
            Err(e) => return conn.out.refuse(id, &refusal(e)).await,
        }
    }
    let window_ms = conn.app.config.revoke_window.as_millis() as i64;
    let queued = conn.app.store.revoke(&user, target, &req.msg_id, window_ms);
    finish(conn, id, queued, |w: &Written| RevokeRes { seq: w.seq });
}

/// Handles `msg.read`.
pub async fn read(conn: &mut Conn, id: u64, req: ReadReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.mark_read(&user, &req.conv_id, req.seq);
    finish(conn, id, queued, |w: &Written| ReadRes { read_seq: w.seq });
}

/// Handles `msg.delete`.
pub async fn delete(conn: &mut Conn, id: u64, req: DeleteReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    if req.msg_ids.is_empty() || req.msg_ids.len() > MAX_DELETE {
        let r = Refusal::new(code::INVALID_PARAMETERS, format!("delete 1 to {MAX_DELETE} messages at a time"));
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.delete_for_user(&user, &req.conv_id, req.msg_ids);
    finish(conn, id, queued, |_: &Written| serde_json::json!({}));
}

/// Handles `msg.clear`.
pub async fn clear(conn: &mut Conn, id: u64, req: ClearReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.clear_for_user(&user, &req.conv_id);
    finish(conn, id, queued, |w: &Written| ClearRes { seq: w.seq });
}

/// Runs a read in a task and answers with its result.
pub(crate) fn answer_read<R, F>(conn: &Conn, id: u64, f: impl FnOnce(std::sync::Arc<App>, String) -> F + Send + 'static)
where
    R: serde::Serialize + Send + Sync + 'static,
    F: std::future::Future<Output = Result<R, Refusal>> + Send + 'static,
{
    let user = conn.user().map(|a| a.user.clone());
    let (app, out): (_, Responder) = (conn.app.clone(), conn.out.clone());
    tokio::spawn(async move {
        let result = match user {
            Ok(user) => f(app, user).await,
            Err(r) => Err(r),
        };
        out.answer(id, result).await;
    });
}

/// Handles `sync`: the user's conversations changed since the client's version.
pub fn sync(conn: &mut Conn, id: u64, req: SyncReq) {
    answer_read(conn, id, move |app, user| async move {
        let limit = req.limit.clamp(1, MAX_PAGE);
        let convs = app.store.changed_conversations(&user, req.since, limit).await.map_err(refusal)?;
        let has_more = convs.len() as u32 == limit;
        let version = convs.last().map_or(req.since, |c| c.version);
        Ok(SyncRes { convs, version, has_more })
    });
}

/// Handles `msg.pull`: a range of one of the user's streams, oldest first.
pub fn pull(conn: &mut Conn, id: u64, req: PullReq) {
    answer_read(conn, id, move |app, user| async move {
        // The user's own stream (`@self`) is pulled like any conversation.
        let limit = req.limit.clamp(1, MAX_PAGE);
        let (msgs, max_seq) = app
            .store
            .messages_after(&user, &req.conv_id, req.after_seq, req.up_to_seq, limit)
            .await
            .map_err(refusal)?;
        let bound = if req.up_to_seq == 0 { max_seq } else { req.up_to_seq.min(max_seq) };
        // A short page covers everything up to the bound; a full one up to its last message.
        let covered_seq = if (msgs.len() as u32) < limit { bound } else { msgs.last().map_or(bound, |m| m.seq) };
        Ok(PullRes { msgs, max_seq, covered_seq: covered_seq.max(req.after_seq) })
    });
}

/// Handles `msg.history`: older messages of a conversation, newest first.
pub fn history(conn: &mut Conn, id: u64, req: HistoryReq) {
    answer_read(conn, id, move |app, user| async move {
        check_conv(&req.conv_id)?;
        let limit = req.limit.clamp(1, MAX_PAGE);
        let page = app.store.history(&user, &req.conv_id, req.before_seq, limit).await.map_err(refusal)?;
        Ok(HistoryRes { msgs: page.msgs, covered_from: page.covered_from, reached_start: page.reached_start })
    });
}
