//! The soak run (`oxim-bench soak [SECONDS]`, `scripts/soak.sh`): every kind of abusive client
//! at once against one oxim-server, for minutes, while well-behaved clients send messages (and
//! upload small files) and measure. Every few seconds it prints the server's resident memory, the
//! well-behaved clients' acknowledgement latency and what the abusers got; at the end a summary.
//! It fails if a well-behaved message failed or the server died.
//!
//! The abusers: a slow reader (asks for megabytes of history and reads nothing), a flood of
//! pipelined requests, a message flooder (over the per-user rate), session spam (new platforms
//! without end), slow-loris uploads (a byte now and then), oversized frames, and sockets that
//! never log in.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_proto::media::{HEADER_SDK_APP_ID, HEADER_USER, HEADER_USER_SIG};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::util::{self, BenchResult, Proc, Ws};

/// Well-behaved senders (each sends to the next, every [`GOOD_EVERY`]).
const GOOD_CLIENTS: usize = 20;
const GOOD_EVERY: Duration = Duration::from_millis(200);
/// Slow-loris uploads held open at once (the server runs 32 uploads at a time).
const LORIS: usize = 40;
/// The login deadline the server runs with, short so that idle sockets come and go.
const LOGIN_DEADLINE_SECS: &str = "5";

#[derive(Default)]
struct Stats {
    good_sent: AtomicU64,
    good_failed: AtomicU64,
    good_uploads: AtomicU64,
    good_uploads_failed: AtomicU64,
    /// Acknowledgement latencies (µs) since the last report, and over the whole run.
    interval: Mutex<Vec<u64>>,
    all: Mutex<Vec<u64>>,
    rate_refused: AtomicU64,
    flood_answered: AtomicU64,
    slow_reader_drops: AtomicU64,
    session_logins: AtomicU64,
    oversize_closed: AtomicU64,
    loris_refused: AtomicU64,
    /// Lorises the server closed for going under its minimum upload rate (408).
    loris_too_slow: AtomicU64,
    loris_ended: AtomicU64,
    deadline_closed: AtomicU64,
    abuser_errors: AtomicU64,
}

impl Stats {
    /// The well-behaved clients' figures: `msgs` messages acknowledged with the latencies
    /// `sorted` (of the last interval, or of the whole run), and the uploads so far.
    fn good(&self, msgs: u64, sorted: &[u64]) -> String {
        format!(
            "good: {msgs} msgs, {} failed, ack p50 {} p99 {} max {} | uploads {} ({} failed)",
            get(&self.good_failed),
            ms(pct(sorted, 50)),
            ms(pct(sorted, 99)),
            ms(sorted.last().copied()),
            get(&self.good_uploads),
            get(&self.good_uploads_failed),
        )
    }

    /// What the abusers got so far: the one list the periodic line and the summary print.
    fn abusers(&self) -> String {
        let counts = [
            ("refused by rate", &self.rate_refused),
            ("flood answered", &self.flood_answered),
            ("slow reader dropped", &self.slow_reader_drops),
            ("session logins", &self.session_logins),
            ("oversize closed", &self.oversize_closed),
            ("loris refused", &self.loris_refused),
            ("loris too slow", &self.loris_too_slow),
            ("loris ended otherwise", &self.loris_ended),
            ("deadline closed", &self.deadline_closed),
            ("other errors", &self.abuser_errors),
        ];
        let counts: Vec<String> = counts.iter().map(|(name, c)| format!("{name} {}", get(c))).collect();
        format!("abusers: {}", counts.join(", "))
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// `oxim-bench soak [SECONDS]` (default 180).
pub fn main(args: &[String]) {
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(180);
    util::raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    match rt.block_on(run(Duration::from_secs(secs))) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(length: Duration) -> BenchResult<()> {
    let bin = util::server_bin()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = Proc::oxim_server_with(&bin, dir.path(), &["--login-deadline-secs", LOGIN_DEADLINE_SECS])?;
    let url = server.ws_url();
    let addr = server.addr;
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    println!(
        "soak: {} s against {url}; well-behaved: {GOOD_CLIENTS} clients, one message each every {GOOD_EVERY:?}",
        length.as_secs()
    );

    // Everyone the abusers and the good clients talk to exists (a user exists once logged in).
    let mut good = Vec::new();
    for i in 0..GOOD_CLIENTS {
        good.push(util::raw_login(&url, &format!("good{i}")).await?);
    }
    drop(util::raw_login(&url, "sink").await?);

    let mut tasks = Vec::new();
    for (i, ws) in good.into_iter().enumerate() {
        tasks.push(tokio::spawn(good_client(ws, i, stats.clone(), stop.clone())));
    }
    tasks.push(tokio::spawn(good_uploads(addr, stats.clone(), stop.clone())));
    let abusers: Vec<tokio::task::JoinHandle<()>> = vec![
        tokio::spawn(slow_reader(url.clone(), stats.clone(), stop.clone())),
        tokio::spawn(pipelined_flood(url.clone(), stats.clone(), stop.clone())),
        tokio::spawn(message_flood(url.clone(), stats.clone(), stop.clone())),
        tokio::spawn(session_spam(url.clone(), stats.clone(), stop.clone())),
        tokio::spawn(oversized_frames(url.clone(), stats.clone(), stop.clone())),
        tokio::spawn(never_log_in(url.clone(), stats.clone(), stop.clone())),
    ];
    let lorises: Vec<_> = (0..LORIS).map(|_| tokio::spawn(slow_loris(addr, stats.clone(), stop.clone()))).collect();

    let start = Instant::now();
    let first_rss = server.rss()?;
    let mut max_rss = first_rss;
    let report_every = Duration::from_secs(if length.as_secs() < 30 { 2 } else { 5 });
    while start.elapsed() < length {
        tokio::time::sleep(report_every.min(length.saturating_sub(start.elapsed()))).await;
        let rss = server.rss().map_err(|e| format!("the server is gone: {e}"))?;
        max_rss = max_rss.max(rss);
        let mut lat = std::mem::take(&mut *stats.interval.lock().expect("stats"));
        lat.sort_unstable();
        println!(
            "t={:>4}s rss={:>6.1} MB | {} | {}",
            start.elapsed().as_secs(),
            rss as f64 / 1e6,
            stats.good(lat.len() as u64, &lat),
            stats.abusers(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for t in abusers.into_iter().chain(lorises) {
        t.abort();
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    let end_rss = server.rss().map_err(|e| format!("the server is gone: {e}"))?;
    let mut all = std::mem::take(&mut *stats.all.lock().expect("stats"));
    all.sort_unstable();
    println!(
        "summary: {} s; server RSS {:.1} MB at the start, {:.1} MB at most, {:.1} MB at the end | {} | {}",
        length.as_secs(),
        first_rss as f64 / 1e6,
        max_rss as f64 / 1e6,
        end_rss as f64 / 1e6,
        stats.good(get(&stats.good_sent), &all),
        stats.abusers(),
    );
    // A loris sends a byte every 5 s: under the server's minimum upload rate, it is closed
    // once the grace period (10 s) has passed.
    if length >= Duration::from_secs(30) && get(&stats.loris_too_slow) == 0 {
        return Err("no slow-loris upload was closed for going under the minimum upload rate".into());
    }
    if get(&stats.good_failed) > 0 || all.is_empty() {
        return Err(format!("{} well-behaved messages failed ({} acknowledged)", get(&stats.good_failed), all.len()));
    }
    Ok(())
}

fn pct(sorted: &[u64], p: usize) -> Option<u64> {
    (!sorted.is_empty()).then(|| sorted[(sorted.len() - 1) * p / 100])
}

fn ms(us: Option<u64>) -> String {
    us.map_or_else(|| "-".into(), |us| format!("{:.1} ms", us as f64 / 1000.0))
}

fn text_msg(id: String, to: &str, text: &str) -> serde_json::Value {
    json!({"msg": {"msg_id": id, "receiver": to, "elem": {"type": "text", "text": text}}})
}

/// Sends one message every [`GOOD_EVERY`] to the next good client, reads everything it is sent,
/// and records each acknowledgement's latency.
async fn good_client(ws: Ws, i: usize, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let (mut sink, mut stream) = ws.split();
    let to = format!("good{}", (i + 1) % GOOD_CLIENTS);
    let mut tick = tokio::time::interval(GOOD_EVERY);
    let mut pending: std::collections::HashMap<u64, Instant> = std::collections::HashMap::new();
    let mut next_id = 100u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                next_id += 1;
                let body = text_msg(format!("g{i}-{next_id}"), &to, "hello");
                pending.insert(next_id, Instant::now());
                bump(&stats.good_sent);
                if sink.send(util::request(next_id, "msg.send", &body)).await.is_err() {
                    bump(&stats.good_failed);
                    return;
                }
            }
            frame = stream.next() => {
                let Some(Ok(Message::Text(text))) = frame else {
                    // The connection of a well-behaved client must never end.
                    bump(&stats.good_failed);
                    return;
                };
                let Some(code) = util::response_code(text.as_str()) else { continue };
                let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let Some(sent) = frame["id"].as_u64().and_then(|id| pending.remove(&id)) else { continue };
                if code != 0 {
                    eprintln!("soak: a well-behaved message was refused: {text}");
                    bump(&stats.good_failed);
                    continue;
                }
                let us = sent.elapsed().as_micros() as u64;
                stats.interval.lock().expect("stats").push(us);
                stats.all.lock().expect("stats").push(us);
            }
        }
    }
    // Unanswered at the end: failed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pending.is_empty() && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let answered = frame["t"] == "res" && frame["id"].as_u64().and_then(|id| pending.remove(&id)).is_some();
                if answered && frame["code"] != 0 {
                    bump(&stats.good_failed);
                }
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(_) => break,
        }
    }
    stats.good_failed.fetch_add(pending.len() as u64, Ordering::Relaxed);
}

/// A raw HTTP/1.1 request on a new connection; the response's status code.
async fn http(addr: std::net::SocketAddr, head: String, body: &[u8]) -> BenchResult<u16> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
    tcp.write_all(body).await.map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf))
        .await
        .map_err(|_| "no HTTP answer in 30 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = String::from_utf8_lossy(&buf[..n]);
    status.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not an HTTP answer: {status:?}"))
}

fn upload_head(addr: std::net::SocketAddr, user: &str, len: usize) -> String {
    format!(
        "POST /v1/files?kind=file&name=note.txt HTTP/1.1\r\nHost: {addr}\r\n{HEADER_SDK_APP_ID}: {}\r\n\
         {HEADER_USER}: {user}\r\n{HEADER_USER_SIG}: {}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
        util::SDK_APP_ID,
        util::sig(user)
    )
}

/// A well-behaved upload of a small file every two seconds.
async fn good_uploads(addr: std::net::SocketAddr, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let body = b"a small file";
    while !stop.load(Ordering::Relaxed) {
        bump(&stats.good_uploads);
        match http(addr, upload_head(addr, "good0", body.len()), body).await {
            Ok(200) => {}
            other => {
                eprintln!("soak: a well-behaved upload failed: {other:?}");
                bump(&stats.good_uploads_failed);
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Stores 100 messages of 10 KB, then asks for them 64 times (64 MB of answers) and reads
/// nothing for longer than the server's write timeout; then checks whether it was dropped.
async fn slow_reader(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let text = "x".repeat(10_000);
    let Ok(mut ws) = util::raw_login(&url, "slow").await else { return bump(&stats.abuser_errors) };
    for i in 0..100u64 {
        if util::call(&mut ws, 10 + i, "msg.send", text_msg(format!("s{i}"), "sink", &text)).await.is_err() {
            return bump(&stats.abuser_errors);
        }
    }
    drop(ws);
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut ws) = util::raw_login(&url, "slow").await else {
            bump(&stats.abuser_errors);
            continue;
        };
        let pull = json!({"conv_id": "c2c_sink", "after_seq": 0, "limit": 1000});
        for id in 0..64u64 {
            if ws.send(util::request(1000 + id, "msg.pull", &pull)).await.is_err() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(25)).await;
        // Dropped: the stream ends before the 64 pages are read.
        let mut pages = 0;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            if matches!(msg, Message::Text(_)) {
                pages += 1;
            }
        }
        if pages < 64 {
            bump(&stats.slow_reader_drops);
        }
    }
}

/// Pipelines small reads as fast as the server takes them (it reads at most 128 ahead).
async fn pipelined_flood(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let Ok(ws) = util::raw_login(&url, "piper").await else { return bump(&stats.abuser_errors) };
    let (mut sink, mut stream) = ws.split();
    let counted = stats.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(_)) = stream.next().await {
            bump(&counted.flood_answered);
        }
    });
    let pull = json!({"conv_id": "c2c_good0", "after_seq": 0, "limit": 1});
    let mut id = 10u64;
    while !stop.load(Ordering::Relaxed) {
        id += 1;
        if sink.send(util::request(id, "msg.pull", &pull)).await.is_err() {
            bump(&stats.abuser_errors);
            break;
        }
    }
    reader.abort();
}

/// Pipelines messages to a good client as fast as the server takes them: the per-user rate
/// refuses all but 100 a second.
async fn message_flood(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let Ok(ws) = util::raw_login(&url, "flooder").await else { return bump(&stats.abuser_errors) };
    let (mut sink, mut stream) = ws.split();
    let counted = stats.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = stream.next().await {
            if util::response_code(text.as_str()) == Some(oxim_proto::code::SVR_SSO_FREQ_LIMIT as i64) {
                bump(&counted.rate_refused);
            }
        }
    });
    let mut id = 10u64;
    while !stop.load(Ordering::Relaxed) {
        id += 1;
        let body = text_msg(format!("f{id}"), "good0", "flood");
        if sink.send(util::request(id, "msg.send", &body)).await.is_err() {
            bump(&stats.abuser_errors);
            break;
        }
    }
    reader.abort();
}

/// Logs one user in on ever new platforms (the server keeps 16 sessions and kicks the oldest).
async fn session_spam(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let mut open = std::collections::VecDeque::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let Ok(mut ws) = util::connect(&url).await else {
            bump(&stats.abuser_errors);
            continue;
        };
        let body = json!({"sdk_app_id": util::SDK_APP_ID, "user_id": "spammer", "user_sig": util::sig("spammer"), "platform": format!("device {n}")});
        if util::call(&mut ws, 1, "login", body).await.is_ok() {
            bump(&stats.session_logins);
        }
        open.push_back(ws);
        if open.len() > 40 {
            open.pop_front();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends a 2 MB message (the limit is 1 MiB); the server closes with 1009.
async fn oversized_frames(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let big = "x".repeat(2 << 20);
    while !stop.load(Ordering::Relaxed) {
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let Ok((ws, _)) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true).await else {
            bump(&stats.abuser_errors);
            continue;
        };
        let (mut sink, mut stream) = ws.split();
        let big = big.clone();
        let sending = tokio::spawn(async move {
            let _ = sink.send(Message::text(big)).await;
            sink
        });
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            if let Message::Close(Some(close)) = msg {
                if u16::from(close.code) == 1009 {
                    bump(&stats.oversize_closed);
                }
                break;
            }
        }
        sending.abort();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Holds an upload open, sending one byte every five seconds: under the server's minimum upload
/// rate, so it is closed (408) once the grace period has passed.
async fn slow_loris(addr: std::net::SocketAddr, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut tcp) = tokio::net::TcpStream::connect(addr).await else {
            bump(&stats.abuser_errors);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        if tcp.write_all(upload_head(addr, "loris", 1_000_000).as_bytes()).await.is_err() {
            continue;
        }
        let mut buf = [0u8; 512];
        loop {
            tokio::select! {
                read = tcp.read(&mut buf) => {
                    match read {
                        Ok(n) if n > 0 && String::from_utf8_lossy(&buf[..n]).contains(" 503 ") => bump(&stats.loris_refused),
                        // Under the server's minimum upload rate after its grace period.
                        Ok(n) if n > 0 && String::from_utf8_lossy(&buf[..n]).contains(" 408 ") => bump(&stats.loris_too_slow),
                        _ => bump(&stats.loris_ended),
                    }
                    break;
                }
                _ = tokio::time::sleep(Duration::from_secs(5)) => {
                    if tcp.write_all(b"x").await.is_err() {
                        bump(&stats.loris_ended);
                        break;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Opens sockets in batches of 20 and never logs in: the server closes them at its login
/// deadline (4002).
async fn never_log_in(url: String, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let mut waits = Vec::new();
        for _ in 0..20 {
            let Ok(mut ws) = util::connect(&url).await else {
                bump(&stats.abuser_errors);
                continue;
            };
            let stats = stats.clone();
            waits.push(tokio::spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Close(Some(close)) = msg {
                        if u16::from(close.code) == oxim_proto::frame::CLOSE_LOGIN_DEADLINE {
                            bump(&stats.deadline_closed);
                        }
                        break;
                    }
                }
            }));
        }
        for w in waits {
            let _ = w.await;
        }
    }
}
