//! What every benchmark needs: child server processes, their memory, raw WebSocket clients,
//! UserSigs, the file-descriptor limit.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_server::config::{DEV_SDK_APP_ID, DEV_SECRET_KEY};
use oxim_server::usersig::UserSigKey;
use tokio_tungstenite::tungstenite::Message;

/// A raw WebSocket client connection.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Benchmark errors are descriptions: they end up in the table.
pub type BenchResult<T> = Result<T, String>;

/// Raises the soft limit of open files to the hard limit (connection benchmarks need many);
/// returns the soft limit in force. Child processes inherit it.
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every target
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        let max = if lim.rlim_max == libc::RLIM_INFINITY { 1 << 20 } else { lim.rlim_max };
        if lim.rlim_cur < max {
            let want = libc::rlimit { rlim_cur: max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                return max as u64;
            }
        }
    }
    lim.rlim_cur as u64
}

/// Resident memory of process `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> BenchResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc/{pid}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| format!("no VmRSS for {pid}"))
}

/// A child process that serves on a loopback port it printed on its first line
/// (`... listening on ADDR`); stopped with SIGTERM when dropped.
pub struct Proc {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
}

/// The connection cap the benchmarks' servers run with: above any descriptor limit they reach.
const BENCH_MAX_CONNECTIONS: usize = 1_000_000;

impl Proc {
    /// Starts `cmd` and waits for its banner.
    pub fn spawn(mut cmd: Command) -> BenchResult<Proc> {
        let shown = format!("{cmd:?}");
        let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {shown}: {e}"))?;
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        out.read_line(&mut first).map_err(|e| format!("{shown}: {e}"))?;
        let addr = first
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("{shown} printed {first:?}, not an address"))?;
        // Keep reading so the child never blocks on a full pipe; what it logs is shown only when
        // a log filter was asked for.
        let show = std::env::var_os("OXIM_BENCH_SERVER_LOG").is_some();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if show {
                    eprintln!("{line}");
                }
            }
        });
        Ok(Proc { child, addr })
    }

    /// The release (or debug) `oxim-server` binary on an ephemeral port with `data_dir`.
    pub fn oxim_server(bin: &Path, data_dir: &Path) -> BenchResult<Proc> {
        Proc::oxim_server_with(bin, data_dir, &[])
    }

    /// [`Proc::oxim_server`] with more flags. Its log filter is "warn", or `OXIM_BENCH_SERVER_LOG`
    /// (e.g. `oxim_server::store=debug` when profiling).
    pub fn oxim_server_with(bin: &Path, data_dir: &Path, flags: &[&str]) -> BenchResult<Proc> {
        let log = std::env::var("OXIM_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into());
        let mut cmd = Command::new(bin);
        cmd.arg("--listen").arg("127.0.0.1:0").arg("--data-dir").arg(data_dir).arg("--log").arg(log);
        // The benchmarks open up to the descriptor limit (memory: 19,600 connections; fan-out:
        // 10,000 members and a sender); the server's cap (10,000 by default) is not measured.
        cmd.arg("--max-connections").arg(BENCH_MAX_CONNECTIONS.to_string());
        cmd.args(flags);
        Proc::spawn(cmd)
    }

    /// This program's bare tokio-tungstenite echo server (the baselines).
    pub fn echo_server() -> BenchResult<Proc> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(exe);
        cmd.arg("echo-server");
        Proc::spawn(cmd)
    }

    /// This program's floor server (the ramp's second baseline), logging to `log`.
    pub fn floor_server(log: &Path) -> BenchResult<Proc> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(exe);
        cmd.arg("floor-server").arg(log);
        Proc::spawn(cmd)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory, bytes.
    pub fn rss(&self) -> BenchResult<u64> {
        rss_bytes(self.pid())
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// Stops it (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `oxim-server` binary next to this program (same profile), or `$OXIM_SERVER_BIN`.
pub fn server_bin() -> BenchResult<PathBuf> {
    if let Ok(p) = std::env::var("OXIM_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.with_file_name("oxim-server");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} not found: build it (cargo build -p oxim-server) or set OXIM_SERVER_BIN", bin.display()))
    }
}

/// The served SDKAppID (the server's development default).
pub const SDK_APP_ID: u64 = DEV_SDK_APP_ID;

/// UserSigs the child servers accept (they run with the development key).
pub fn sig(user: &str) -> String {
    let key = UserSigKey::new(DEV_SDK_APP_ID, DEV_SECRET_KEY);
    key.sign(user, oxim_proto::clock::now_ms() / 1000, 86400)
}

/// Connects a raw WebSocket client with Nagle's algorithm off (as a latency-minded client would)
/// and oxim-server's read buffer size. With tungstenite's default (128 KiB) every read zero-filled
/// the buffer's spare room first: a quarter of the ramp's client CPU, taken from the server it
/// measures on the same cores (docs/benchmarks.md, eighth round).
pub async fn connect(url: &str) -> BenchResult<Ws> {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(oxim_server::gateway::limits::WS_READ_BUFFER);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    Ok(ws)
}

/// A WebSocket accepted by [`serve_ws`].
pub type ServerWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Runs a baseline server until killed, on a runtime shaped like oxim-server's (a worker per
/// core): binds a loopback port, prints `NAME listening on ADDR` (what [`Proc::spawn`] waits
/// for), and hands every accepted WebSocket, read with oxim-server's buffer size
/// ([`oxim_server::gateway::limits::WS_READ_BUFFER`]: tungstenite's default of 128 KiB would
/// dominate memory per connection and hide what oxim adds on top of the transport), to `serve`
/// on a task of its own.
pub fn serve_ws<F, Fut>(name: &str, serve: F)
where
    F: Fn(ServerWs) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let serve = std::sync::Arc::new(serve);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        println!("{name} listening on {}", listener.local_addr().expect("bound address"));
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors: wait for some to be freed rather than spin.
                    eprintln!("{name}: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let serve = serve.clone();
            tokio::spawn(async move {
                let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .read_buffer_size(oxim_server::gateway::limits::WS_READ_BUFFER);
                if let Ok(ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await {
                    serve(ws).await;
                }
            });
        }
    });
}

/// A task writing what is queued to `sink`, everything already queued in one flush.
pub fn spawn_writer<S>(mut sink: S) -> tokio::sync::mpsc::UnboundedSender<Message>
where
    S: futures_util::Sink<Message> + Unpin + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.feed(m).await.is_err() {
                return;
            }
            let mut n = 1;
            while n < 64
                && let Ok(m) = rx.try_recv()
            {
                if sink.feed(m).await.is_err() {
                    return;
                }
                n += 1;
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    tx
}

/// A request frame.
pub fn request(id: u64, op: &str, body: &serde_json::Value) -> Message {
    Message::text(serde_json::json!({"v": 1, "t": "req", "id": id, "op": op, "body": body}).to_string())
}

/// Sends a request and waits for its response (pushes before it are skipped); returns the
/// response frame, or an error for a non-zero code.
pub async fn call(ws: &mut Ws, id: u64, op: &str, body: serde_json::Value) -> BenchResult<serde_json::Value> {
    ws.send(request(id, op, &body)).await.map_err(|e| format!("{op}: {e}"))?;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .map_err(|_| format!("{op}: no answer in 60 s"))?
            .ok_or_else(|| format!("{op}: connection closed"))?
            .map_err(|e| format!("{op}: {e}"))?;
        let Message::Text(text) = msg else { continue };
        let frame: serde_json::Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
        if frame["t"] == "res" && frame["id"] == id {
            if frame["code"] != 0 {
                return Err(format!("{op}: {frame}"));
            }
            return Ok(frame);
        }
    }
}

/// A raw client logged in as `user`.
pub async fn raw_login(url: &str, user: &str) -> BenchResult<Ws> {
    let mut ws = connect(url).await?;
    let body =
        serde_json::json!({"sdk_app_id": SDK_APP_ID, "user_id": user, "user_sig": sig(user), "platform": "bench"});
    call(&mut ws, 1, "login", body).await?;
    Ok(ws)
}

/// The response code of a response frame's text (`{"v":1,"t":"res","id":…,"code":N…`), read
/// without parsing the whole frame; `None` if it is not a response.
pub fn response_code(text: &str) -> Option<i64> {
    if !text.starts_with(r#"{"v":1,"t":"res""#) {
        return None;
    }
    let rest = &text[text.find(r#""code":"#)? + 7..];
    let end = rest.find(|c: char| c != '-' && !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Whether a frame's text is a `msg` push.
pub fn is_msg_push(text: &str) -> bool {
    text.starts_with(r#"{"v":1,"t":"push","op":"msg""#)
}

/// Nanoseconds since `base`.
pub fn since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// Runs `f` over `items` with at most `parallel` at a time, in order of completion.
pub async fn for_each_parallel<T, F, Fut, R>(items: Vec<T>, parallel: usize, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    futures_util::stream::iter(items.into_iter().map(f)).buffer_unordered(parallel).collect().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_peeking() {
        assert_eq!(response_code(r#"{"v":1,"t":"res","id":7,"code":0,"body":{}}"#), Some(0));
        assert_eq!(response_code(r#"{"v":1,"t":"res","id":7,"code":10010,"desc":"x"}"#), Some(10010));
        assert_eq!(response_code(r#"{"v":1,"t":"push","op":"msg","body":{}}"#), None);
        assert!(is_msg_push(r#"{"v":1,"t":"push","op":"msg","body":{}}"#));
        assert!(!is_msg_push(r#"{"v":1,"t":"push","op":"kicked","body":{}}"#));
    }

    #[test]
    fn own_memory_is_readable() {
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }
}
