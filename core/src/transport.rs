//! One WebSocket connection to the server: request/response correlation with timeouts,
//! server pushes, and a heartbeat that notices a dead connection.
//!
//! A [`Transport`] never reconnects; [`crate::link`] replaces it when it closes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxim_proto::{FrameType, InFrame, OutFrame, PROTOCOL_VERSION, code};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::error::{Error, Result};

/// A push from the server: event name and raw JSON body.
#[derive(Debug, Clone)]
pub struct Push {
    /// Event name (`oxim_proto::push::*`).
    pub event: String,
    /// Body JSON.
    pub body: String,
}

/// A raw response: code, description and body JSON.
type RawResponse = (i32, String, String);

/// A live connection.
pub struct Transport {
    out: mpsc::UnboundedSender<WsMessage>,
    pending: Mutex<HashMap<u64, oneshot::Sender<RawResponse>>>,
    next_id: AtomicU64,
    closed: watch::Sender<bool>,
    request_timeout: Duration,
    /// The close code the server closed the connection with (0: none received).
    close_code: AtomicU16,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("closed", &self.is_closed()).finish_non_exhaustive()
    }
}

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Transport {
    /// Connects to `url`; pushes go to `pushes`. A heartbeat (WebSocket ping) is sent every
    /// `heartbeat`; three intervals without any frame from the server close the connection.
    /// Nagle's algorithm is off: frames are small and each is awaited by someone.
    pub async fn connect(
        url: &str,
        heartbeat: Duration,
        request_timeout: Duration,
        pushes: mpsc::UnboundedSender<Push>,
    ) -> Result<Arc<Transport>> {
        Transport::connect_tls(url, &crate::tls::client_config("")?, heartbeat, request_timeout, pushes).await
    }

    /// [`Transport::connect`] with the SDK's TLS configuration (`wss://`). A certificate the
    /// configuration does not trust, or one for another host name, fails with 9501.
    pub async fn connect_tls(
        url: &str,
        tls: &Arc<rustls::ClientConfig>,
        heartbeat: Duration,
        request_timeout: Duration,
        pushes: mpsc::UnboundedSender<Push>,
    ) -> Result<Arc<Transport>> {
        let connector = tokio_tungstenite::Connector::Rustls(tls.clone());
        let connecting = tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector));
        let (ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| Error::new(code::SDK_NET_CONN_TIMEOUT, format!("connecting to {url} timed out")))?
            .map_err(|e| match crate::tls::tls_failure(&e) {
                Some(tls) => Error::new(code::SDK_NET_TLS_FAILED, format!("TLS with {url} failed: {tls}")),
                None => Error::disconnected(format!("cannot connect to {url}: {e}")),
            })?;
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
        let (closed_tx, _) = watch::channel(false);
        let transport = Arc::new(Transport {
            out: out_tx,
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closed: closed_tx,
            request_timeout,
            close_code: AtomicU16::new(0),
        });

        // Writer: queued frames, plus a ping every heartbeat interval.
        let mut closed = transport.closed.subscribe();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(heartbeat);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                tokio::select! {
                    msg = out_rx.recv() => match msg {
                        Some(msg) => {
                            // Whatever else is queued already goes out with it, in one flush.
                            let mut is_close = matches!(msg, WsMessage::Close(_));
                            let mut failed = sink.feed(msg).await.is_err();
                            while !failed && !is_close && let Ok(next) = out_rx.try_recv() {
                                is_close = matches!(next, WsMessage::Close(_));
                                failed = sink.feed(next).await.is_err();
                            }
                            if failed || sink.flush().await.is_err() || is_close { break }
                        }
                        None => break,
                    },
                    _ = ticker.tick() => if sink.send(WsMessage::Ping(Default::default())).await.is_err() { break },
                    _ = async { let _ = closed.wait_for(|c| *c).await; } => break,
                }
            }
            let _ = sink.close().await;
        });

        // Reader: responses to their waiters, pushes to the session.
        let reader = transport.clone();
        tokio::spawn(async move {
            let silence = heartbeat * 3;
            loop {
                match tokio::time::timeout(silence, stream.next()).await {
                    Err(_) => {
                        tracing::info!("no frame from the server for {silence:?}: connection considered dead");
                        break;
                    }
                    Ok(Some(Ok(WsMessage::Close(frame)))) => {
                        let code = frame.map_or(0, |f| u16::from(f.code));
                        reader.close_code.store(code, Ordering::Relaxed);
                        break;
                    }
                    Ok(None) | Ok(Some(Err(_))) => break,
                    Ok(Some(Ok(WsMessage::Text(text)))) => reader.on_text(text.as_str(), &pushes),
                    Ok(Some(Ok(_))) => {} // pong, ping (answered by tungstenite), binary
                }
            }
            reader.mark_closed();
        });
        Ok(transport)
    }

    fn on_text(&self, text: &str, pushes: &mpsc::UnboundedSender<Push>) {
        let frame = match InFrame::parse(text) {
            Ok(f) if f.v == PROTOCOL_VERSION => f,
            Ok(f) => return tracing::warn!("frame of protocol version {} ignored", f.v),
            Err(e) => return tracing::warn!("unparsable frame from server: {e}"),
        };
        let body = frame.body.map(|b| b.get().to_owned()).unwrap_or_else(|| "{}".to_owned());
        match frame.t {
            FrameType::Response => {
                let waiter = self.pending.lock().expect("pending lock").remove(&frame.id);
                if let Some(waiter) = waiter {
                    let _ = waiter.send((frame.code, frame.desc, body));
                }
            }
            FrameType::Push => {
                let _ = pushes.send(Push { event: frame.op.into_owned(), body });
            }
            FrameType::Request => {}
        }
    }

    fn mark_closed(&self) {
        self.closed.send_replace(true);
        // Waiters get "disconnected" by their oneshot being dropped.
        self.pending.lock().expect("pending lock").clear();
    }

    /// Whether the connection has closed.
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// The close code the server closed the connection with, if it sent one.
    pub fn close_code(&self) -> Option<u16> {
        Some(self.close_code.load(Ordering::Relaxed)).filter(|c| *c != 0)
    }

    /// Whether the server closed the connection because it did not log in in time
    /// ([`oxim_proto::frame::CLOSE_LOGIN_DEADLINE`]): the connection was idle, nothing failed.
    pub fn closed_for_login_deadline(&self) -> bool {
        self.close_code() == Some(oxim_proto::frame::CLOSE_LOGIN_DEADLINE)
    }

    /// Resolves when the connection has closed.
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Closes the connection (with a close handshake).
    pub fn close(&self) {
        let _ = self.out.send(WsMessage::Close(None));
        self.mark_closed();
    }

    /// Sends request `op` and waits for its answer: the decoded body, or the server's error code.
    pub async fn request<Req: Serialize, Res: DeserializeOwned>(&self, op: &str, req: &Req) -> Result<Res> {
        let (id, rx) = self.queue_request(op, req)?;
        decode(op, self.answer(op, id, rx).await?)
    }

    /// Sends request `op` at once and returns its answer to await later: requests sent this
    /// way leave in the order of the calls, so a caller can have many in flight (pipelined)
    /// and the server, which reads a connection's requests in order, takes them in that order.
    pub fn send<Req: Serialize, Res: DeserializeOwned + Send + 'static>(
        self: &Arc<Self>,
        op: &str,
        req: &Req,
    ) -> impl Future<Output = Result<Res>> + Send + 'static + use<Req, Res> {
        let queued = self.queue_request(op, req);
        let (this, op) = (self.clone(), op.to_owned());
        async move {
            let (id, rx) = queued?;
            decode(&op, this.answer(&op, id, rx).await?)
        }
    }

    /// Queues the frame of a request; the receiver gets its answer.
    fn queue_request<Req: Serialize>(&self, op: &str, req: &Req) -> Result<(u64, oneshot::Receiver<RawResponse>)> {
        if self.is_closed() {
            return Err(Error::disconnected("not connected"));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("pending lock").insert(id, tx);
        let text = OutFrame::request(id, op, req).to_json();
        if self.out.send(WsMessage::Text(text.into())).is_err() {
            self.pending.lock().expect("pending lock").remove(&id);
            return Err(Error::disconnected("connection closed"));
        }
        Ok((id, rx))
    }

    /// Waits for the answer to request `id`, at most the request timeout.
    async fn answer(&self, op: &str, id: u64, rx: oneshot::Receiver<RawResponse>) -> Result<RawResponse> {
        match tokio::time::timeout(self.request_timeout, rx).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(Error::disconnected(format!("connection lost before the answer to {op}"))),
            Err(_) => {
                self.pending.lock().expect("pending lock").remove(&id);
                Err(Error::new(
                    code::SDK_NET_WAIT_ACK_TIMEOUT,
                    format!("no answer to {op} within {:?}", self.request_timeout),
                ))
            }
        }
    }
}

/// The decoded body of an answer, or the server's error.
fn decode<Res: DeserializeOwned>(op: &str, (code, desc, body): RawResponse) -> Result<Res> {
    if code != code::OK {
        return Err(Error::new(code, desc));
    }
    serde_json::from_str(&body)
        .map_err(|e| Error::new(code::PARSE_RESPONSE_FAILED, format!("cannot decode the answer to {op}: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::test_peer::{Peer, WAIT};

    async fn connect(
        peer: &Peer,
        heartbeat: Duration,
        timeout: Duration,
    ) -> (Arc<Transport>, mpsc::UnboundedReceiver<Push>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Transport::connect(&peer.url, heartbeat, timeout, tx).await.unwrap(), rx)
    }

    #[tokio::test]
    async fn each_request_gets_its_own_answer_in_any_order_and_pushes_go_to_the_channel() {
        let mut peer = Peer::start(false).await;
        let (t, mut pushes) = connect(&peer, Duration::from_secs(20), WAIT).await;
        let mut conn = peer.accept().await;
        let first = tokio::spawn({
            let t = t.clone();
            async move { t.request::<_, Value>("op.a", &json!({ "n": 1 })).await }
        });
        let a = conn.request().await.unwrap();
        let second = tokio::spawn({
            let t = t.clone();
            async move { t.request::<_, Value>("op.b", &json!({ "n": 2 })).await }
        });
        let b = conn.request().await.unwrap();
        assert_eq!((a.op.as_str(), b.op.as_str()), ("op.a", "op.b"));
        assert_eq!(a.body["n"], 1);
        // Answered the other way round.
        conn.answer(b.id, json!({ "for": "b" }));
        conn.refuse(a.id, code::SVR_GROUP_NOT_FOUND, "no such group");
        assert_eq!(second.await.unwrap().unwrap()["for"], "b");
        assert_eq!(first.await.unwrap().unwrap_err().code, code::SVR_GROUP_NOT_FOUND);

        conn.push("msg", json!({ "x": 1 }));
        let push = tokio::time::timeout(WAIT, pushes.recv()).await.unwrap().unwrap();
        assert_eq!((push.event.as_str(), push.body.as_str()), ("msg", r#"{"x":1}"#));
    }

    #[tokio::test]
    async fn requests_sent_without_waiting_leave_in_call_order_and_are_answered_later() {
        let mut peer = Peer::start(false).await;
        let (t, _pushes) = connect(&peer, Duration::from_secs(20), WAIT).await;
        let mut conn = peer.accept().await;
        // Sent one after the other without awaiting; the answers are awaited last first.
        let answers: Vec<_> = (0..50).map(|n| t.send::<_, Value>("op.n", &json!({ "n": n }))).collect();
        let mut ids = Vec::new();
        for n in 0..50 {
            let r = conn.request().await.unwrap();
            assert_eq!(r.body["n"], n, "the server reads them in the order of the calls");
            ids.push(r.id);
        }
        for (n, id) in ids.into_iter().enumerate().rev() {
            conn.answer(id, json!({ "n": n }));
        }
        for (n, answer) in answers.into_iter().enumerate().rev() {
            assert_eq!(answer.await.unwrap()["n"], n);
        }
        // On a closed connection the answer is 9508 at once.
        t.close();
        let e = t.send::<_, Value>("op.n", &json!({})).await.unwrap_err();
        assert_eq!(e.code, code::SDK_NET_DISCONNECT);
    }

    #[tokio::test]
    async fn an_unanswered_request_times_out_and_a_lost_connection_fails_what_waits() {
        let mut peer = Peer::start(false).await;
        let (t, _pushes) = connect(&peer, Duration::from_secs(20), Duration::from_millis(200)).await;
        let mut conn = peer.accept().await;
        let e = t.request::<_, Value>("op.a", &json!({})).await.unwrap_err();
        assert_eq!(e.code, code::SDK_NET_WAIT_ACK_TIMEOUT);
        assert!(e.is_network(), "a timed-out request may be retried");
        conn.request().await.unwrap();

        let waiting = tokio::spawn({
            let t = t.clone();
            async move { t.request::<_, Value>("op.b", &json!({})).await }
        });
        conn.request().await.unwrap();
        drop(conn);
        let e = waiting.await.unwrap().unwrap_err();
        assert_eq!(e.code, code::SDK_NET_DISCONNECT);
        tokio::time::timeout(WAIT, t.closed()).await.unwrap();
        assert_eq!(t.request::<_, Value>("op.c", &json!({})).await.unwrap_err().code, code::SDK_NET_DISCONNECT);
    }

    #[tokio::test]
    async fn a_server_that_goes_silent_is_noticed_by_the_heartbeat() {
        let mut peer = Peer::start(true).await;
        let (t, _pushes) = connect(&peer, Duration::from_millis(50), WAIT).await;
        let _conn = peer.accept().await;
        // Pings go unanswered: after three silent intervals the connection counts as dead.
        tokio::time::timeout(WAIT, t.closed()).await.expect("the heartbeat closes the connection");
        assert!(t.is_closed());
    }

    #[tokio::test]
    async fn closing_tells_the_server() {
        let mut peer = Peer::start(false).await;
        let (t, _pushes) = connect(&peer, Duration::from_secs(20), WAIT).await;
        let mut conn = peer.accept().await;
        t.close();
        assert!(t.is_closed());
        assert!(conn.request().await.is_none(), "the server sees the connection end");
    }
}
