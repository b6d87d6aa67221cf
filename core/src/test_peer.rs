//! A scripted WebSocket peer for unit tests of the network and session levels: it speaks the
//! frame format of `oxim_proto` on a loopback port, hands each connection to the test, and
//! answers, pushes and closes as the test says. (End-to-end tests use the real server, in
//! `tests/`.)

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_proto::{FrameType, InFrame, OutFrame};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Ws;

/// How long a test waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(10);

/// A request the SDK sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its id.
    pub id: u64,
    /// Its operation.
    pub op: String,
    /// Its body.
    pub body: Value,
}

/// A listening peer.
pub struct Peer {
    /// The URL to give the SDK.
    pub url: String,
    conns: mpsc::UnboundedReceiver<Conn>,
    task: tokio::task::JoinHandle<()>,
}

impl Peer {
    /// Listens on a loopback port. A `mute` peer never reads what the SDK sends (so it never
    /// answers a heartbeat either).
    pub async fn start(mute: bool) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("ws://{}/v1/ws", listener.local_addr().expect("its address"));
        let (tx, conns) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                        let _ = tx.send(Conn::new(ws, mute));
                    }
                });
            }
        });
        Peer { url, conns, task }
    }

    /// The next connection (panics if none comes within [`WAIT`]).
    pub async fn accept(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.conns.recv()).await.expect("a connection in time").expect("listening")
    }

    /// Whether no connection comes within `d`.
    pub async fn no_connection_within(&mut self, d: Duration) -> bool {
        tokio::time::timeout(d, self.conns.recv()).await.is_err()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One accepted connection. Dropping it closes the connection.
pub struct Conn {
    requests: mpsc::UnboundedReceiver<Request>,
    out: mpsc::UnboundedSender<Ws>,
}

impl Conn {
    fn new(ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, mute: bool) -> Conn {
        let (mut sink, mut stream) = ws.split();
        let (req_tx, requests) = mpsc::unbounded_channel();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Ws>();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                let close = matches!(msg, Ws::Close(_));
                if sink.send(msg).await.is_err() || close {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        if mute {
            // Hold the reading half without ever reading it.
            tokio::spawn(async move {
                let _stream = stream;
                std::future::pending::<()>().await;
            });
        } else {
            tokio::spawn(async move {
                while let Some(Ok(msg)) = stream.next().await {
                    let Ws::Text(text) = msg else { continue };
                    let Ok(frame) = InFrame::parse(text.as_str()) else { continue };
                    if frame.t != FrameType::Request {
                        continue;
                    }
                    let body = frame.body().unwrap_or(Value::Null);
                    if req_tx.send(Request { id: frame.id, op: frame.op.into_owned(), body }).is_err() {
                        break;
                    }
                }
            });
        }
        Conn { requests, out }
    }

    /// The next request; `None` once the SDK closed the connection. Panics if neither happens
    /// within [`WAIT`].
    pub async fn request(&mut self) -> Option<Request> {
        tokio::time::timeout(WAIT, self.requests.recv()).await.expect("a request or the close in time")
    }

    /// Answers request `id` with `body`.
    pub fn answer(&self, id: u64, body: Value) {
        answer(&self.out, id, body);
    }

    /// Answers request `id` with an error code.
    pub fn refuse(&self, id: u64, code: i32, desc: &str) {
        let frame = serde_json::json!({
            "v": oxim_proto::PROTOCOL_VERSION, "t": "res", "id": id, "code": code, "desc": desc
        });
        let _ = self.out.send(Ws::Text(frame.to_string().into()));
    }

    /// Pushes `event` with `body`.
    pub fn push(&self, event: &str, body: Value) {
        push(&self.out, event, body);
    }

    /// Closes the connection with close code `code`.
    pub fn close_with(&self, code: u16, reason: &str) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let _ = self.out.send(Ws::Close(Some(CloseFrame { code: code.into(), reason: reason.to_owned().into() })));
    }

    /// Answers every further request with `handler(op, body)` (`None`: no answer) until the
    /// connection closes; pushes go out through the returned sender.
    pub fn serve(
        self,
        handler: impl Fn(&str, &Value) -> Option<Value> + Send + 'static,
    ) -> mpsc::UnboundedSender<(String, Value)> {
        let Conn { mut requests, out } = self;
        let (push_tx, mut push_rx) = mpsc::unbounded_channel::<(String, Value)>();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    req = requests.recv() => match req {
                        Some(r) => {
                            if let Some(body) = handler(&r.op, &r.body) {
                                answer(&out, r.id, body);
                            }
                        }
                        None => break,
                    },
                    Some((event, body)) = push_rx.recv() => push(&out, &event, body),
                }
            }
        });
        push_tx
    }
}

fn answer(out: &mpsc::UnboundedSender<Ws>, id: u64, body: Value) {
    let _ = out.send(Ws::Text(OutFrame::ok(id, &body).to_json().into()));
}

fn push(out: &mpsc::UnboundedSender<Ws>, event: &str, body: Value) {
    let _ = out.send(Ws::Text(OutFrame::push(event, &body).to_json().into()));
}

/// Waits until `cond` holds, checking every 10 ms; panics after [`WAIT`].
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
