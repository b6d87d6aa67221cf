//! The send queues: one per conversation, kept in the store (`store::send_queue`) and drained
//! front first by one task per conversation, so messages reach the server in the order
//! `sendMessage` was called — also when the calls did not wait for each other, across
//! reconnections and across restarts of the app (matrix-sdk's send queue is the model).
//!
//! A drain sends the front of its queue pipelined: every message up to the next one with files
//! still to upload goes out at once on the current connection (the server reads a connection's
//! requests in order), and the answers are taken in that order. When an answer is lost with
//! the connection, the drain waits for the next connection and sends again from the first
//! message without an answer; the message ids make the server keep each message once, and it
//! answers a message it already has with its seq, so the order holds across every break.
//!
//! A message whose send call is waiting fails once the session's send timeout (from the call)
//! has passed without an answer; it then leaves the queue as SEND_FAIL, and the messages behind
//! it go on. A message left from an earlier session has no caller: it waits for a connection
//! as long as it takes, then gets the send timeout from its first attempt.
//!
//! A message the server refuses for the user's message rate (-10113: nothing stored, try again
//! in a moment) stays SENDING and in its place: the drain waits (0.2 s, doubling to 5 s, with
//! jitter) and sends again from it. The server refuses the later messages of the conversation
//! on the connection until the refused one comes again, so they keep their order. A message
//! still refused [`SendQueues`]' rate retry limit (2 min by default) after its first refusal
//! fails with -10113. A logout ends the waits: the messages stay queued, as any queued message.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oxim_proto::code::SVR_SSO_FREQ_LIMIT;
use oxim_proto::op;
use oxim_proto::payload::{SendMsgReq, SendMsgRes};
use tokio::sync::oneshot;

use super::content::{Complete, Progress, check_content};
use super::media;
use crate::conversation::local_change;
use crate::error::{Error, Result};
use crate::model::message::{ConvId, Message, MessageStatus};
use crate::session::Session;
use crate::store;
use crate::sync::SyncCmd;

/// Messages a drain takes from the store at a time (and so at most in flight).
const WINDOW: u32 = 64;

/// How long a message without a waiting caller waits for a connection before its first
/// attempt: as long as the session lives.
const NO_DEADLINE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The first wait after a refusal for the rate, and the longest (the wait doubles between).
const RATE_BACKOFF: (Duration, Duration) = (Duration::from_millis(200), Duration::from_secs(5));

/// How long a message refused for the rate is retried by default
/// ([`crate::SdkConfig::rate_retry_limit`]).
const RATE_RETRY_LIMIT: Duration = Duration::from_secs(120);

/// The send queues of a session: which conversations are being drained, and the callers
/// waiting for their messages.
#[derive(Default)]
pub(crate) struct SendQueues {
    drains: Mutex<HashMap<ConvId, Arc<Drain>>>,
    waiters: Mutex<HashMap<String, Vec<Waiter>>>,
    /// How long a message refused for the rate is retried (`None`: [`RATE_RETRY_LIMIT`]).
    rate_retry_limit: Mutex<Option<Duration>>,
}

/// Sets how long `session`'s queues retry a message refused for the user's message rate.
pub(crate) fn set_rate_retry_limit(session: &Session, limit: Duration) {
    *session.state::<SendQueues>().rate_retry_limit.lock().expect("send queue lock") = Some(limit);
}

/// A drain's retries of messages the server refused for the rate.
#[derive(Default)]
struct RateRetries {
    /// When each refused message was first refused.
    since: HashMap<String, Instant>,
    /// The wait before the next attempt (zero: no refusal since the last acceptance).
    backoff: Duration,
    /// After a refusal, how many messages may go out at once (`None`: [`WINDOW`]): what the
    /// server took last time, doubling while it takes them all, so a retry does not send a
    /// whole window to be refused again.
    flight: Option<usize>,
}

impl RateRetries {
    /// Whether `msg_id`, refused now, is still to be retried (its limit since its first
    /// refusal has not passed).
    fn retry(&mut self, msg_id: &str, limit: Duration) -> bool {
        let since = *self.since.entry(msg_id.to_owned()).or_insert_with(Instant::now);
        since.elapsed() < limit
    }

    /// The wait before sending again: the backoff, doubled since the previous refusal, with
    /// up to a quarter taken off at random so the devices of a user do not retry in step.
    fn next_wait(&mut self) -> Duration {
        self.backoff = if self.backoff.is_zero() { RATE_BACKOFF.0 } else { (self.backoff * 2).min(RATE_BACKOFF.1) };
        self.backoff.mul_f64(1.0 - fastrand::f64() / 4.0)
    }

    /// A flight ended: `accepted` of its messages were taken, and the next was refused
    /// (`refused`) or not.
    fn flown(&mut self, accepted: usize, refused: bool) {
        self.flight = match (refused, self.flight) {
            (true, _) => Some(accepted.max(1)),
            (false, Some(n)) if n * 2 < WINDOW as usize => Some(n * 2),
            (false, _) => None,
        };
    }

    /// `msg_id` was settled (accepted or failed): the backoff starts over.
    fn settled(&mut self, msg_id: &str) {
        self.since.remove(msg_id);
        self.backoff = Duration::ZERO;
    }
}

/// A conversation's drain task, as the queues see it.
#[derive(Default)]
struct Drain {
    /// Bumped (under the `drains` lock) each time a message is queued, so the task can tell
    /// whether its queue may have grown since it last found it empty.
    asked: AtomicU64,
}

/// A `sendMessage` call waiting for its message.
struct Waiter {
    /// The caller's message, answered with the server's seq and time.
    msg: Message,
    progress: Option<Progress>,
    /// When the call gives up (the session's send timeout after the call).
    deadline: Instant,
    reply: oneshot::Sender<Result<Message>>,
}

fn interrupted() -> Error {
    Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the session ended; the message is sent after the next login")
}

/// Queues `msg` (checked and addressed; `complete` fills in its content first) at once, and
/// returns the wait until the server accepted it, it failed, or the session ended (then it
/// stays queued and goes out after the next login).
pub(super) fn send(
    session: &Arc<Session>,
    conv: ConvId,
    msg: Message,
    progress: Option<Progress>,
    complete: Option<Complete>,
) -> impl Future<Output = Result<Message>> + Send + 'static {
    let queues = session.state::<SendQueues>();
    let id = msg.msg_id.clone();
    let (reply, answer) = oneshot::channel();
    let waiter = Waiter { msg: msg.clone(), progress, deadline: Instant::now() + session.send_timeout, reply };
    queues.waiters.lock().expect("send queue lock").entry(id.clone()).or_default().push(waiter);
    // On record at once, and on the disk while it goes out: the drain sends it as soon as it
    // is committed, and an fsync (off the store's lane) runs meanwhile; the call answers only
    // once both are done. After a power cut the message is then either still SENDING in its
    // queue (resent at the next login, same id, in its place) or on the server (the next sync
    // brings it back as sent); waiting for the fsync before sending kept nothing more.
    let (c, mut m) = (conv.clone(), msg);
    let queued = local_change(session, conv.clone(), move |db| {
        if let Some(complete) = complete {
            m.elem = complete(db, m.elem.clone())?;
            check_content(&m.elem)?;
        }
        let queued = store::insert_outgoing(db, &c, &m)?;
        store::conversations::mark_listed(db, &c)?;
        Ok(queued)
    });
    let session = session.clone();
    async move {
        let durable = match queued.await {
            Ok(true) => {
                let durable = session.store.sync_to_disk();
                kick(&session, &conv);
                durable
            }
            // Sent before (a resend of an accepted message): the stored copy is the answer.
            Ok(false) => {
                queues.take_waiters(&id);
                let (me, key) = (session.user_id.clone(), id.clone());
                return match session.store.call(move |db| store::find_message(db, &me, &key)).await? {
                    Some(stored) if stored.status == MessageStatus::SendSucc => Ok(stored),
                    _ => Err(Error::invalid(format!("message {id} cannot be sent again"))),
                };
            }
            Err(e) => {
                queues.take_waiters(&id);
                return Err(e);
            }
        };
        let answer = tokio::select! {
            answer = answer => answer.unwrap_or_else(|_| Err(interrupted())),
            _ = session.ended() => Err(interrupted()),
        };
        // Whatever the answer (accepted, failed, or queued for the next login), the record is
        // on the disk before the caller hears it. A failed fsync loses nothing the server
        // accepted; a message still queued may not survive a power cut: said in the log.
        if let Err(e) = durable.await {
            tracing::warn!("the record of message {id} may not survive a power cut: {e}");
        }
        answer
    }
}

/// Drains every queue that holds messages (after a login or a reconnection).
pub(super) async fn resume(session: &Arc<Session>) -> Result<()> {
    let convs = session.store.call(|db| store::send_queue::queued_conversations(db)).await?;
    for conv in convs {
        kick(session, &conv);
    }
    Ok(())
}

impl SendQueues {
    fn take_waiters(&self, msg_id: &str) -> Vec<Waiter> {
        self.waiters.lock().expect("send queue lock").remove(msg_id).unwrap_or_default()
    }

    /// The earliest deadline of the callers waiting for `msg_id`.
    fn deadline(&self, msg_id: &str) -> Option<Instant> {
        self.waiters.lock().expect("send queue lock").get(msg_id)?.iter().map(|w| w.deadline).min()
    }

    /// Upload progress for the callers waiting for `msg_id`.
    fn report(&self, msg_id: &str, percent: u32) {
        let progress: Vec<Progress> = self
            .waiters
            .lock()
            .expect("send queue lock")
            .get(msg_id)
            .map(|ws| ws.iter().filter_map(|w| w.progress.clone()).collect())
            .unwrap_or_default();
        for p in progress {
            p(percent);
        }
    }
}

/// Makes sure `conv`'s queue is being drained and the drain sees what was just queued.
fn kick(session: &Arc<Session>, conv: &ConvId) {
    let queues = session.state::<SendQueues>();
    let mut drains = queues.drains.lock().expect("send queue lock");
    if let Some(drain) = drains.get(conv) {
        drain.asked.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let drain = Arc::new(Drain::default());
    drains.insert(conv.clone(), drain.clone());
    drop(drains);
    let (session, conv) = (session.clone(), conv.clone());
    crate::runtime::spawn(async move {
        tokio::select! {
            _ = run(&session, &conv, &drain) => {}
            // The messages stay queued for the next session; their callers hear 6008 (send).
            _ = session.ended() => {}
        }
    });
}

/// Drains `conv`'s queue until it is empty.
async fn run(session: &Arc<Session>, conv: &ConvId, drain: &Arc<Drain>) {
    let queues = session.state::<SendQueues>();
    // When messages without a waiting caller were first sent: their timeout runs from there.
    let mut first_sent: HashMap<String, Instant> = HashMap::new();
    let mut rate = RateRetries::default();
    loop {
        let asked = drain.asked.load(Ordering::SeqCst);
        let (me, key) = (session.user_id.clone(), conv.clone());
        let front = match session.store.call(move |db| store::send_queue_front(db, &me, &key, WINDOW)).await {
            Ok(front) => front,
            Err(e) => {
                tracing::info!("reading the send queue of {conv}: {e}");
                Vec::new()
            }
        };
        if front.is_empty() {
            let mut drains = queues.drains.lock().expect("send queue lock");
            if drain.asked.load(Ordering::SeqCst) == asked {
                if drains.get(conv).is_some_and(|d| Arc::ptr_eq(d, drain)) {
                    drains.remove(conv);
                }
                return;
            }
            continue;
        }
        send_front(session, &queues, conv, front, &mut first_sent, &mut rate).await;
    }
}

/// When `msg` is given up: its caller's deadline, or the send timeout after its first attempt.
fn deadline_of(queues: &SendQueues, first_sent: &HashMap<String, Instant>, msg_id: &str) -> Option<Instant> {
    queues.deadline(msg_id).or_else(|| first_sent.get(msg_id).copied())
}

/// Sends the front of a queue (in order, pipelined) until each message is accepted or failed.
async fn send_front(
    session: &Arc<Session>,
    queues: &SendQueues,
    conv: &ConvId,
    mut front: Vec<Message>,
    first_sent: &mut HashMap<String, Instant>,
    rate: &mut RateRetries,
) {
    let rate_limit = queues.rate_retry_limit.lock().expect("send queue lock").unwrap_or(RATE_RETRY_LIMIT);
    let mut next = 0;
    while next < front.len() {
        let head = front[next].msg_id.clone();
        let deadline = deadline_of(queues, first_sent, &head);
        let transport = match session.link.wait_until(deadline.unwrap_or_else(|| Instant::now() + NO_DEADLINE)).await {
            Ok(t) => t,
            // The SDK is shutting down: the messages stay queued.
            Err(_) if !session.is_alive() => return,
            Err(e) => {
                settle_failed(session, queues, conv, &front[next], e).await;
                next += 1;
                continue;
            }
        };
        if media::needs_upload(&front[next].elem) {
            let report = |p: u32| queues.report(&head, p);
            match media::upload_elem(session, &front[next].elem, &report).await {
                Ok(elem) => {
                    let (id, e) = (head.clone(), elem.clone());
                    if let Err(err) = session.store.call(move |db| store::update_elem(db, &id, &e)).await {
                        tracing::info!("recording the upload of {head}: {err}");
                    }
                    front[next].elem = elem;
                }
                Err(e) => {
                    settle_failed(session, queues, conv, &front[next], e).await;
                    next += 1;
                    continue;
                }
            }
        }
        // Everything up to the next message with files goes out now, in order.
        let mut in_flight = VecDeque::new();
        for (i, msg) in front.iter().enumerate().skip(next) {
            if i > next && media::needs_upload(&msg.elem) {
                break;
            }
            if rate.flight.is_some_and(|n| in_flight.len() >= n) {
                break;
            }
            if queues.deadline(&msg.msg_id).is_none() {
                first_sent.entry(msg.msg_id.clone()).or_insert_with(|| Instant::now() + session.send_timeout);
            }
            let mut wire = msg.to_wire();
            wire.elem = wire.elem.without_local_paths();
            in_flight.push_back((i, transport.send::<_, SendMsgRes>(op::MSG_SEND, &SendMsgReq { msg: wire })));
        }
        let (mut refused, mut accepted, flown) = (false, 0, in_flight.len());
        for (i, answer) in in_flight {
            match answer.await {
                Ok(res) => {
                    settle_sent(session, queues, conv, &front[i], res).await;
                    rate.settled(&front[i].msg_id);
                    accepted += 1;
                    next = i + 1;
                }
                // Over the user's message rate: nothing was stored; this message and those
                // behind it (refused too) go again after a wait, in order.
                Err(e) if e.code == SVR_SSO_FREQ_LIMIT && rate.retry(&front[i].msg_id, rate_limit) => {
                    refused = true;
                    break;
                }
                // No answer: send again from here (on the next connection if this one is gone).
                Err(e)
                    if e.is_network()
                        && deadline_of(queues, first_sent, &front[i].msg_id).is_none_or(|d| Instant::now() < d) =>
                {
                    break;
                }
                Err(e) => {
                    settle_failed(session, queues, conv, &front[i], e).await;
                    rate.settled(&front[i].msg_id);
                    next = i + 1;
                }
            }
        }
        if refused || accepted == flown {
            rate.flown(accepted, refused);
        }
        if refused {
            let wait = rate.next_wait();
            tracing::debug!("{conv}: over the message rate, sending again in {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }
    for msg in &front {
        first_sent.remove(&msg.msg_id);
    }
}

/// The server accepted `msg`: record it, move the sync cursor, answer its callers.
async fn settle_sent(session: &Arc<Session>, queues: &SendQueues, conv: &ConvId, msg: &Message, res: SendMsgRes) {
    let id = msg.msg_id.clone();
    let recorded = if res.seq == 0 {
        // Not stored by the server (an AVChatRoom message): not kept here either.
        let c = conv.clone();
        local_change(session, conv.clone(), move |db| {
            store::send_queue::dequeue(db, &id)?;
            store::delete_messages(db, &c, std::slice::from_ref(&id)).map(drop)
        })
        .await
    } else {
        local_change(session, conv.clone(), move |db| store::mark_sent(db, &id, res.seq, res.time_ms)).await
    };
    if let Err(e) = &recorded {
        tracing::info!("recording the acceptance of {}: {e}", msg.msg_id);
    }
    if res.seq > 0 {
        session.sync.send(SyncCmd::Sent { conv: conv.clone(), seq: res.seq });
    }
    for w in queues.take_waiters(&msg.msg_id) {
        if let Some(p) = &w.progress {
            p(100);
        }
        let mut sent = w.msg;
        sent.elem = msg.elem.clone();
        sent.seq = res.seq;
        sent.time_ms = res.time_ms;
        sent.timestamp = res.time_ms / 1000;
        sent.status = MessageStatus::SendSucc;
        let _ = w.reply.send(recorded.clone().map(|_| sent));
    }
}

/// `msg` failed: record SEND_FAIL with the reason (it leaves the queue), answer its callers.
async fn settle_failed(session: &Arc<Session>, queues: &SendQueues, conv: &ConvId, msg: &Message, e: Error) {
    let (id, recorded) = (msg.msg_id.clone(), e.clone());
    if let Err(err) = local_change(session, conv.clone(), move |db| store::mark_failed(db, &id, &recorded)).await {
        tracing::info!("recording the failure of {}: {err}", msg.msg_id);
    }
    for w in queues.take_waiters(&msg.msg_id) {
        let _ = w.reply.send(Err(e.clone()));
    }
}
