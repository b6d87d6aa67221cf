//! Sending messages.
//!
//! An outgoing message is stored locally as SENDING before anything goes to the network. Its
//! id is made here and kept across every retry, so the server's deduplication makes resending
//! safe: after a lost answer, a reconnect or an app restart, the message is stored once.
//! It ends SEND_SUCC (with the server's seq and time) or SEND_FAIL with the error.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oxim_proto::ids::is_valid_user_id;
use oxim_proto::op;
use oxim_proto::payload::{MAX_MSG_BODY_BYTES, SendMsgReq, SendMsgRes, WireMessage};

use crate::error::{Error, Result};
use crate::session::Session;
use crate::store;
use crate::sync::SyncCmd;
use crate::types::{ConvId, Elem, Message, MessageStatus};

/// How long a send keeps trying to reach the server before the message is marked failed.
/// (A failed message may still be resent with the same id; the server keeps it once.)
pub const SEND_DEADLINE: Duration = Duration::from_secs(30);

/// A new message id: 128 random bits as hex. Unique without coordination, so the SDK can make
/// it before the network is reachable.
pub fn new_msg_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Checks content against V2TIM's rules: not empty, at most 12 KB.
pub fn check_content(elem: &Elem) -> Result<()> {
    if elem.is_empty() {
        return Err(Error::invalid("message content is empty"));
    }
    if elem.body_len() > MAX_MSG_BODY_BYTES {
        return Err(Error::new(
            oxim_proto::code::SDK_MSG_BODY_SIZE_LIMIT,
            format!("message body is {} bytes; the limit is {MAX_MSG_BODY_BYTES}", elem.body_len()),
        ));
    }
    Ok(())
}

/// Sends a one-to-one message with `elem` to `receiver` and waits for the server's answer.
pub async fn send_c2c(session: &Arc<Session>, receiver: String, elem: Elem) -> Result<Message> {
    if !is_valid_user_id(&receiver) {
        return Err(Error::invalid("userID must be 1-32 printable ASCII characters without spaces"));
    }
    check_content(&elem)?;
    let wire = WireMessage {
        msg_id: new_msg_id(),
        seq: 0,
        sender: session.user_id.clone(),
        receiver: receiver.clone(),
        group_id: String::new(),
        time_ms: unix_ms(),
        random: fastrand::u32(..),
        priority: crate::types::priority::DEFAULT,
        online_only: false,
        elem,
        cloud_custom_data: String::new(),
    };
    let conv = ConvId::C2C(receiver);
    let (stored_conv, stored) = (conv.clone(), wire.clone());
    session.store.call(move |db| store::insert_outgoing(db, &stored_conv, &stored)).await?;
    let id = wire.msg_id.clone();
    session.begin_delivery(&id);
    let result = deliver(session, conv, wire).await;
    session.end_delivery(&id);
    result
}

/// Delivers a stored outgoing message: retries on network trouble (same id) until the server
/// answers or [`SEND_DEADLINE`] passes, then records the outcome. If the session ends first
/// (logout, `unInitSDK`), the message stays SENDING and goes out after the next login.
pub async fn deliver(session: &Arc<Session>, conv: ConvId, mut wire: WireMessage) -> Result<Message> {
    let interrupted = || {
        Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the session ended; the message is sent after the next login")
    };
    let deadline = Instant::now() + SEND_DEADLINE;
    let outcome = loop {
        if !session.is_alive() {
            return Err(interrupted());
        }
        let transport = tokio::select! {
            t = session.link.wait_until(deadline) => match t {
                Ok(t) => t,
                Err(e) => break Err(e),
            },
            _ = session.ended() => return Err(interrupted()),
        };
        match transport.request::<_, SendMsgRes>(op::MSG_SEND, &SendMsgReq { msg: wire.clone() }).await {
            Ok(res) => break Ok(res),
            // The answer was lost or never came: send again; the server keeps the message once.
            Err(e) if e.is_network() && Instant::now() < deadline => continue,
            Err(e) => break Err(e),
        }
    };
    let id = wire.msg_id.clone();
    match outcome {
        Ok(res) => {
            session.store.call(move |db| store::mark_sent(db, &id, res.seq, res.time_ms)).await?;
            if res.seq > 0 {
                session.sync.send(SyncCmd::Sent { conv, seq: res.seq });
            }
            wire.seq = res.seq;
            wire.time_ms = res.time_ms;
            Ok(Message::from_wire(&wire, &session.user_id, MessageStatus::SendSucc))
        }
        Err(e) => {
            let recorded = e.clone();
            // The store may already be closed if the session ended; the error stands anyway.
            let _ = session.store.call(move |db| store::mark_failed(db, &id, &recorded)).await;
            Err(e)
        }
    }
}
