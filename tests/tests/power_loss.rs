//! Acknowledged means durable: the server under a stream of pipelined sends loses power (every
//! SQLite write not yet fsynced is undone, `oxim_tests::power_loss`), starts again on what the
//! disk kept, and every send it had answered is there with the seq it was answered with, and
//! no seq is handed out twice. With `--durability relaxed` the same power cut takes back
//! acknowledged sends: the check sees a real loss when there is one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_server::ServerConfig;
use oxim_server::usersig::UserSigKey;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The server on the lossy disk, in its own process.
struct Lossy {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Lossy {
    fn start(dir: &Path, listen: &str, durability: &str) -> Lossy {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxim-lossy-server"))
            .arg(dir)
            .arg(listen)
            .arg(durability)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("oxim-lossy-server starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let addr = read_line_starting(&mut stdout, "listening ");
        Lossy { child, stdin, stdout, addr }
    }

    /// Cuts the power: what was not fsynced is lost, then the process dies.
    fn power_cut(mut self) -> u64 {
        writeln!(self.stdin, "power-cut").unwrap();
        let lost = read_line_starting(&mut self.stdout, "power-cut ").parse().unwrap();
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        lost
    }
}

impl Drop for Lossy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line_starting(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the lossy server ended before printing {prefix:?}");
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn login(addr: &str, user: &str) -> Ws {
    let config = ServerConfig::for_tests("unused");
    let sig = UserSigKey::new(config.sdk_app_id, config.secret_key.clone()).sign(user, oxim_tests::unix_now(), 86400);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws")).await.unwrap();
    let req = json!({"v": 1, "t": "req", "id": 0, "op": "login",
        "body": {"sdk_app_id": config.sdk_app_id, "user_id": user, "user_sig": sig, "platform": "test"}});
    ws.send(WsMessage::Text(req.to_string().into())).await.unwrap();
    loop {
        let frame = tokio::time::timeout(oxim_tests::WAIT, ws.next()).await.unwrap().unwrap().unwrap();
        if let WsMessage::Text(text) = frame {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["t"] == "res" {
                assert_eq!(v["code"], 0, "login: {v}");
                return ws;
            }
        }
    }
}

/// Sends text messages `{user}-{round}-{n}` to `to` over one connection, up to `window` at a
/// time unanswered, until the connection breaks; each accepted send is recorded with its seq.
async fn stream_sends(addr: String, user: String, to: String, round: u32, acked: Arc<Mutex<Vec<(String, u64)>>>) {
    let ws = login(&addr, &user).await;
    let (mut tx, mut rx) = ws.split();
    let window = Arc::new(Semaphore::new(64));
    let ids: Arc<Mutex<HashMap<u64, String>>> = Arc::default();
    let (w, i) = (window.clone(), ids.clone());
    let writer = tokio::spawn(async move {
        for n in 1u64.. {
            let Ok(permit) = w.acquire().await else { return };
            permit.forget();
            let msg_id = format!("{user}-{round}-{n}");
            i.lock().unwrap().insert(n, msg_id.clone());
            let req = json!({"v": 1, "t": "req", "id": n, "op": "msg.send",
                "body": {"msg": {"msg_id": msg_id, "receiver": to, "elem": {"type": "text", "text": "durable?"}}}});
            if tx.send(WsMessage::Text(req.to_string().into())).await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(frame)) = rx.next().await {
        let WsMessage::Text(text) = frame else { continue };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["t"] != "res" {
            continue;
        }
        let msg_id = ids.lock().unwrap().remove(&v["id"].as_u64().unwrap()).unwrap();
        // Refused sends are not acknowledged (the server failing a write once the power is out).
        if v["code"] == 0 {
            acked.lock().unwrap().push((msg_id, v["body"]["seq"].as_u64().expect("a seq")));
        }
        window.add_permits(1);
    }
    window.close();
    writer.abort();
}

/// What the disk holds: (msg_id -> (stream, seq)), read directly from the server's database.
fn stored(dir: &Path) -> HashMap<String, (String, u64)> {
    let db = rusqlite::Connection::open(dir.join("oxim.db")).unwrap();
    let mut stmt = db.prepare("SELECT msg_id, conv_key, seq FROM msg").unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, String>(1)?, r.get::<_, i64>(2)? as u64))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Sends `msg_id` from `user` to `to` on a new connection; its seq, or the refusal.
async fn send_one(addr: &str, user: &str, to: &str, msg_id: &str) -> Result<u64, Value> {
    let mut ws = login(addr, user).await;
    let req = json!({"v": 1, "t": "req", "id": 1, "op": "msg.send",
        "body": {"msg": {"msg_id": msg_id, "receiver": to, "elem": {"type": "text", "text": "after"}}}});
    ws.send(WsMessage::Text(req.to_string().into())).await.unwrap();
    loop {
        let frame = tokio::time::timeout(oxim_tests::WAIT, ws.next()).await.unwrap().unwrap().unwrap();
        let WsMessage::Text(text) = frame else { continue };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["t"] == "res" {
            return if v["code"] == 0 { Ok(v["body"]["seq"].as_u64().unwrap()) } else { Err(v) };
        }
    }
}

const SENDERS: [&str; 3] = ["alice", "bob", "carol"];

/// What one power cut did.
struct Cut {
    /// Sends acknowledged before it.
    acked: usize,
    /// Acknowledged sends missing afterwards, or stored under another seq.
    lost: Vec<String>,
    /// Senders whose next send got a seq already acknowledged to another message (or was
    /// refused: its receiver was lost).
    reused: Vec<String>,
}

/// Streams sends from three connections into `server`, cuts the power after about `after`
/// acknowledgements, starts the server again on what the disk kept and checks it.
async fn cut_power(server: Lossy, dir: &Path, durability: &str, round: u32, after: usize) -> (Lossy, Cut) {
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let streams: Vec<_> = SENDERS
        .iter()
        .map(|s| {
            tokio::spawn(stream_sends(server.addr.clone(), s.to_string(), format!("{s}-peer"), round, acked.clone()))
        })
        .collect();
    let deadline = Instant::now() + oxim_tests::WAIT;
    while acked.lock().unwrap().len() < after {
        assert!(Instant::now() < deadline, "sends are answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = server.addr.clone();
    let lost_bytes = tokio::task::spawn_blocking(move || server.power_cut()).await.unwrap();
    for s in streams {
        tokio::time::timeout(oxim_tests::WAIT, s).await.expect("streams end with the server").unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!("{durability}, round {round}: {} sends acknowledged, {lost_bytes} unsynced bytes lost", acked.len());

    // What the disk kept: every acknowledged send, with the seq it was answered with?
    let server = Lossy::start(dir, &addr, durability);
    let on_disk = stored(dir);
    let mut lost = Vec::new();
    // Each sender writes to its own peer: one stream per sender.
    let mut max_acked: HashMap<&str, u64> = HashMap::new();
    for (msg_id, seq) in &acked {
        if on_disk.get(msg_id).map(|(_, s)| s) != Some(seq) {
            lost.push(msg_id.clone());
        }
        let max = max_acked.entry(msg_id.split('-').next().unwrap()).or_default();
        *max = (*max).max(*seq);
    }
    // No seq handed out twice: the next send of each stream comes after every one acknowledged.
    let mut reused = Vec::new();
    for s in SENDERS {
        match send_one(&server.addr, s, &format!("{s}-peer"), &format!("{s}-after-{round}")).await {
            Ok(seq) if seq <= max_acked.get(s).copied().unwrap_or(0) => reused.push(format!("{s}: seq {seq}")),
            Ok(_) => {}
            Err(refusal) => reused.push(format!("{s}: refused {refusal}")),
        }
    }
    (server, Cut { acked: acked.len(), lost, reused })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_send_survives_a_power_cut_and_no_seq_is_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let mut server = Lossy::start(&dir, "127.0.0.1:0", "full");
    // The receivers exist (a user is known once logged in).
    for s in SENDERS {
        drop(login(&server.addr, &format!("{s}-peer")).await);
    }
    for round in 0..3u32 {
        // Cut the power in the middle of the stream, at a different point each round.
        let after = 300 + 250 * round as usize + fastrand::usize(0..200);
        let (next, cut) = cut_power(server, &dir, "full", round, after).await;
        server = next;
        assert!(cut.acked >= after);
        assert!(
            cut.lost.is_empty(),
            "{} acknowledged sends lost: {:?}",
            cut.lost.len(),
            &cut.lost[..cut.lost.len().min(5)]
        );
        assert!(cut.reused.is_empty(), "seqs handed out again: {:?}", cut.reused);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_relaxed_durability_a_power_cut_takes_back_acknowledged_sends() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let mut server = Lossy::start(&dir, "127.0.0.1:0", "relaxed");
    for s in SENDERS {
        drop(login(&server.addr, &format!("{s}-peer")).await);
    }
    // The WAL is fsynced only by checkpoints (every 100 ms): what was acknowledged since the
    // last one is lost. A cut right after a checkpoint may lose nothing; three tries.
    let mut lost = 0;
    for round in 0..3u32 {
        let (next, cut) = cut_power(server, &dir, "relaxed", round, 300).await;
        server = next;
        lost += cut.lost.len();
        if lost > 0 {
            break;
        }
    }
    assert!(lost > 0, "the power cut took nothing back: the test could not see a loss");
    drop(server);
}
