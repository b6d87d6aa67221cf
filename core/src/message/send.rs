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
use oxim_proto::message::MAX_AT_USERS;
use oxim_proto::op;
use oxim_proto::payload::{SendMsgReq, SendMsgRes};

pub use super::content::{Complete, Progress, check_content};
use super::{media, queue};
use crate::error::{Error, Result};
use crate::model::message::{Message, MessageStatus, OfflinePushInfo};
use crate::session::Session;

/// A new message id: 32 hex digits, the first 12 the local time in Unix milliseconds, the other
/// 20 (80 bits) random. Unique without coordination, so the SDK can make it before the network
/// is reachable. Ids made later sort after earlier ones, so the indexes on message ids (the
/// device's store and the server's `msg_by_id`) take a new id at their end, on a page a batch
/// of messages shares, not on a random page each (docs/benchmarks.md, "Fourth round").
pub fn new_msg_id() -> String {
    let ms = crate::clock::unix_ms().max(0) as u64 & 0xffff_ffff_ffff;
    format!("{ms:012x}{:04x}{:016x}", fastrand::u16(..), fastrand::u64(..))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use std::sync::Arc;
    use std::time::Duration;

    use oxim_proto::op;

    use super::*;
    use crate::error::Result;
    use crate::events::{Dispatcher, Listeners};
    use crate::link::Link;
    use crate::media::MediaClient;
    use crate::message::queue::resume;
    use crate::model::message::{ConvId, Elem};
    use crate::store;
    use crate::store::Store;
    use crate::test_peer::{Conn, Peer, WAIT, eventually};
    use crate::transport::Transport;

    fn session(dir: &std::path::Path, link: &Arc<Link>) -> Arc<Session> {
        let store = Arc::new(Store::open(&dir.join("oxim.db")).unwrap());
        let events = Arc::new(Dispatcher::start(Arc::new(Listeners::default())));
        let media = MediaClient::new("http://127.0.0.1:1", 1, "me", "sig").unwrap();
        Session::start("me".into(), store, link.clone(), events, 0, media, Duration::from_secs(60))
    }

    async fn connect(peer: &mut Peer, link: &Link) -> Conn {
        let (pushes, _) = tokio::sync::mpsc::unbounded_channel();
        let t = Transport::connect(&peer.url, Duration::from_secs(20), WAIT, pushes).await.unwrap();
        let conn = peer.accept().await;
        link.publish(Some(t));
        conn
    }

    /// Queues a text to bob; the send runs in a task.
    fn send(session: &Arc<Session>, id: &str) -> tokio::task::JoinHandle<Result<Message>> {
        let msg = Message::draft("me", Elem::Text { text: id.into() }, id.into(), 1);
        let opts = SendOptions { receiver: "bob".into(), ..SendOptions::default() };
        tokio::spawn(send_message(session, msg, opts, None).unwrap())
    }

    /// The next `n` sends the peer reads: (request id, msgID).
    async fn sends(conn: &mut Conn, n: usize) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while out.len() < n {
            let r = conn.request().await.expect("a request");
            if r.op == op::MSG_SEND {
                out.push((r.id, r.body["msg"]["msg_id"].as_str().unwrap().to_owned()));
            }
        }
        out
    }

    fn accept(conn: &Conn, id: u64, seq: u64) {
        conn.answer(id, json!({ "seq": seq, "time_ms": 1000 * seq as i64 }));
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("m{i:02}")).collect()
    }

    #[test]
    fn message_ids_are_unique_hex_and_sort_by_the_time_they_were_made() {
        let first = new_msg_id();
        let many: std::collections::HashSet<String> = (0..10_000).map(|_| new_msg_id()).collect();
        assert_eq!(many.len(), 10_000, "unique");
        assert!(many.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(2) {
            std::hint::spin_loop();
        }
        let later = new_msg_id();
        assert!(later > first, "{later} made after {first}");
        let ms = u64::from_str_radix(&later[..12], 16).unwrap() as i64;
        assert!((crate::clock::unix_ms() - ms).abs() < 60_000, "the first 12 digits are the time");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_made_while_offline_go_out_pipelined_in_call_order_and_resume_after_a_lost_connection() {
        let dir = tempfile::tempdir().unwrap();
        let (mut peer, link) = (Peer::start(false).await, Arc::new(Link::default()));
        let s = session(dir.path(), &link);
        // Twenty sends without waiting for each other, while there is no connection.
        let calls: Vec<_> = ids(0..20).iter().map(|id| send(&s, id)).collect();
        let mut conn = connect(&mut peer, &link).await;
        // All twenty go out at once (no answer yet), in the order of the calls.
        let first = sends(&mut conn, 20).await;
        assert_eq!(first.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), ids(0..20));
        // Five are answered, then the connection is lost.
        for (seq, (id, _)) in first.iter().take(5).enumerate() {
            accept(&conn, *id, seq as u64 + 1);
        }
        for call in &calls[..5] {
            eventually("the first five settled", || call.is_finished()).await;
        }
        drop(conn);
        // On the next connection the queue goes on from the first message without an answer.
        let mut conn = connect(&mut peer, &link).await;
        let again = sends(&mut conn, 15).await;
        assert_eq!(again.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), ids(5..20));
        for (i, (id, _)) in again.iter().enumerate() {
            accept(&conn, *id, 6 + i as u64);
        }
        let mut seqs = Vec::new();
        for call in calls {
            let sent = tokio::time::timeout(WAIT, call).await.unwrap().unwrap().unwrap();
            assert_eq!(sent.status, MessageStatus::SendSucc);
            seqs.push(sent.seq);
        }
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "each call answered with its own seq");
        let queued = s.store.call(|db| store::send_queue::queued_conversations(db)).await.unwrap();
        assert!(queued.is_empty());
        s.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_send_goes_out_before_its_fsync_and_answers_only_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut peer, link) = (Peer::start(false).await, Arc::new(Link::default()));
        let s = session(dir.path(), &link);
        let mut conn = connect(&mut peer, &link).await;
        // A disk whose fsyncs do not end: the message still reaches the server.
        s.store.hold_syncs(true);
        let mut call = send(&s, "m00");
        let out = sends(&mut conn, 1).await;
        assert_eq!(out[0].1, "m00");
        accept(&conn, out[0].0, 1);
        // Recorded as sent, but the caller is not told before the record is on the disk.
        eventually("the acceptance recorded", || {
            let store = s.store.clone();
            futures_util::FutureExt::now_or_never(store.call(|db| store::find_message(db, "me", "m00")))
                .and_then(|r| r.ok())
                .flatten()
                .is_some_and(|m| m.status == MessageStatus::SendSucc)
        })
        .await;
        assert!(
            tokio::time::timeout(Duration::from_millis(300), &mut call).await.is_err(),
            "answered before its fsync"
        );
        s.store.hold_syncs(false);
        let sent = tokio::time::timeout(WAIT, call).await.unwrap().unwrap().unwrap();
        assert_eq!((sent.status, sent.seq), (MessageStatus::SendSucc, 1));
        // The conversation's changes (new, then the acceptance) were told and marked told in
        // the transactions that made them: nothing is left for the next session to tell.
        let untold = s.store.call(|db| store::conversations::pending_announcements(db)).await.unwrap();
        assert!(untold.is_empty(), "{untold:?}");
        s.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_a_session_left_queued_goes_out_first_in_the_next_and_a_refusal_fails_only_its_message() {
        let dir = tempfile::tempdir().unwrap();
        let (mut peer, link) = (Peer::start(false).await, Arc::new(Link::default()));
        let s = session(dir.path(), &link);
        let calls: Vec<_> = ids(0..6).iter().map(|id| send(&s, id)).collect();
        eventually("six queued", || {
            let store = s.store.clone();
            futures_util::FutureExt::now_or_never(
                store.call(|db| Ok(store::send_queue_front(db, "me", &ConvId::C2C("bob".into()), 100)?.len())),
            )
            .and_then(|r| r.ok())
                == Some(6)
        })
        .await;
        // Logout: the callers hear 6008 (interrupted); the messages stay queued.
        s.close();
        for call in calls {
            let e = tokio::time::timeout(WAIT, call).await.unwrap().unwrap().unwrap_err();
            assert_eq!(e.code, oxim_proto::code::SDK_COMM_INTERRUPT);
        }
        drop(s);

        // The next session drains them before what it is asked to send itself.
        let s = session(dir.path(), &link);
        resume(&s).await.unwrap();
        let later = send(&s, "m06");
        let mut conn = connect(&mut peer, &link).await;
        // The six go out first (m06 with them, or once they are answered if the drain read its
        // queue before m06 was on record).
        let mut out = sends(&mut conn, 6).await;
        assert_eq!(out.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), ids(0..6));
        // The server refuses m03 (say, too big for it): it alone fails, the others are sent.
        let answer = |conn: &Conn, i: usize, id: u64| {
            if i == 3 {
                conn.refuse(id, oxim_proto::code::SVR_COMM_BODY_SIZE_LIMIT, "too big");
            } else {
                accept(conn, id, 1 + i as u64);
            }
        };
        for (i, (id, _)) in out.iter().enumerate() {
            answer(&conn, i, *id);
        }
        out.extend(sends(&mut conn, 1).await);
        assert_eq!(out[6].1, "m06", "then what was sent after them");
        answer(&conn, 6, out[6].0);
        let sent = tokio::time::timeout(WAIT, later).await.unwrap().unwrap().unwrap();
        assert_eq!(sent.seq, 7);
        let statuses = s
            .store
            .call(|db| {
                (0..7)
                    .map(|i| Ok(store::find_message(db, "me", &format!("m{i:02}"))?.unwrap().status))
                    .collect::<Result<Vec<_>>>()
            })
            .await
            .unwrap();
        let mut want = vec![MessageStatus::SendSucc; 7];
        want[3] = MessageStatus::SendFail;
        assert_eq!(statuses, want);
        s.close();
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refusal_for_the_rate_keeps_the_message_sending_and_sends_again_from_it_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut peer, link) = (Peer::start(false).await, Arc::new(Link::default()));
        let s = session(dir.path(), &link);
        let calls: Vec<_> = ids(0..4).iter().map(|id| send(&s, id)).collect();
        let mut conn = connect(&mut peer, &link).await;
        let first = sends(&mut conn, 4).await;
        assert_eq!(first.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), ids(0..4));
        // m00 is accepted; the server refuses m01 for the rate, and the rest behind it.
        accept(&conn, first[0].0, 1);
        for (id, _) in &first[1..] {
            conn.refuse(*id, oxim_proto::code::SVR_SSO_FREQ_LIMIT, "too fast");
        }
        eventually("m00 settled", || calls[0].is_finished()).await;
        // While it waits, nothing failed: m01 is still SENDING and its caller still waits.
        let status = s.store.call(|db| Ok(store::find_message(db, "me", "m01")?.unwrap().status)).await.unwrap();
        assert_eq!(status, MessageStatus::Sending);
        assert!(!calls[1].is_finished());
        // After the backoff the queue sends again from m01, alone (the server took none of
        // the last flight after m00), then the rest.
        let again = sends(&mut conn, 1).await;
        assert_eq!(again[0].1, "m01");
        accept(&conn, again[0].0, 2);
        let rest = sends(&mut conn, 2).await;
        assert_eq!(rest.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), ids(2..4));
        for (i, (id, _)) in rest.iter().enumerate() {
            accept(&conn, *id, 3 + i as u64);
        }
        let mut seqs = Vec::new();
        for call in calls {
            seqs.push(tokio::time::timeout(WAIT, call).await.unwrap().unwrap().unwrap().seq);
        }
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        s.close();
    }
}
