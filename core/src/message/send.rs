//! Sending messages.
//!
//! An outgoing message is stored locally as SENDING before anything goes to the network. Its
//! id is made at creation and kept across every retry, so the server's deduplication makes
//! resending safe: after a lost answer, a reconnect or an app restart, the message is stored
//! once. Files are uploaded first (with progress); the message ends SEND_SUCC (with the
//! server's seq and time) or SEND_FAIL with the error. Online-only messages are never stored.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use oxim_proto::check::Side;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::message::MAX_AT_USERS;
use oxim_proto::op;
use oxim_proto::payload::{SendMsgReq, SendMsgRes};

use super::media;
use crate::conversation::local_change;
use crate::error::{Error, Result};
use crate::model::message::{ConvId, Elem, Message, MessageStatus, OfflinePushInfo};
use crate::session::Session;
use crate::store;
use crate::sync::SyncCmd;

/// Progress of a send, 0–100 (file upload; 100 when the server accepted the message).
pub type Progress = Arc<dyn Fn(u32) + Send + Sync>;

/// A new message id: 128 random bits as hex. Unique without coordination, so the SDK can make
/// it before the network is reachable.
pub fn new_msg_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Checks content against V2TIM's rules (`oxim_proto::check`, the same checks the server runs):
/// sendable by apps, not empty, not a signaling payload, text/custom at most 12 KB, any element
/// at most 512 KiB serialised, at most 300 merged messages. The size limit is
/// reported as the SDK reports it (8001, `ERR_SDK_MSG_BODY_SIZE_LIMIT`).
pub fn check_content(elem: &Elem) -> Result<()> {
    oxim_proto::check::check_content(elem).map_err(|p| Error::new(p.code(Side::Sdk), p.to_string()))
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

/// `sendMessage`: addresses `msg`, stores it as SENDING (unless online-only), uploads its files
/// and sends it. Returns the sent message with its seq and server time.
pub async fn send_message(session: &Arc<Session>, mut msg: Message, opts: SendOptions) -> Result<Message> {
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
    check_content(&msg.elem)?;
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

    let id = msg.msg_id.clone();
    // Messages the server does not store are not kept here either (online-only, AVChatRoom).
    if msg.online_user_only || crate::group::is_room(session, &msg.group_id) {
        return deliver(session, conv, msg, opts.progress).await;
    }
    // SENDING is on record before anything goes out (the brief's delivery rule): a crash
    // after this point resends the message at the next login, with the same id.
    let (c, m) = (conv.clone(), msg.clone());
    local_change(session, conv.clone(), move |db| {
        store::insert_outgoing(db, &c, &m)?;
        store::conversations::mark_listed(db, &c)
    })
    .await?;
    let outbox = session.state::<Outbox>();
    outbox.begin(&id);
    let result = deliver(session, conv, msg, opts.progress).await;
    outbox.end(&id);
    result
}

/// The outgoing messages of a session currently being delivered, so a resend does not race a
/// send.
#[derive(Default)]
struct Outbox {
    inflight: Mutex<HashSet<String>>,
}

impl Outbox {
    /// Marks `msg_id` as being delivered; false if it already is.
    fn begin(&self, msg_id: &str) -> bool {
        self.inflight.lock().expect("outbox lock").insert(msg_id.to_owned())
    }

    /// Marks `msg_id` as no longer being delivered.
    fn end(&self, msg_id: &str) {
        self.inflight.lock().expect("outbox lock").remove(msg_id);
    }
}

/// Registers what the message manager does after each reconnection of `session`: resending
/// what was not acknowledged.
pub fn attach(session: &Session) {
    session.on_reconnect(Arc::new(|session| {
        Box::pin(async move {
            if let Err(e) = resend_pending(&session).await {
                tracing::info!("resending unsent messages: {e}");
            }
        })
    }));
}

/// Resends, oldest first, the messages stored as SENDING that nobody is delivering (left over
/// from a restart of the app or a disconnection that outlasted their send call).
async fn resend_pending(session: &Arc<Session>) -> Result<()> {
    let me = session.user_id.clone();
    let pending = session.store.call(move |db| store::pending_outgoing(db, &me)).await?;
    let outbox = session.state::<Outbox>();
    for (conv, msg) in pending {
        if !session.is_alive() {
            break;
        }
        if outbox.begin(&msg.msg_id) {
            let id = msg.msg_id.clone();
            let result = deliver(session, conv, msg, None).await;
            outbox.end(&id);
            if let Err(e) = result {
                tracing::info!("resend of {id} failed: {e}");
            }
        }
    }
    Ok(())
}

/// Delivers a stored outgoing message: uploads its files if that has not happened yet, then
/// sends it, retrying on network trouble (same id) until the server answers or the session's
/// send timeout passes, and records the outcome. If the session ends first (logout,
/// `unInitSDK`), the message stays SENDING and goes out after the next login.
pub async fn deliver(
    session: &Arc<Session>,
    conv: ConvId,
    mut msg: Message,
    progress: Option<Progress>,
) -> Result<Message> {
    let interrupted = || {
        Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the session ended; the message is sent after the next login")
    };
    let report = |p: u32| {
        if let Some(progress) = &progress {
            progress(p);
        }
    };
    let outcome: Result<SendMsgRes> = async {
        if media::needs_upload(&msg.elem) {
            let uploaded = tokio::select! {
                r = media::upload_elem(session, &msg.elem, &report) => r?,
                _ = session.ended() => return Err(interrupted()),
            };
            msg.elem = uploaded;
            if !msg.online_user_only {
                let (id, elem) = (msg.msg_id.clone(), msg.elem.clone());
                session.store.call(move |db| store::update_elem(db, &id, &elem)).await?;
            }
        }
        let mut wire = msg.to_wire();
        wire.elem = wire.elem.without_local_paths();
        let deadline = Instant::now() + session.send_timeout;
        loop {
            if !session.is_alive() {
                return Err(interrupted());
            }
            let transport = tokio::select! {
                t = session.link.wait_until(deadline) => t?,
                _ = session.ended() => return Err(interrupted()),
            };
            match transport.request::<_, SendMsgRes>(op::MSG_SEND, &SendMsgReq { msg: wire.clone() }).await {
                Ok(res) => return Ok(res),
                // The answer was lost or never came: send again; the server keeps it once.
                Err(e) if e.is_network() && Instant::now() < deadline => continue,
                Err(e) => return Err(e),
            }
        }
    }
    .await;

    let id = msg.msg_id.clone();
    match outcome {
        Ok(res) => {
            if !msg.online_user_only && res.seq == 0 {
                // Not stored by the server (an AVChatRoom message): not kept here either.
                let c = conv.clone();
                local_change(session, conv.clone(), move |db| {
                    store::delete_messages(db, &c, std::slice::from_ref(&id)).map(drop)
                })
                .await?;
            } else if !msg.online_user_only {
                local_change(session, conv.clone(), move |db| store::mark_sent(db, &id, res.seq, res.time_ms)).await?;
            }
            if res.seq > 0 {
                session.sync.send(SyncCmd::Sent { conv, seq: res.seq });
            }
            msg.seq = res.seq;
            msg.time_ms = res.time_ms;
            msg.timestamp = res.time_ms / 1000;
            msg.status = MessageStatus::SendSucc;
            report(100);
            Ok(msg)
        }
        Err(e) if e.code == oxim_proto::code::SDK_COMM_INTERRUPT => Err(e),
        Err(e) => {
            if !msg.online_user_only {
                let recorded = e.clone();
                // The store may already be closed if the session ended; the error stands anyway.
                let _ = local_change(session, conv.clone(), move |db| store::mark_failed(db, &id, &recorded)).await;
            }
            Err(e)
        }
    }
}
