//! One WebSocket connection: reads frames, dispatches requests, writes responses and pushes.
//!
//! Each connection has a reader loop (this module) and a writer task fed by a bounded outbox.
//! Requests are read in order; writes are queued to the store in that order, and their answers
//! are awaited in spawned tasks so one client can have many sends in flight without reordering.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use oxim_proto::frame::NoBody;
use oxim_proto::{FrameType, InFrame, OutFrame, PROTOCOL_VERSION, code, op, push};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::app::App;
pub use crate::domain::refusal::Refusal;
use crate::domain::signaling::SignalAct;
use crate::sessions::{Control, ControlQueue, OUTBOX_CAPACITY, SessionHandle};
use crate::{auth, conversations, groups, messaging, signaling};

/// Most queued frames written with one flush.
const MAX_FLUSH_BATCH: usize = 64;

/// Who is logged in on a connection.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The user.
    pub user: String,
    /// Platform given at login.
    pub platform: String,
    /// When the UserSig expires, Unix seconds.
    pub expires_at: i64,
}

/// Sends responses for one connection; cheap to clone into spawned request tasks.
#[derive(Clone)]
pub struct Responder {
    frames: mpsc::Sender<Utf8Bytes>,
}

impl Responder {
    /// Answers request `id` with `body`.
    pub async fn ok<B: Serialize>(&self, id: u64, body: &B) {
        self.send(OutFrame::ok(id, body).to_json()).await;
    }

    /// Answers request `id` with a failure.
    pub async fn refuse(&self, id: u64, refusal: &Refusal) {
        self.send(OutFrame::<NoBody>::error(id, refusal.code, &refusal.desc).to_json()).await;
    }

    /// Answers request `id` with `result`.
    pub async fn answer<B: Serialize>(&self, id: u64, result: Result<B, Refusal>) {
        match result {
            Ok(body) => self.ok(id, &body).await,
            Err(refusal) => self.refuse(id, &refusal).await,
        }
    }

    /// Queues a push to this connection only.
    pub async fn push<B: Serialize>(&self, event: &str, body: &B) {
        self.send(OutFrame::push(event, body).to_json()).await;
    }

    async fn send(&self, json: String) {
        // Fails only when the writer is gone, i.e. the connection is closing anyway.
        let _ = self.frames.send(json.into()).await;
    }
}

/// The per-connection state the request handlers see.
pub struct Conn {
    /// Shared server state.
    pub app: Arc<App>,
    /// This connection's id.
    pub conn_id: u64,
    /// Logged-in user, if any.
    pub auth: Option<Auth>,
    /// Response channel.
    pub out: Responder,
    control: ControlQueue,
}

impl Conn {
    /// The registry handle for this connection.
    pub fn session_handle(&self, platform: &str) -> SessionHandle {
        SessionHandle {
            conn_id: self.conn_id,
            platform: platform.to_owned(),
            frames: self.out.frames.clone(),
            control: self.control.clone(),
        }
    }

    /// The logged-in user, or the refusal for a request that needs one.
    pub fn user(&self) -> Result<&Auth, Refusal> {
        self.auth.as_ref().ok_or_else(|| Refusal::new(code::SDK_NOT_LOGGED_IN, "not logged in"))
    }

    /// Drops the login of this connection (it stays open).
    pub fn sign_out(&mut self) {
        if let Some(auth) = self.auth.take()
            && self.app.sessions.unbind(&auth.user, self.conn_id)
        {
            // Room membership lasts while the user is online; the SDK joins again on reconnect.
            self.app.rooms.leave_all(&auth.user);
        }
    }
}

pub use oxim_proto::clock::now_ms;

/// Serves one upgraded WebSocket until it closes. `_alive` is dropped on return, which lets a
/// graceful shutdown know when every connection has finished.
pub async fn serve_socket(app: Arc<App>, socket: WebSocket, _alive: mpsc::Sender<()>) {
    let (mut sink, mut stream) = socket.split();
    let (frames_tx, mut frames_rx) = mpsc::channel::<Utf8Bytes>(OUTBOX_CAPACITY);
    let controls = ControlQueue::default();
    // What the reader decided: close with a frame, close without one, or drop the socket.
    let (close_tx, mut close_rx) = tokio::sync::oneshot::channel::<Ending>();

    // The writer flushes queued frames, then sends the close frame the reader chose.
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                frame = frames_rx.recv() => match frame {
                    Some(frame) => {
                        // Everything already queued goes out with this frame in one flush
                        // (one write instead of one per frame under load).
                        if sink.feed(Message::Text(frame)).await.is_err() { return }
                        let mut batched = 1;
                        while batched < MAX_FLUSH_BATCH && let Ok(frame) = frames_rx.try_recv() {
                            if sink.feed(Message::Text(frame)).await.is_err() { return }
                            batched += 1;
                        }
                        if sink.flush().await.is_err() { return }
                    }
                    None => break,
                },
                ending = &mut close_rx => {
                    let close = match ending.unwrap_or(Ending::Close(None)) {
                        Ending::Abort => return,
                        Ending::Close(close) => close,
                    };
                    // Drain what is already queued (responses to the last requests) first.
                    while let Ok(frame) = frames_rx.try_recv() {
                        if sink.send(Message::Text(frame)).await.is_err() { return }
                    }
                    let _ = sink.send(Message::Close(close)).await;
                    return;
                }
            }
        }
    });

    let mut conn = Conn {
        conn_id: app.next_conn_id(),
        auth: None,
        out: Responder { frames: frames_tx },
        control: controls.clone(),
        app: app.clone(),
    };
    let mut shutdown = app.shutdown.clone();
    let idle = app.config.idle_timeout;
    let ending = loop {
        let expiry = conn.auth.as_ref().map(|a| a.expires_at);
        tokio::select! {
            incoming = tokio::time::timeout(idle, stream.next()) => match incoming {
                Err(_) => break Ending::close(4000, "idle timeout"),
                Ok(None) | Ok(Some(Err(_))) => break Ending::Close(None),
                // Boxed: the request handlers' futures are large, and an idle connection's task
                // would otherwise reserve room for the largest of them (about 6 KB).
                Ok(Some(Ok(Message::Text(text)))) => Box::pin(handle_text(&mut conn, text.as_str())).await,
                Ok(Some(Ok(Message::Close(_)))) => break Ending::Close(None),
                // Pings are answered by the WebSocket layer; they only keep the connection alive.
                Ok(Some(Ok(_))) => {}
            },
            control = controls.recv() => match control {
                Control::Kicked { by_platform } => {
                    // The registry already replaced this session.
                    conn.auth = None;
                    conn.out.push(push::KICKED, &oxim_proto::payload::KickedPush { platform: by_platform }).await;
                }
                Control::Overflow => break Ending::close(4001, "too slow: outbox full"),
                Control::Disconnect => break Ending::Abort,
            },
            _ = sleep_until_unix(expiry.unwrap_or(0)), if expiry.is_some() => {
                conn.sign_out();
                conn.out.push(push::USERSIG_EXPIRED, &serde_json::json!({})).await;
            },
            _ = shutdown.changed() => break Ending::close(1001, "server shutting down"),
        }
    };
    conn.sign_out();
    let _ = close_tx.send(ending);
    drop(conn);
    let _ = writer.await;
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

async fn sleep_until_unix(unix_secs: i64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let wait = (unix_secs as f64 - now).max(0.0);
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
}

async fn handle_text(conn: &mut Conn, text: &str) {
    let frame = match InFrame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::debug!(conn = conn.conn_id, "unparsable frame: {e}");
            return;
        }
    };
    if frame.t != FrameType::Request {
        return;
    }
    if frame.v != PROTOCOL_VERSION {
        let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("protocol version {} not supported", frame.v));
        conn.out.refuse(frame.id, &refusal).await;
        return;
    }
    let id = frame.id;
    match frame.op.as_ref() {
        op::LOGIN => match frame.body() {
            Ok(req) => {
                let result = auth::login(conn, req).await;
                conn.out.answer(id, result).await;
            }
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::LOGOUT => {
            conn.sign_out();
            conn.out.ok(id, &serde_json::json!({})).await;
        }
        op::MSG_SEND => match frame.body() {
            Ok(req) => messaging::send(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::SYNC => match frame.body() {
            Ok(req) => messaging::sync(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_PULL => match frame.body() {
            Ok(req) => messaging::pull(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_HISTORY => match frame.body() {
            Ok(req) => messaging::history(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_REVOKE => match frame.body() {
            Ok(req) => messaging::revoke(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_READ => match frame.body() {
            Ok(req) => messaging::read(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_DELETE => match frame.body() {
            Ok(req) => messaging::delete(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::MSG_CLEAR => match frame.body() {
            Ok(req) => messaging::clear(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::CONV_UNREAD => match frame.body() {
            Ok(req) => conversations::unread(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::CONV_DELETE => match frame.body() {
            Ok(req) => conversations::delete(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::CONV_PIN => match frame.body() {
            Ok(req) => conversations::pin(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::CONV_C2C_RECV_OPT_SET => match frame.body() {
            Ok(req) => conversations::set_c2c_recv_opt(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::CONV_C2C_RECV_OPT_GET => match frame.body() {
            Ok(req) => conversations::get_c2c_recv_opt(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::SIGNAL_INVITE => match frame.body() {
            Ok(req) => signaling::invite(conn, id, req).await,
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::SIGNAL_ACCEPT | op::SIGNAL_REJECT | op::SIGNAL_CANCEL => match frame.body() {
            Ok(req) => {
                let act = match frame.op.as_ref() {
                    op::SIGNAL_ACCEPT => SignalAct::Accept,
                    op::SIGNAL_REJECT => SignalAct::Reject,
                    _ => SignalAct::Cancel,
                };
                signaling::act(conn, id, act, req).await
            }
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        op::SIGNAL_GET => match frame.body() {
            Ok(req) => signaling::get(conn, id, req),
            Err(e) => conn.out.refuse(id, &bad_body(e)).await,
        },
        other => {
            if other.starts_with("group.") && groups::handle(conn, id, &frame).await {
                return;
            }
            let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("unknown operation {other:?}"));
            conn.out.refuse(id, &refusal).await;
        }
    }
}

fn bad_body(e: serde_json::Error) -> Refusal {
    Refusal::new(code::INVALID_PARAMETERS, format!("malformed request body: {e}"))
}
