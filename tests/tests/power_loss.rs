//! Acknowledged means durable: the server under a stream of pipelined sends loses power (every
//! SQLite write not yet fsynced is undone, `oxim_tests::power_loss`), starts again on what the
//! disk kept, and every send it had answered is there with the seq it was answered with, and
//! no seq is handed out twice.

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
    fn start(dir: &Path, listen: &str) -> Lossy {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxim-lossy-server"))
            .arg(dir)
            .arg(listen)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_send_survives_a_power_cut_and_no_seq_is_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("server");
    let senders = ["alice", "bob", "carol"];
    let mut server = Lossy::start(&dir, "127.0.0.1:0");
    // The receivers exist (a user is known once logged in).
    for s in senders {
        drop(login(&server.addr, &format!("{s}-peer")).await);
    }
    let mut all_acked: Vec<(String, u64)> = Vec::new();
    for round in 0..3u32 {
        let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
        let streams: Vec<_> = senders
            .iter()
            .map(|s| {
                tokio::spawn(stream_sends(
                    server.addr.clone(),
                    s.to_string(),
                    format!("{s}-peer"),
                    round,
                    acked.clone(),
                ))
            })
            .collect();
        // Cut the power in the middle of the stream, at a different point each round.
        let target = 300 + 250 * round as usize + fastrand::usize(0..200);
        let deadline = Instant::now() + oxim_tests::WAIT;
        while acked.lock().unwrap().len() < target {
            assert!(Instant::now() < deadline, "sends are answered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let addr = server.addr.clone();
        let lost = tokio::task::spawn_blocking(move || server.power_cut()).await.unwrap();
        for s in streams {
            tokio::time::timeout(oxim_tests::WAIT, s).await.expect("streams end with the server").unwrap();
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        eprintln!("round {round}: {} sends acknowledged, {lost} unsynced bytes lost", acked.len());
        all_acked.extend(acked);

        // What the disk kept: every acknowledged send, with the seq it was answered with.
        server = Lossy::start(&dir, &addr);
        let on_disk = stored(&dir);
        // Each sender writes to its own peer: one stream per sender.
        let mut max_acked: HashMap<&str, u64> = HashMap::new();
        for (msg_id, seq) in &all_acked {
            let (_, stored_seq) = on_disk.get(msg_id).unwrap_or_else(|| panic!("acknowledged {msg_id} lost"));
            assert_eq!(stored_seq, seq, "{msg_id} stored under another seq");
            let max = max_acked.entry(msg_id.split('-').next().unwrap()).or_default();
            *max = (*max).max(*seq);
        }
        // No seq handed out twice: the next send of each stream comes after every one acked.
        for s in senders {
            let mut ws = login(&server.addr, s).await;
            let req = json!({"v": 1, "t": "req", "id": 1, "op": "msg.send",
                "body": {"msg": {"msg_id": format!("{s}-after-{round}"), "receiver": format!("{s}-peer"),
                    "elem": {"type": "text", "text": "after"}}}});
            ws.send(WsMessage::Text(req.to_string().into())).await.unwrap();
            let res = loop {
                let frame = tokio::time::timeout(oxim_tests::WAIT, ws.next()).await.unwrap().unwrap().unwrap();
                let WsMessage::Text(text) = frame else { continue };
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["t"] == "res" {
                    break v;
                }
            };
            assert_eq!(res["code"], 0, "{res}");
            let seq = res["body"]["seq"].as_u64().unwrap();
            assert!(seq > max_acked[s], "{s}: seq {seq} handed out again after the power cut");
        }
    }
}
