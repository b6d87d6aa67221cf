//! C2C end-to-end latency: online SDK clients (real `oxim_core::Manager`s, each with its own
//! local store) send to random peers at a fixed offered rate (open loop: a slow send never
//! delays the next); a message's latency runs from the `sendC2CTextMessage` call to the
//! peer's `onRecvC2CTextMessage`, which fires only after the message is stored on the
//! receiver (the sender stored it before sending).
//!
//! Baseline, same run, same shape: as many raw tokio-tungstenite connections to a bare echo
//! server process, the same rate, random connections; latency = one echo round trip.
//!
//! The machine's own hiccups show up in both, so rounds of the two alternate and each figure
//! is the round with the median p99 (every round is printed to stderr).

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_core::{LogLevel, Manager, SdkConfig, SimpleMsgListener, UserInfo};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::report::{Met, Row, Stats, count, ns, ratio};
use crate::util::{self, BenchResult, Proc, since};

const METRIC: &str = "C2C end-to-end latency";
const TARGET: &str = "p99 ≤ 10× echo p99";

/// Send times and arrival times of numbered messages.
struct Probe {
    base: Instant,
    sent: Vec<AtomicU64>,
    got: Vec<AtomicU64>,
    delivered: AtomicUsize,
    duplicates: AtomicUsize,
}

impl Probe {
    fn new(n: usize) -> Arc<Probe> {
        Arc::new(Probe {
            base: Instant::now(),
            sent: (0..n).map(|_| AtomicU64::new(0)).collect(),
            got: (0..n).map(|_| AtomicU64::new(0)).collect(),
            delivered: AtomicUsize::new(0),
            duplicates: AtomicUsize::new(0),
        })
    }

    fn send(&self, k: usize) -> u64 {
        let now = since(self.base);
        self.sent[k].store(now, Ordering::SeqCst);
        now
    }

    fn arrived(&self, k: usize) {
        let Some(slot) = self.got.get(k) else { return };
        // Never 0, so 0 keeps meaning "not arrived".
        if slot.swap(since(self.base).max(1), Ordering::SeqCst) == 0 {
            self.delivered.fetch_add(1, Ordering::SeqCst);
        } else {
            self.duplicates.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn stats(&self, range: Range<usize>) -> Option<Stats> {
        let lat = range
            .filter_map(|k| {
                let (g, s) = (self.got[k].load(Ordering::SeqCst), self.sent[k].load(Ordering::SeqCst));
                (g != 0).then(|| g.saturating_sub(s))
            })
            .collect();
        Stats::of(lat)
    }

    /// Waits until `n` messages arrived in all (or `limit` passed); errors on loss or duplicates.
    async fn wait_for(&self, n: usize, limit: Duration) -> BenchResult<()> {
        let deadline = Instant::now() + limit;
        while self.delivered.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (got, dup) = (self.delivered.load(Ordering::SeqCst), self.duplicates.load(Ordering::SeqCst));
        if got < n || dup > 0 {
            return Err(format!("{got} of {n} messages arrived, {dup} twice"));
        }
        Ok(())
    }
}

/// Calls `fire(k)` for k in 0..total at `rate` per second from now (open loop).
async fn open_loop(total: usize, rate: f64, mut fire: impl FnMut(usize)) {
    let t0 = tokio::time::Instant::now();
    for k in 0..total {
        let due = t0 + Duration::from_secs_f64(k as f64 / rate);
        if due > tokio::time::Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        fire(k);
    }
}

fn random_pair(n: usize) -> (usize, usize) {
    let a = fastrand::usize(..n);
    let mut b = fastrand::usize(..n - 1);
    if b >= a {
        b += 1;
    }
    (a, b)
}

/// The SDK's listener: records the arrival of "lat <k>" texts.
struct Inbox(Arc<Probe>);

impl SimpleMsgListener for Inbox {
    fn on_recv_c2c_text_message(&self, _msg_id: String, _sender: UserInfo, text: String) {
        if let Some(k) = text.strip_prefix("lat ").and_then(|k| k.parse::<usize>().ok()) {
            self.0.arrived(k);
        }
    }
}

/// The round whose p99 is the median of the rounds'.
fn median_round(rounds: &[Stats]) -> Stats {
    let mut by_p99 = rounds.to_vec();
    by_p99.sort_by_key(|s| s.p99);
    by_p99[by_p99.len() / 2]
}

/// Runs the benchmark: echo and SDK rounds alternate, so both see the same machine; each
/// figure is the round with the median p99.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((sdk, echo)) => {
            let s = &ctx.sizes;
            Row {
                metric: METRIC.into(),
                value: format!(
                    "{} ({} msgs, {} clients, {} msgs/s; median of {} rounds)",
                    sdk.summary(),
                    count(sdk.n as u64),
                    count(s.latency_clients as u64),
                    count(s.latency_rate as u64),
                    s.latency_rounds
                ),
                baseline: format!("echo p99 {} (p50 {})", ns(echo.p99), ns(echo.p50)),
                ratio: ratio(sdk.p99 as f64, echo.p99 as f64),
                target: TARGET.into(),
                met: Met::check(sdk.p99 as f64 <= 10.0 * echo.p99 as f64, ctx.quick),
            }
        }
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

async fn measure(ctx: &Ctx) -> BenchResult<(Stats, Stats)> {
    let s = &ctx.sizes;
    let (clients, rate, rounds) = (s.latency_clients, s.latency_rate, s.latency_rounds);
    let total = (rate * s.latency_secs) as usize;
    eprintln!(
        "latency: {clients} clients, {rate} msgs/s offered, {rounds} rounds of {} s ({total} messages) each for \
         the echo baseline and the SDK",
        s.latency_secs
    );
    match raw_send_rtt(ctx, clients, rate, total).await {
        Ok(r) => eprintln!("latency: breakdown: raw msg.send → response (server only, no SDK) {}", r.summary()),
        Err(e) => eprintln!("latency: raw msg.send round trip failed: {e}"),
    }
    let echo = EchoRig::start(clients, rounds * total).await?;
    let sdk = SdkRig::start(ctx, clients, rounds * total).await?;
    let (mut echo_rounds, mut sdk_rounds) = (Vec::new(), Vec::new());
    let mut outcome = Ok(());
    for r in 0..rounds {
        let range = r * total..(r + 1) * total;
        open_loop(total, rate, |k| echo.fire(range.start + k)).await;
        if let Err(e) = echo.probe.wait_for(range.end, Duration::from_secs(30)).await {
            outcome = Err(format!("echo baseline: {e}"));
            break;
        }
        open_loop(total, rate, |k| sdk.fire(range.start + k)).await;
        if let Err(e) = sdk.probe.wait_for(range.end, Duration::from_secs(30)).await {
            outcome = Err(e);
            break;
        }
        let (e, d) = (echo.probe.stats(range.clone()), sdk.probe.stats(range.clone()));
        let (Some(e), Some(d)) = (e, d) else { break };
        eprintln!(
            "latency: round {}: echo round trip {}; SDK send → peer listener {}",
            r + 1,
            e.summary(),
            d.summary()
        );
        if let Some(a) = Stats::of(range.map(|k| sdk.acked[k].load(Ordering::SeqCst)).collect()) {
            eprintln!("latency:          SDK send → acknowledged {}", a.summary());
        }
        echo_rounds.push(e);
        sdk_rounds.push(d);
    }
    let failed = sdk.failed.load(Ordering::SeqCst);
    sdk.shut_down().await;
    drop(echo);
    outcome?;
    if failed > 0 {
        return Err(format!("{failed} sends failed"));
    }
    Ok((median_round(&sdk_rounds), median_round(&echo_rounds)))
}

/// Raw connections to the echo server, each with a writer task and a reader task.
struct EchoRig {
    _server: Proc,
    probe: Arc<Probe>,
    senders: Vec<mpsc::UnboundedSender<Message>>,
    pad: String,
}

/// A task writing what is queued on the returned sender to `sink`, so the load generator never
/// waits for a socket.
fn spawn_writer<S>(mut sink: S) -> mpsc::UnboundedSender<Message>
where
    S: futures_util::Sink<Message> + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.send(m).await.is_err() {
                return;
            }
        }
    });
    tx
}

impl EchoRig {
    async fn start(clients: usize, capacity: usize) -> BenchResult<EchoRig> {
        let server = Proc::echo_server()?;
        let url = format!("ws://{}/", server.addr);
        let probe = Probe::new(capacity);
        let conns = util::for_each_parallel((0..clients).collect(), 64, |_| util::connect(&url)).await;
        let mut senders = Vec::with_capacity(clients);
        for ws in conns {
            let (sink, mut stream) = ws?.split();
            let tx = spawn_writer(sink);
            let probe = probe.clone();
            tokio::spawn(async move {
                while let Some(Ok(Message::Text(t))) = stream.next().await {
                    if let Some(k) = t.as_str().strip_prefix("e ").and_then(|r| r.split(' ').next()?.parse().ok()) {
                        probe.arrived(k);
                    }
                }
            });
            senders.push(tx);
        }
        // About the size of a message push frame.
        Ok(EchoRig { _server: server, probe, senders, pad: "x".repeat(220) })
    }

    fn fire(&self, k: usize) {
        let c = fastrand::usize(..self.senders.len());
        self.probe.send(k);
        let _ = self.senders[c].send(Message::text(format!("e {k} {}", self.pad)));
    }
}

/// Logged-in SDK clients (each its own `Manager` and data directory) on an oxim-server.
struct SdkRig {
    _dir: tempfile::TempDir,
    server: Proc,
    sdks: Vec<Manager>,
    probe: Arc<Probe>,
    /// Send → the send call returned (stored locally and accepted by the server), per message.
    acked: Arc<Vec<AtomicU64>>,
    failed: Arc<AtomicUsize>,
}

impl SdkRig {
    async fn start(ctx: &Ctx, clients: usize, capacity: usize) -> BenchResult<SdkRig> {
        let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
        let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;
        let started = Instant::now();
        let sdks = sdk_clients(&server, &dir.path().join("devices"), "lat", clients).await?;
        eprintln!("latency: {clients} SDK clients logged in ({:.1} s)", started.elapsed().as_secs_f64());
        let rig = SdkRig {
            _dir: dir,
            server,
            sdks,
            probe: Probe::new(capacity),
            acked: Arc::new((0..capacity).map(|_| AtomicU64::new(0)).collect()),
            failed: Arc::new(AtomicUsize::new(0)),
        };
        // Warm-up (not measured): a second of the same traffic.
        let rate = ctx.sizes.latency_rate;
        let warm = Arc::new(AtomicUsize::new(0));
        open_loop(rate as usize, rate, |k| {
            let (a, b) = random_pair(clients);
            let (sdk, warm) = (rig.sdks[a].clone(), warm.clone());
            tokio::spawn(async move {
                let _ = sdk.send_c2c_text_message(format!("warm {k}"), format!("lat{b}")).await;
                warm.fetch_add(1, Ordering::SeqCst);
            });
        })
        .await;
        while warm.load(Ordering::SeqCst) < rate as usize {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for sdk in &rig.sdks {
            sdk.add_simple_msg_listener(Arc::new(Inbox(rig.probe.clone())));
        }
        Ok(rig)
    }

    fn fire(&self, k: usize) {
        let (a, b) = random_pair(self.sdks.len());
        let sdk = self.sdks[a].clone();
        let (probe, acked, failed) = (self.probe.clone(), self.acked.clone(), self.failed.clone());
        let start = probe.send(k);
        tokio::spawn(async move {
            let r = sdk.send_c2c_text_message(format!("lat {k}"), format!("lat{b}")).await;
            acked[k].store(since(probe.base) - start, Ordering::SeqCst);
            if r.is_err() {
                failed.fetch_add(1, Ordering::SeqCst);
            }
        });
    }

    async fn shut_down(self) {
        shut_down(self.sdks).await;
        drop(self.server);
    }
}

/// Diagnostic: `msg.send` round trips of raw protocol clients (the server's share of the
/// latency, without the SDK), same connections and rate.
async fn raw_send_rtt(ctx: &Ctx, clients: usize, rate: f64, total: usize) -> BenchResult<Stats> {
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;
    let url = server.ws_url();
    let probe = Probe::new(total);
    let conns = util::for_each_parallel((0..clients).collect(), 32, |i| {
        let url = url.clone();
        async move { util::raw_login(&url, &format!("raw{i}")).await }
    })
    .await;
    let mut senders = Vec::with_capacity(clients);
    for ws in conns {
        let (sink, mut stream) = ws?.split();
        let tx = spawn_writer(sink);
        let probe = probe.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(t))) = stream.next().await {
                let t = t.as_str();
                if util::response_code(t) == Some(0)
                    && let Some(id) = t.strip_prefix(r#"{"v":1,"t":"res","id":"#)
                    && let Some(k) = id.split(',').next().and_then(|k| k.parse::<usize>().ok())
                    && k >= 100
                {
                    probe.arrived(k - 100);
                }
            }
        });
        senders.push(tx);
    }
    open_loop(total, rate, |k| {
        let (a, b) = random_pair(clients);
        probe.send(k);
        let frame = format!(
            r#"{{"v":1,"t":"req","id":{},"op":"msg.send","body":{{"msg":{{"msg_id":"raw{k}","receiver":"raw{b}","elem":{{"type":"text","text":"lat {k}"}}}}}}}}"#,
            k + 100
        );
        let _ = senders[a].send(Message::text(frame));
    })
    .await;
    probe.wait_for(total, Duration::from_secs(30)).await?;
    probe.stats(0..total).ok_or_else(|| "no samples".into())
}

/// SDK clients logged in as `<prefix><i>` (each its own data directory under `root`).
pub async fn sdk_clients(server: &Proc, root: &Path, prefix: &str, n: usize) -> BenchResult<Vec<Manager>> {
    let mut sdks = Vec::with_capacity(n);
    for i in 0..n {
        let sdk = Manager::new();
        let mut config = SdkConfig::new(format!("ws://{}", server.addr), root.join(format!("{prefix}{i}")));
        config.log_level = LogLevel::None;
        config.platform = "bench".into();
        sdk.init_sdk(util::SDK_APP_ID, config, None).map_err(|e| format!("initSDK: {e}"))?;
        sdks.push(sdk);
    }
    let logins = util::for_each_parallel((0..n).collect(), 32, |i| {
        let sdk = sdks[i].clone();
        let user = format!("{prefix}{i}");
        async move { sdk.login(user.clone(), util::sig(&user)).await.map_err(|e| format!("login {user}: {e}")) }
    })
    .await;
    logins.into_iter().collect::<BenchResult<Vec<()>>>()?;
    Ok(sdks)
}

/// Ends every SDK instance (off the async workers: it joins threads).
pub async fn shut_down(sdks: Vec<Manager>) {
    let _ = tokio::task::spawn_blocking(move || sdks.iter().for_each(Manager::uninit_sdk)).await;
}
