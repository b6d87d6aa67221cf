//! The floor baseline (`oxim-bench floor-server LOG_FILE`): the least a server can do for the
//! ramp's messages while keeping Oxim's promise. It speaks the part of Oxim's protocol the ramp
//! uses (`login`, `msg.send`, the `msg` push), routes each message to its receiver's connection
//! and acknowledges it once it is fsynced: an append-only log file, one `write` and one
//! `fdatasync` for every message waiting (group commit, on a thread of its own). Nothing else:
//! no authentication, no per-conversation order or seqs, no deduplication, no database, no
//! limits. Same stack as oxim-server (tokio with a worker per core, tungstenite, serde_json).
//!
//! What it costs is what no server keeping that promise can avoid on this machine: the clients,
//! the sockets and the disk. Oxim's figures above it are what its store, its checks and its
//! guarantees cost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// A request frame, as much of it as the floor reads.
#[derive(Deserialize)]
struct Req {
    id: u64,
    op: String,
    #[serde(default)]
    body: Body,
}

#[derive(Deserialize, Default)]
struct Body {
    #[serde(default)]
    user_id: String,
    msg: Option<Msg>,
}

/// A message, as sent and as pushed.
#[derive(Deserialize, Serialize)]
struct Msg {
    msg_id: String,
    receiver: String,
    elem: serde_json::Value,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    time_ms: i64,
}

/// The log: records appended by one thread, fsynced once for all that waited. It cycles
/// through a file of [`RING`] bytes written with zeros first, as a restarted WAL does: every
/// commit overwrites blocks that exist, so its fsync writes data only, no file size or block
/// allocation (the cheapest fsync this disk has; with a file that grew instead, the floor's p99
/// at 1,000 msgs/s was 4.3 ms, not 1.2–2.4).
struct Log {
    tx: std::sync::mpsc::Sender<(Vec<u8>, oneshot::Sender<()>)>,
}

/// The log's size.
const RING: u64 = 32 << 20;

impl Log {
    fn open(path: &str) -> Log {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(path)
            .expect("the floor's log file");
        let zeros = vec![0u8; 1 << 20];
        for i in 0..RING / zeros.len() as u64 {
            file.write_all_at(&zeros, i * zeros.len() as u64).expect("fill the floor's log");
        }
        file.sync_all().expect("fsync the floor's log");
        let (tx, rx) = std::sync::mpsc::channel::<(Vec<u8>, oneshot::Sender<()>)>();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut at = 0u64;
            while let Ok(first) = rx.recv() {
                let mut done = vec![first.1];
                buf.clear();
                buf.extend_from_slice(&first.0);
                for (record, ack) in rx.try_iter() {
                    buf.extend_from_slice(&record);
                    done.push(ack);
                }
                if at + buf.len() as u64 > RING {
                    at = 0;
                }
                file.write_all_at(&buf, at).expect("write the floor's log");
                at += buf.len() as u64;
                file.sync_data().expect("fsync the floor's log");
                for ack in done {
                    let _ = ack.send(());
                }
            }
        });
        Log { tx }
    }

    /// Appends `record`; answers once it is on the disk.
    async fn append(&self, record: Vec<u8>) {
        let (ack, durable) = oneshot::channel();
        if self.tx.send((record, ack)).is_ok() {
            let _ = durable.await;
        }
    }
}

/// Who is connected: user id → the connection's outgoing queue.
type Registry = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>>;

/// Serves until killed, logging to `args[0]`. It prints `floor-server listening on ADDR` first.
pub fn main(args: &[String]) {
    let log = Arc::new(Log::open(args.first().expect("usage: oxim-bench floor-server LOG_FILE")));
    let registry: Registry = Arc::default();
    let seq = Arc::new(AtomicU64::new(0));
    crate::util::serve_ws("floor-server", move |ws| {
        let (log, registry, seq) = (log.clone(), registry.clone(), seq.clone());
        async move { serve(ws, &log, &registry, &seq).await }
    });
}

/// One client's connection: its requests in order, each send answered once logged.
async fn serve(ws: crate::util::ServerWs, log: &Log, registry: &Registry, seq: &AtomicU64) {
    let (sink, mut stream) = ws.split();
    let out = crate::util::spawn_writer(sink);
    let mut user = String::new();
    while let Some(Ok(frame)) = stream.next().await {
        let Message::Text(text) = frame else { continue };
        let Ok(req) = serde_json::from_str::<Req>(text.as_str()) else { continue };
        match (req.op.as_str(), req.body.msg) {
            ("login", _) => {
                user = req.body.user_id;
                registry.lock().expect("registry").insert(user.clone(), out.clone());
                let _ = out.send(Message::text(format!(r#"{{"v":1,"t":"res","id":{},"code":0,"body":{{}}}}"#, req.id)));
            }
            ("msg.send", Some(mut msg)) => {
                msg.sender = user.clone();
                msg.seq = seq.fetch_add(1, Ordering::Relaxed) + 1;
                msg.time_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                let push = format!(
                    r#"{{"v":1,"t":"push","op":"msg","body":{}}}"#,
                    serde_json::to_string(&msg).expect("a message serialises")
                );
                let mut record = push.clone().into_bytes();
                record.push(b'\n');
                log.append(record).await;
                let ack = format!(
                    r#"{{"v":1,"t":"res","id":{},"code":0,"body":{{"seq":{},"time_ms":{}}}}}"#,
                    req.id, msg.seq, msg.time_ms
                );
                let _ = out.send(Message::text(ack));
                let to = registry.lock().expect("registry").get(&msg.receiver).cloned();
                if let Some(to) = to {
                    let _ = to.send(Message::text(push));
                }
            }
            _ => {
                let refusal = format!(
                    r#"{{"v":1,"t":"res","id":{},"code":{},"body":{{}}}}"#,
                    req.id,
                    oxim_proto::code::INVALID_PARAMETERS
                );
                let _ = out.send(Message::text(refusal));
            }
        }
    }
    if !user.is_empty() {
        registry.lock().expect("registry").remove(&user);
    }
}
