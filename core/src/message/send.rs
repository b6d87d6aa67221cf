//! Sending messages.
//!
//! An outgoing message is checked, stored locally as SENDING and put in its conversation's
//! send queue ([`super::queue`]) before anything goes to the network. Its id is made at
//! creation and kept across every retry, so the server's deduplication makes resending safe:
//! after a lost answer, a reconnect or an app restart, the message is stored once, and the
//! queue keeps the order of the calls. Files are uploaded first (with progress); the message
//! ends SEND_SUCC (with the server's seq and time) or SEND_FAIL with the error. Online-only
//! messages are never stored and go out at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use oxim_proto::ids::is_valid_user_id;
use oxim_proto::message::{MAX_AT_USERS, MAX_ELEM_BYTES};
use oxim_proto::op;
use oxim_proto::payload::{MAX_MSG_BODY_BYTES, SendMsgReq, SendMsgRes};

use super::{media, queue};
use crate::error::{Error, Result};
use crate::model::message::{Elem, Message, MessageStatus, OfflinePushInfo};
use crate::session::Session;

/// Progress of a send, 0–100 (file upload; 100 when the server accepted the message).
pub type Progress = Arc<dyn Fn(u32) + Send + Sync>;

/// A new message id: 128 random bits as hex. Unique without coordination, so the SDK can make
/// it before the network is reachable.
pub fn new_msg_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Checks content against V2TIM's rules: not empty, text/custom at most 12 KB, any element at
/// most [`MAX_ELEM_BYTES`] serialised.
pub fn check_content(elem: &Elem) -> Result<()> {
    if !elem.is_sendable() {
        return Err(Error::invalid("this element cannot be sent"));
    }
    if elem.is_empty() {
        return Err(Error::invalid("message content is empty"));
    }
    let too_big = |len: usize| {
        Error::new(
            oxim_proto::code::SDK_MSG_BODY_SIZE_LIMIT,
            format!("message body is {len} bytes; the limit is {MAX_MSG_BODY_BYTES}"),
        )
    };
    if elem.body_len() > MAX_MSG_BODY_BYTES {
        return Err(too_big(elem.body_len()));
    }
    let len = serde_json::to_vec(elem).map(|v| v.len()).unwrap_or(usize::MAX);
    if len > MAX_ELEM_BYTES {
        return Err(too_big(len));
    }
    Ok(())
}

/// How a message is to be sent (`sendMessage`'s parameters after the message).
#[derive(Clone, Default)]
pub struct SendOptions {
    /// C2C receiver (exactly one of `receiver` and `group_id`).
    pub receiver: String,
    /// Group.
    pub group_id: String,
    /// `V2TIMMessagePriority`.
    pub priority: i32,
    /// Deliver to online users only; never stored.
    pub online_user_only: bool,
    /// Offline push settings.
    pub offline_push_info: Option<OfflinePushInfo>,
    /// Upload progress.
    pub progress: Option<Progress>,
}

/// Completes a message's content from the store before it is checked and sent (a merged
/// message's inner messages); runs in the job that queues the message.
pub type Complete = Box<dyn FnOnce(&rusqlite::Connection, Elem) -> Result<Elem> + Send>;

/// A send under way.
pub type Sending = Pin<Box<dyn Future<Output = Result<Message>> + Send>>;

/// `sendMessage`: checks and addresses `msg` and queues it (stored as SENDING at the end of
/// its conversation's send queue) before returning, so messages are queued in the order of
/// the calls; the returned future uploads its files, sends it and resolves to the sent
/// message with its seq and server time. Online-only and AVChatRoom messages are not queued.
pub fn send_message(
    session: &Arc<Session>,
    mut msg: Message,
    opts: SendOptions,
    complete: Option<Complete>,
) -> Result<Sending> {
    if opts.receiver.is_empty() == opts.group_id.is_empty() {
        return Err(Error::invalid("give exactly one of receiver and groupID"));
    }
    if !opts.receiver.is_empty() && !is_valid_user_id(&opts.receiver) {
        return Err(Error::invalid("receiver must be 1-32 printable ASCII characters without spaces"));
    }
    if !(0..=3).contains(&opts.priority) {
        return Err(Error::invalid("priority must be a V2TIMMessagePriority value (0-3)"));
    }
    if msg.group_at_user_list.len() > MAX_AT_USERS {
        return Err(Error::invalid(format!("at most {MAX_AT_USERS} users can be @-mentioned")));
    }
    if msg.msg_id.is_empty() {
        msg.msg_id = new_msg_id();
    }
    if complete.is_none() {
        check_content(&msg.elem)?;
    }
    media::check_local_files(&msg.elem)?;
    msg.sender = session.user_id.clone();
    msg.is_self = true;
    msg.is_read = true;
    msg.user_id = opts.receiver.clone();
    msg.group_id = opts.group_id.clone();
    msg.priority = opts.priority;
    msg.online_user_only = opts.online_user_only;
    msg.offline_push_info = opts.offline_push_info.clone();
    msg.status = MessageStatus::Sending;
    msg.seq = 0;
    msg.time_ms = crate::clock::unix_ms();
    msg.timestamp = msg.time_ms / 1000;
    let conv = msg.conv_id();

    // Messages the server does not store are not kept here either (online-only, AVChatRoom):
    // they go out at once, outside the queue.
    if msg.online_user_only || crate::group::is_room(session, &msg.group_id) {
        let session = session.clone();
        return Ok(Box::pin(async move {
            if let Some(complete) = complete {
                let elem = msg.elem.clone();
                msg.elem = session.store.call(move |db| complete(db, elem)).await?;
                check_content(&msg.elem)?;
            }
            send_now(&session, msg, opts.progress).await
        }));
    }
    Ok(Box::pin(queue::send(session, conv, msg, opts.progress, complete)))
}

/// Registers what the message manager does after each reconnection of `session`: draining
/// the send queues (what earlier sessions, or calls that outlasted a disconnection, left).
pub fn attach(session: &Session) {
    session.on_reconnect(Arc::new(|session| {
        Box::pin(async move {
            if let Err(e) = queue::resume(&session).await {
                tracing::info!("resuming the send queues: {e}");
            }
        })
    }));
}

/// Sends a message that is never stored (online-only, AVChatRoom) right away, retrying on
/// network trouble (same id) until the server answers or the session's send timeout passes.
async fn send_now(session: &Arc<Session>, mut msg: Message, progress: Option<Progress>) -> Result<Message> {
    let interrupted = || Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the session ended");
    let report = |p: u32| {
        if let Some(progress) = &progress {
            progress(p);
        }
    };
    if media::needs_upload(&msg.elem) {
        msg.elem = tokio::select! {
            r = media::upload_elem(session, &msg.elem, &report) => r?,
            _ = session.ended() => return Err(interrupted()),
        };
    }
    let mut wire = msg.to_wire();
    wire.elem = wire.elem.without_local_paths();
    let deadline = Instant::now() + session.send_timeout;
    let res = loop {
        let transport = tokio::select! {
            t = session.link.wait_until(deadline) => t?,
            _ = session.ended() => return Err(interrupted()),
        };
        match transport.request::<_, SendMsgRes>(op::MSG_SEND, &SendMsgReq { msg: wire.clone() }).await {
            Ok(res) => break res,
            // The answer was lost or never came: send again; the server keeps it once.
            Err(e) if e.is_network() && Instant::now() < deadline => continue,
            Err(e) => return Err(e),
        }
    };
    msg.seq = res.seq;
    msg.time_ms = res.time_ms;
    msg.timestamp = res.time_ms / 1000;
    msg.status = MessageStatus::SendSucc;
    report(100);
    Ok(msg)
}
