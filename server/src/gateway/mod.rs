//! The gateway: the only part of the server that knows connections. It owns ordering,
//! spawning, per-connection limits ([`limits`]) and timeouts, and carries out what handlers
//! return ([`deliver`]).
//!
//! Each connection has a reader loop (this module) and a writer task fed by a bounded outbox.
//! Requests are read in order and dispatched ([`dispatch`]) to their handler:
//!
//! - writes run in the reader loop until they have queued their store write (passed their turn,
//!   see [`Scope`](crate::handlers::Scope)), then finish in a task of their own: one client
//!   pipelines sends without reordering them;
//! - reads run in a task of their own at once;
//! - login runs to its end in the reader loop (the next request must see its sign-in).
//!
//! While a write or login holds up the next request ([`Busy`]), the reader loop still honours
//! kicks, UserSig expiry, disconnects and shutdown.
//!
//! When a request finishes, pushes that reach the requesting connection too are queued first,
//! then its response, then the rest of its effects. A connection with
//! [`MAX_IN_FLIGHT`](limits::MAX_IN_FLIGHT) requests unanswered reads nothing more until one is
//! answered.
//!
//! - [`sessions`]: who is online, each connection's control queue.
//! - [`timer`] and [`deadlines`]: invitation deadlines.

pub mod deadlines;
mod deliver;
mod dispatch;
pub mod limits;
pub mod offline_push;
pub mod sessions;
pub mod timer;

use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use oxim_proto::frame::NoBody;
use oxim_proto::{OutFrame, push};
use tokio::sync::mpsc;

pub use deliver::deliver;
use limits::{MAX_FLUSH_BATCH, OUTBOX_CAPACITY};
use sessions::{Control, ControlQueue, FrameQueue, SessionHandle};

use crate::app::App;
use crate::domain::rate::{SendHolds, SendRate};
use crate::domain::refusal::Refusal;
use crate::handlers::{Caller, Ctx, Effect, Effects, Scope, Session};

/// How the gateway runs a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// A write: in the reader loop until it has queued its store write, then in its own task.
    Write,
    /// A read: in its own task at once.
    Read,
}

/// A request's outcome, ready to send: the response frame and the effects to carry out first.
type Outcome = Result<(String, Effects), Refusal>;

/// A request being handled, up to its answer: one allocation per request (a write's lives until
/// its commit, so it is kept small: see `dispatch`).
type Request = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// A login being handled: its response frame and effects, which the reader loop carries out.
type LoginRun = std::pin::Pin<Box<dyn Future<Output = (String, Effects)> + Send>>;

/// A request the connection's next request must wait for. The reader loop runs it beside its
/// control messages, UserSig expiry and shutdown, which are honoured meanwhile.
enum Busy {
    /// Request `number`, a write, until it has queued its store write (then it finishes in a
    /// task of its own).
    Write { number: u64, request: Request },
    /// A login, to its end (the next request must see the sign-in).
    Login(LoginRun),
}

/// Runs `busy` (pending forever if there is none) until the connection may read its next
/// request; returns a finished login's response and effects. Cancel-safe: dropped, it leaves
/// `busy` to be run on.
async fn run_busy(busy: &mut Option<Busy>, scope: &Scope) -> Option<(String, Effects)> {
    let finished = match busy.as_mut() {
        None => return std::future::pending().await,
        Some(Busy::Login(login)) => {
            let done = login.await;
            *busy = None;
            return Some(done);
        }
        Some(Busy::Write { number, request }) => {
            let number = *number;
            scope.run_inline(number);
            let finished = poll_fn(|cx| match request.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(true),
                Poll::Pending if scope.passed(number) => Poll::Ready(false),
                Poll::Pending => Poll::Pending,
            })
            .await;
            scope.run_elsewhere();
            finished
        }
    };
    if let Some(Busy::Write { request, .. }) = busy.take()
        && !finished
    {
        tokio::spawn(request);
    }
    None
}

/// Lets a busy request go on without its connection, which is ending: a write finishes in a
/// task of its own (its store write may be queued already); a login has nobody to sign in.
fn abandon(busy: Option<Busy>, scope: &Scope) {
    if let Some(Busy::Write { request, .. }) = busy {
        scope.run_elsewhere();
        tokio::spawn(request);
    }
}

/// Where a connection's requests answer: its outbox, and the server for their effects (one per
/// connection, shared by its requests in flight).
struct Outbox {
    app: Arc<App>,
    frames: FrameQueue,
    origin: u64,
}

impl Outbox {
    /// Queues the response (or refusal) to request `id` and carries out the outcome's effects:
    /// pushes that reach the requesting connection too go out before the response (a device
    /// learns of a group tip's seq before the call that caused it returns), everything else after
    /// it (the requester is answered first).
    async fn finish(self: Arc<Self>, id: u64, outcome: Outcome) {
        let (json, effects) = match outcome {
            Ok((json, effects)) => (json, effects),
            Err(refusal) => (OutFrame::<NoBody>::error(id, refusal.code, &refusal.desc).to_json(), Vec::new()),
        };
        let to_caller = |e: &Effect| matches!(e, Effect::Push(p) if p.to_caller);
        let after = if effects.iter().any(to_caller) {
            let (before, after): (Effects, Effects) = effects.into_iter().partition(to_caller);
            deliver(&self.app, before, Some(self.origin));
            after
        } else {
            effects
        };
        // Fails only when the writer is gone, i.e. the connection is closing anyway.
        let _ = self.frames.send(json.into()).await;
        deliver(&self.app, after, Some(self.origin));
    }
}

/// One connection, as the reader loop keeps it.
struct Conn {
    app: Arc<App>,
    id: u64,
    /// Who is signed in, if anyone.
    session: Option<Session>,
    outbox: Arc<Outbox>,
    control: ControlQueue,
    /// What this connection's requests share (services, the order of their writes).
    scope: Arc<Scope>,
    /// Requests read so far.
    requests: u64,
    /// The signed-in user's message bucket (shared with their other sessions).
    send_rate: Option<Arc<SendRate>>,
    /// Conversations held back after a refusal for the rate (the signed-in user's).
    send_holds: Option<Arc<SendHolds>>,
}

impl Conn {
    /// The signed-in caller, or the refusal for a request that needs one.
    fn caller(&self) -> Result<Caller, Refusal> {
        self.session
            .as_ref()
            .map(|s| {
                Caller::on(s.user.clone(), s.platform.clone())
                    .with_login(s.login.clone())
                    .with_send_rate(self.send_rate.clone())
                    .with_send_holds(self.send_holds.clone())
            })
            .ok_or_else(|| Refusal::new(oxim_proto::code::SDK_NOT_LOGGED_IN, "not logged in"))
    }

    /// The context of the next request, and its number.
    fn next_ctx(&mut self) -> (Ctx, u64) {
        self.requests += 1;
        (Ctx::in_scope(self.scope.clone(), self.requests), self.requests)
    }

    async fn send(&self, json: String) {
        // Fails only when the writer is gone, i.e. the connection is closing anyway.
        let _ = self.outbox.frames.send(json.into()).await;
    }

    async fn refuse(&self, id: u64, refusal: &Refusal) {
        self.send(OutFrame::<NoBody>::error(id, refusal.code, &refusal.desc).to_json()).await;
    }

    /// Where request futures answer.
    fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    /// Runs request `number` as `order` says: a read in a task of its own at once; a write is
    /// returned, for the reader loop to run until it has queued its write (or finished) before
    /// it reads the next request.
    fn run(&self, order: Order, number: u64, request: Request) -> Option<Busy> {
        match order {
            Order::Read => {
                drop(tokio::spawn(request));
                None
            }
            Order::Write => Some(Busy::Write { number, request }),
        }
    }

    /// Signs the connection in as `session` (a login's effect): replaces any earlier login on
    /// it and kicks the user's session on the same platform.
    fn sign_in(&mut self, session: Session) {
        self.sign_out();
        let handle = SessionHandle {
            conn_id: self.id,
            platform: session.platform.clone(),
            frames: self.outbox.frames.clone(),
            control: self.control.clone(),
        };
        for old in self.app.sessions.bind(&session.user, handle) {
            tracing::info!(user = %session.user, platform = %session.platform, "kicking older session {}", old.conn_id);
            old.control.send(Control::Kicked { by_platform: session.platform.clone() });
        }
        tracing::debug!(user = %session.user, conn = self.id, "signed in");
        let rate = self.app.services.config.limits.user_msg_rate();
        if rate.per_sec > 0 {
            self.send_rate = Some(self.app.send_rates.sign_in(&session.user, rate));
            self.send_holds = Some(self.app.send_rates.holds());
        }
        self.session = Some(session);
    }

    /// Gives the user's message bucket back (the session is over).
    fn release_send_rate(&mut self, user: &str) {
        self.send_holds = None;
        if let Some(bucket) = self.send_rate.take() {
            self.app.send_rates.sign_out(user, bucket);
        }
    }

    /// Drops the login of this connection (it stays open).
    fn sign_out(&mut self) {
        if let Some(session) = self.session.take() {
            self.release_send_rate(&session.user);
            if self.app.sessions.unbind(&session.user, self.id) {
                // Room membership lasts while the user is online; the SDK joins again on reconnect.
                self.app.services.rooms.leave_all(&session.user);
            }
        }
    }
}

/// Serves one upgraded WebSocket until it closes. `alive` is dropped on return, which lets a
/// graceful shutdown know when every connection has finished.
pub fn serve_socket(app: Arc<App>, socket: WebSocket, alive: mpsc::Sender<()>) -> impl Future<Output = ()> + Send {
    // Split before the connection's future exists: a socket taken by an async fn stays in its
    // state for the connection's whole life (368 bytes an idle connection would keep).
    let (sink, stream) = socket.split();
    serve(app, sink, stream, alive)
}

async fn serve(
    app: Arc<App>,
    mut sink: SplitSink<WebSocket, Message>,
    mut stream: SplitStream<WebSocket>,
    _alive: mpsc::Sender<()>,
) {
    let frames = FrameQueue::new(OUTBOX_CAPACITY);
    let controls = ControlQueue::default();
    // What the reader decided: close with a frame, close without one, or drop the socket.
    let (close_tx, mut close_rx) = tokio::sync::oneshot::channel::<Ending>();

    // The writer flushes queued frames, then sends the close frame the reader chose. A client
    // that takes no write for `write_timeout` (it stopped reading) ends the writer, and with it
    // the connection: nothing waits on it forever.
    let write_timeout = app.services.config.write_timeout;
    let queued = frames.clone();
    let mut writer = tokio::spawn(async move {
        // However the writer ends, nothing more is queued for it (senders learn it is gone).
        let _closed = CloseOnDrop(queued.clone());
        let ending = loop {
            tokio::select! {
                biased;
                frame = queued.recv() => {
                    // Everything already queued goes out with this frame in one flush (one
                    // write instead of one per frame under load).
                    let batch = async {
                        sink.feed(Message::Text(frame)).await?;
                        let mut batched = 1;
                        while batched < MAX_FLUSH_BATCH && let Some(frame) = queued.try_recv() {
                            sink.feed(Message::Text(frame)).await?;
                            batched += 1;
                        }
                        sink.flush().await
                    };
                    // Boxed: only a writer that is writing needs room for this; an idle
                    // connection's task keeps only the wait above.
                    if !matches!(Box::pin(tokio::time::timeout(write_timeout, batch)).await, Ok(Ok(()))) { return }
                },
                // The reader has ended and says how (dropped unsent if it ended by a panic).
                ending = &mut close_rx => break ending,
            }
        };
        let close = match ending.unwrap_or(Ending::Close(None)) {
            Ending::Abort => return,
            Ending::Close(close) => close,
        };
        // Drain what is already queued (responses to the last requests) first.
        let goodbye = async {
            while let Some(frame) = queued.try_recv() {
                sink.send(Message::Text(frame)).await?;
            }
            sink.send(Message::Close(close)).await
        };
        let _ = Box::pin(tokio::time::timeout(write_timeout, goodbye)).await;
    });

    let id = app.next_conn_id();
    let mut conn = Conn {
        id,
        session: None,
        outbox: Arc::new(Outbox { app: app.clone(), frames, origin: id }),
        control: controls.clone(),
        scope: Scope::new(app.services.clone()),
        requests: 0,
        send_rate: None,
        send_holds: None,
        app: app.clone(),
    };
    let mut shutdown = app.shutdown.clone();
    let idle = app.services.config.idle_timeout;
    let slots = limits::Slots::new();
    let scope = conn.scope.clone();
    // The request the next one waits for, if any.
    let mut busy: Option<Busy> = None;
    // A socket without a login is closed at its login deadline, counted from its opening or
    // from the end of its last login (logout, kick, UserSig expiry); 0 s: no deadline.
    let login_deadline = app.services.config.limits.login_deadline();
    let mut unsigned_since = Some(tokio::time::Instant::now());
    let ending = loop {
        match (&conn.session, unsigned_since) {
            (Some(_), _) => unsigned_since = None,
            (None, None) => unsigned_since = Some(tokio::time::Instant::now()),
            (None, Some(_)) => {}
        }
        // One timer: a signed-in connection's UserSig expiry, or a socket's login deadline (not
        // while a login runs: it may sign the socket in).
        let timer = match (&conn.session, unsigned_since) {
            (Some(session), _) => Some(Timer::UserSigExpiry(session.expires_at)),
            (None, Some(since)) if busy.is_none() && !login_deadline.is_zero() => {
                Some(Timer::LoginDeadline(since + login_deadline))
            }
            (None, _) => None,
        };
        // A plain sleep in the select below (not an async fn around one): every idle
        // connection keeps it.
        let fires_at = timer.map_or_else(tokio::time::Instant::now, |t| timer_deadline(&app, t));
        // The next frame is read only once a request more may be in flight.
        let next = async {
            let slot = slots.take(&app.peak_in_flight).await;
            (slot, tokio::time::timeout(idle, stream.next()).await)
        };
        tokio::select! {
            (slot, incoming) = next, if busy.is_none() => match incoming {
                Err(_) => break Ending::close(4000, "idle timeout"),
                Ok(Some(Err(e))) if limits::is_too_big(&e) => break Ending::close(1009, "message too big"),
                Ok(None) | Ok(Some(Err(_))) => break Ending::Close(None),
                // Boxed: the request handlers' futures are large, and an idle connection's task
                // would otherwise reserve room for the largest of them.
                Ok(Some(Ok(Message::Text(text)))) => {
                    busy = Box::pin(dispatch::dispatch(&mut conn, text.as_str(), slot)).await;
                }
                Ok(Some(Ok(Message::Close(_)))) => break Ending::Close(None),
                // Pings are answered by the WebSocket layer; they only keep the connection alive.
                Ok(Some(Ok(_))) => {}
            },
            done = run_busy(&mut busy, &scope) => if let Some((json, effects)) = done {
                let effects = sign_in_effects(&mut conn, effects);
                deliver(&conn.app, effects, Some(conn.id));
                conn.send(json).await;
            },
            control = controls.recv() => match control {
                Control::Kicked { by_platform } => {
                    // The registry already replaced this session.
                    if let Some(session) = conn.session.take() {
                        conn.release_send_rate(&session.user);
                    }
                    let kicked = oxim_proto::payload::KickedPush { platform: by_platform };
                    conn.send(OutFrame::push(push::KICKED, &kicked).to_json()).await;
                }
                Control::Overflow => break Ending::close(4001, "too slow: outbox full"),
                Control::Disconnect => break Ending::Abort,
            },
            _ = tokio::time::sleep_until(fires_at), if timer.is_some() => match timer {
                Some(Timer::UserSigExpiry(_)) => {
                    conn.sign_out();
                    conn.send(OutFrame::push(push::USERSIG_EXPIRED, &serde_json::json!({})).to_json()).await;
                }
                _ => break Ending::close(limits::CLOSE_LOGIN_DEADLINE, "login deadline: connect again to log in"),
            },
            _ = shutdown.changed() => break Ending::close(1001, "server shutting down"),
            // The writer gave up on a client that stopped reading (or its socket failed).
            _ = &mut writer => {
                tracing::info!(conn = conn.id, "client stopped taking writes: disconnected");
                abandon(busy, &scope);
                conn.sign_out();
                return;
            }
        }
    };
    abandon(busy, &scope);
    conn.sign_out();
    let _ = close_tx.send(ending);
    drop(conn);
    let _ = writer.await;
}

/// Closes a connection's frame queue when its writer ends, however it ends.
struct CloseOnDrop(FrameQueue);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// How a connection ends.
enum Ending {
    /// Close handshake, optionally with a code and reason.
    Close(Option<CloseFrame>),
    /// Drop the socket without a handshake, as a network loss would.
    Abort,
}

impl Ending {
    fn close(code: u16, reason: &'static str) -> Ending {
        Ending::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
    }
}

/// What a connection's timer waits for.
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// The signed-in user's UserSig expires at this Unix time (seconds, the server's clock).
    UserSigExpiry(i64),
    /// A socket without a login is closed at this instant.
    LoginDeadline(tokio::time::Instant),
}

/// When `timer` fires, on the runtime's clock (a UserSig expiry is a Unix time on the server's
/// clock).
fn timer_deadline(app: &App, timer: Timer) -> tokio::time::Instant {
    match timer {
        Timer::UserSigExpiry(unix_secs) => {
            let wait_ms = (unix_secs * 1000 - app.services.now_ms()).max(0);
            tokio::time::Instant::now() + Duration::from_millis(wait_ms as u64)
        }
        Timer::LoginDeadline(at) => at,
    }
}

/// The refusal for a request body that does not parse.
fn bad_body(e: serde_json::Error) -> Refusal {
    Refusal::new(oxim_proto::code::INVALID_PARAMETERS, format!("malformed request body: {e}"))
}

/// Carries out a login's sign-in (an effect only the connection can carry out) and returns the
/// other effects.
fn sign_in_effects(conn: &mut Conn, effects: Effects) -> Effects {
    let mut rest = Vec::with_capacity(effects.len());
    for effect in effects {
        match effect {
            Effect::SignIn(session) => conn.sign_in(session),
            other => rest.push(other),
        }
    }
    rest
}
