//! Sending, syncing and pulling messages.

use axum::extract::ws::Utf8Bytes;
use oxim_proto::code;
use oxim_proto::ids::{ConvId, is_valid_user_id};
use oxim_proto::payload::{
    MAX_MSG_BODY_BYTES, MAX_PAGE, PullReq, PullRes, SendMsgReq, SendMsgRes, SyncReq, SyncRes, WireMessage,
};
use oxim_proto::{OutFrame, push};

use crate::gateway::{Conn, Refusal, now_ms};
use crate::store::StoreError;

/// Longest client message id accepted.
const MAX_MSG_ID_BYTES: usize = 64;

fn internal(e: StoreError) -> Refusal {
    tracing::error!("store: {e}");
    match e {
        StoreError::MsgIdTaken(id) => Refusal::new(code::INVALID_PARAMETERS, format!("msgID {id} is already used")),
        e => Refusal::new(code::SVR_MSG_INTERNAL_ERROR, e.to_string()),
    }
}

/// Checks a message before anything is stored.
async fn validate(conn: &Conn, msg: &WireMessage) -> Result<(), Refusal> {
    if msg.msg_id.is_empty() || msg.msg_id.len() > MAX_MSG_ID_BYTES || !msg.msg_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "msgID must be 1-64 printable ASCII characters"));
    }
    if msg.receiver.is_empty() == msg.group_id.is_empty() {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "exactly one of receiver and groupID must be set"));
    }
    if msg.elem.is_empty() {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "message content is empty"));
    }
    if msg.elem.body_len() > MAX_MSG_BODY_BYTES {
        return Err(Refusal::new(
            code::SVR_COMM_BODY_SIZE_LIMIT,
            format!("message body is {} bytes, the limit is {MAX_MSG_BODY_BYTES}", msg.elem.body_len()),
        ));
    }
    if !msg.group_id.is_empty() {
        // Groups arrive with the groups feature; until then every group is unknown.
        return Err(Refusal::new(10010, format!("group {} does not exist", msg.group_id)));
    }
    if !is_valid_user_id(&msg.receiver) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "receiver is not a valid userID"));
    }
    let exists = conn.app.user_exists(&msg.receiver).await.map_err(internal)?;
    if !exists {
        return Err(Refusal::new(code::SVR_MSG_INVALID_ID, format!("user {} does not exist", msg.receiver)));
    }
    Ok(())
}

/// Handles `msg.send`: validates, queues the write in request order, then (in a spawned task)
/// answers after the commit and pushes the message to the other online sessions of both users.
pub async fn send(conn: &mut Conn, id: u64, req: SendMsgReq) {
    let sender = match conn.user() {
        Ok(auth) => auth.user.clone(),
        Err(refusal) => return conn.out.refuse(id, &refusal).await,
    };
    let mut msg = req.msg;
    msg.sender = sender;
    msg.seq = 0;
    if let Err(refusal) = validate(conn, &msg).await {
        return conn.out.refuse(id, &refusal).await;
    }
    let app = conn.app.clone();
    let out = conn.out.clone();
    let origin = conn.conn_id;

    if msg.online_only {
        // Never stored, no seq: delivered to whoever is online right now.
        msg.time_ms = now_ms();
        fan_out(&app, &msg, origin);
        return out.ok(id, &SendMsgRes { seq: 0, time_ms: msg.time_ms }).await;
    }

    let queued = app.store.append_c2c(msg);
    tokio::spawn(async move {
        match queued.await {
            Ok(appended) => {
                out.ok(id, &SendMsgRes { seq: appended.msg.seq, time_ms: appended.msg.time_ms }).await;
                // A duplicate was pushed (or will be synced) when it was first stored.
                if !appended.duplicate {
                    fan_out(&app, &appended.msg, origin);
                }
            }
            Err(e) => out.refuse(id, &internal(e)).await,
        }
    });
}

/// Pushes `msg` to every online session of the receiver and to the sender's other sessions.
fn fan_out(app: &crate::app::App, msg: &WireMessage, origin_conn: u64) {
    let frame: Utf8Bytes = OutFrame::push(push::MSG, msg).to_json().into();
    app.sessions.deliver(&msg.receiver, &frame, None);
    if msg.sender != msg.receiver {
        app.sessions.deliver(&msg.sender, &frame, Some(origin_conn));
    }
}

/// Handles `sync`: the user's conversations changed since the client's version.
pub fn sync(conn: &mut Conn, id: u64, req: SyncReq) {
    let user = conn.user().map(|a| a.user.clone());
    let app = conn.app.clone();
    let out = conn.out.clone();
    tokio::spawn(async move {
        let result = async {
            let user = user?;
            let limit = req.limit.clamp(1, MAX_PAGE);
            let convs = app.store.changed_conversations(&user, req.since, limit).await.map_err(internal)?;
            let has_more = convs.len() as u32 == limit;
            let version = convs.last().map_or(req.since, |c| c.version);
            Ok(SyncRes { convs, version, has_more })
        }
        .await;
        out.answer(id, result).await;
    });
}

/// Handles `msg.pull`: a range of one of the user's conversations.
pub fn pull(conn: &mut Conn, id: u64, req: PullReq) {
    let user = conn.user().map(|a| a.user.clone());
    let app = conn.app.clone();
    let out = conn.out.clone();
    tokio::spawn(async move {
        let result = async {
            let user = user?;
            if let ConvId::Group(group) = &req.conv_id {
                return Err(Refusal::new(10010, format!("group {group} does not exist")));
            }
            let limit = req.limit.clamp(1, MAX_PAGE);
            let (msgs, max_seq) = app
                .store
                .messages_after(&user, &req.conv_id, req.after_seq, req.up_to_seq, limit)
                .await
                .map_err(internal)?;
            let bound = if req.up_to_seq == 0 { max_seq } else { req.up_to_seq.min(max_seq) };
            // A short page covers everything up to the bound; a full one up to its last message.
            let covered_seq = if (msgs.len() as u32) < limit { bound } else { msgs.last().map_or(bound, |m| m.seq) };
            Ok(PullRes { msgs, max_seq, covered_seq: covered_seq.max(req.after_seq) })
        }
        .await;
        out.answer(id, result).await;
    });
}
