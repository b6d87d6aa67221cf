//! Operations on existing messages: revoke, read reports, deletion, clearing, import into
//! local storage, lookups, device-local data, downloads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oxim_proto::op;
use oxim_proto::payload::{ClearReq, ClearRes, DeleteReq, MAX_DELETE, ReadReq, ReadRes, RevokeReq, RevokeRes};

use crate::conversation::local_change;
use crate::error::{Error, Result};
use crate::model::message::{ConvId, Message, MessageStatus};
use crate::session::Session;
use crate::store;
use crate::sync::SyncCmd;

/// `deleteMessages` may be called once per this interval (V2TIM: 1 call per second).
pub const DELETE_INTERVAL: Duration = Duration::from_secs(1);

/// When `deleteMessages` was last called in a session.
#[derive(Default)]
struct DeleteRate {
    last: std::sync::Mutex<Option<Instant>>,
}

/// `revokeMessage`: revokes one of the user's sent messages. Everyone in the conversation (and
/// the user's other devices) gets `onRecvMessageRevoked`; here the stored copy is marked.
pub async fn revoke(session: &Arc<Session>, msg: &Message) -> Result<()> {
    if msg.seq == 0 || msg.online_user_only {
        return Err(Error::invalid("only a message the server stored can be revoked"));
    }
    let conv = msg.conv_id();
    let transport = session.link.current_or_err()?;
    let req = RevokeReq { conv_id: conv.clone(), msg_id: msg.msg_id.clone() };
    let res: RevokeRes = transport.request(op::MSG_REVOKE, &req).await?;
    let id = msg.msg_id.clone();
    local_change(session, conv.clone(), move |db| store::mark_revoked(db, &id).map(drop)).await?;
    // The revoke notice took a seq in the conversation: the cursor moves over it.
    session.sync.send(SyncCmd::Sent { conv, seq: res.seq });
    Ok(())
}

/// `markC2CMessageAsRead` / `markGroupMessageAsRead`: everything in `conv` is read. The user's
/// other devices learn it; for C2C the peer gets a receipt.
pub async fn mark_read(session: &Arc<Session>, conv: ConvId) -> Result<()> {
    let transport = session.link.current_or_err()?;
    let res: ReadRes = transport.request(op::MSG_READ, &ReadReq { conv_id: conv.clone(), seq: 0 }).await?;
    let key = conv.clone();
    local_change(session, conv, move |db| store::advance_read(db, &key, res.read_seq).map(drop)).await
}

/// `deleteMessages`: deletes up to 30 messages of one conversation here and on the server (for
/// this user: the user's other devices delete them too). At most once per second.
pub async fn delete_messages(session: &Arc<Session>, msgs: &[Message]) -> Result<()> {
    if msgs.is_empty() || msgs.len() > MAX_DELETE {
        return Err(Error::invalid(format!("delete 1 to {MAX_DELETE} messages at a time")));
    }
    let conv = msgs[0].conv_id();
    if msgs.iter().any(|m| m.conv_id() != conv) {
        return Err(Error::invalid("the messages must all be in the same conversation"));
    }
    {
        let rate = session.state::<DeleteRate>();
        let mut last = rate.last.lock().expect("delete rate lock");
        if last.is_some_and(|t| t.elapsed() < DELETE_INTERVAL) {
            return Err(Error::new(
                oxim_proto::code::SDK_COMM_API_CALL_FREQUENCY_LIMIT,
                "deleteMessages may be called once per second",
            ));
        }
        *last = Some(Instant::now());
    }
    let on_server: Vec<String> = msgs.iter().filter(|m| m.seq > 0).map(|m| m.msg_id.clone()).collect();
    if !on_server.is_empty() {
        let transport = session.link.current_or_err()?;
        let req = DeleteReq { conv_id: conv.clone(), msg_ids: on_server };
        transport.request::<_, serde_json::Value>(op::MSG_DELETE, &req).await?;
    }
    let ids: Vec<String> = msgs.iter().map(|m| m.msg_id.clone()).collect();
    let key = conv.clone();
    local_change(session, conv, move |db| {
        store::delete_messages(db, &key, &ids)?;
        if store::conversations::in_gap(db, &key)? {
            // The server's count of the part this device did not download may have changed.
            store::conversations::invalidate_gap(db, &key)?;
        }
        Ok(())
    })
    .await?;
    session.sync.send(SyncCmd::Refresh);
    Ok(())
}

/// `deleteMessageFromLocalStorage`: deletes a message from this device only.
pub async fn delete_local(session: &Arc<Session>, msg: &Message) -> Result<()> {
    let (conv, ids) = (msg.conv_id(), vec![msg.msg_id.clone()]);
    let key = conv.clone();
    let id = msg.msg_id.clone();
    local_change(session, conv, move |db| {
        if store::delete_messages(db, &key, &ids)? == 0 {
            return Err(Error::invalid(format!("message {id} is not stored on this device")));
        }
        Ok(())
    })
    .await
}

/// `clearC2CHistoryMessage` / `clearGroupHistoryMessage`: removes the conversation's messages
/// here and on the server (for this user and the user's other devices).
pub async fn clear_history(session: &Arc<Session>, conv: ConvId) -> Result<()> {
    let transport = session.link.current_or_err()?;
    let res: ClearRes = transport.request(op::MSG_CLEAR, &ClearReq { conv_id: conv.clone() }).await?;
    let key = conv.clone();
    local_change(session, conv, move |db| {
        store::clear_messages(db, &key, None)?;
        store::advance_read(db, &key, res.seq)?;
        Ok(())
    })
    .await
}

/// `insertC2CMessageToLocalStorage` / `insertGroupMessageToLocalStorage`: stores a message on
/// this device only (status LOCAL_IMPORTED), as if `sender` had sent it into `conv`.
pub async fn insert_local(session: &Arc<Session>, mut msg: Message, conv: ConvId, sender: String) -> Result<Message> {
    if !oxim_proto::ids::is_valid_user_id(&sender) {
        return Err(Error::invalid("sender must be a valid userID"));
    }
    super::send::check_content(&msg.elem)?;
    if msg.msg_id.is_empty() {
        msg.msg_id = super::send::new_msg_id();
    }
    match &conv {
        ConvId::C2C(peer) => {
            msg.user_id = peer.clone();
            msg.group_id.clear();
        }
        ConvId::Group(g) => {
            msg.group_id = g.clone();
            msg.user_id.clear();
        }
        ConvId::System => return Err(Error::invalid("not a conversation")),
    }
    msg.is_self = sender == session.user_id;
    msg.sender = sender;
    msg.seq = 0;
    msg.status = MessageStatus::LocalImported;
    msg.is_read = true;
    msg.time_ms = crate::clock::unix_ms();
    msg.timestamp = msg.time_ms / 1000;
    let stored = msg.clone();
    let key = conv.clone();
    local_change(session, conv, move |db| {
        store::insert_imported(db, &key, &stored)?;
        store::conversations::mark_listed(db, &key)
    })
    .await?;
    Ok(msg)
}

/// `findMessages`: stored messages by id (unknown ids are left out).
pub async fn find(session: &Arc<Session>, msg_ids: Vec<String>) -> Result<Vec<Message>> {
    let me = session.user_id.clone();
    session.store.call(move |db| store::find_messages(db, &me, &msg_ids)).await
}

/// Sets a message's device-local data (`localCustomData` / `localCustomInt`).
pub async fn set_local_custom(
    session: &Arc<Session>,
    msg_id: String,
    data: Option<String>,
    int: Option<i32>,
) -> Result<()> {
    let found = session.store.call(move |db| store::set_local_custom(db, &msg_id, data.as_deref(), int)).await?;
    if !found {
        return Err(Error::invalid("the message is not stored on this device"));
    }
    Ok(())
}

/// Downloads a file of a message (`url` from its element) to `path`, reporting
/// (current, total) bytes.
pub async fn download(
    session: &Arc<Session>,
    url: String,
    path: String,
    progress: Arc<dyn Fn(u64, u64) + Send + Sync>,
) -> Result<()> {
    if url.is_empty() {
        return Err(Error::invalid("the element has no file on the server (not sent yet?)"));
    }
    if path.is_empty() {
        return Err(Error::invalid("path is empty"));
    }
    session.media.download(&url, std::path::Path::new(&path), &*progress).await
}
