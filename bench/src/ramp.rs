//! Throughput under many clients, as an operator sizing a server would measure it: N logged-in
//! raw protocol clients; each message is a `msg.send` from a random client to a random other
//! client, offered open-loop (a slow server never slows the offer) at a total rate that steps up
//! ×1.25 every step; latency runs from the message's *scheduled* send time to the receiver's
//! push (so a stalled load generator counts against the server, not for it). The server answers
//! a send after its commit is fsynced (`--durability full`).
//!
//! Per step: offered, sent and delivered rates, p50/p99/p99.9, lost, duplicated and refused
//! messages, the server's CPU, this process's CPU, the machine's busy share and load average.
//! The figures: the knee (highest offered rate whose p99 ≤ 100 ms with nothing lost) and the
//! highest with p99 ≤ 1 s. The ramp ends after the first step whose p99 is certainly over 1 s;
//! then every message still in flight is waited for (lost = never pushed).
//!
//! Baselines, same run, same ramp:
//! - *echo*: as many raw connections to the bare echo server; a message is a ~230-byte frame
//!   echoed back to the connection that sent it (the transport alone);
//! - *floor*: the same clients and frames as Oxim's, served by [`crate::floor`]: each message
//!   routed to its receiver and acknowledged once an append-only log is fsynced, nothing else
//!   (what any server keeping Oxim's promise pays on this machine).
//!
//! Sizes can be overridden for profiling and for the 10,000-client run:
//! `OXIM_RAMP_CLIENTS`, `OXIM_RAMP_FROM` (first rate), `OXIM_RAMP_MAX` (highest rate),
//! `OXIM_RAMP_STEP_SECS`, `OXIM_RAMP_SERVERS` (`echo,floor,oxim`), `OXIM_RAMP_DURABILITY`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::report::{Met, Row, count, ns};
use crate::util::{self, BenchResult, Proc, since};

const METRIC: &str = "C2C throughput knee under many clients (ramp, fsynced)";
const TARGET: &str = "knee ≥ 20,000 msgs/s (p99 ≤ 100 ms); p99 at 1,000 msgs/s ≤ 1 ms";

/// p99 limits of the two figures, ns.
const KNEE_P99: u64 = 100_000_000;
const SOFT_P99: u64 = 1_000_000_000;

/// Messages due within this of now are sent at once (a sleep's own overshoot is ~50 µs).
const PRECISION: Duration = Duration::from_micros(20);

/// A message's state bits.
const PUSHED: u8 = 1;
const DUPLICATED: u8 = 2;
const REFUSED: u8 = 4;

/// The ramp's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Connected clients.
    pub clients: usize,
    /// First offered rate, msgs/s.
    pub from: f64,
    /// Rate factor per step.
    pub factor: f64,
    /// Highest rate offered.
    pub max: f64,
    /// Seconds per step.
    pub step_secs: f64,
    /// Which servers (echo and floor baselines, oxim).
    pub servers: Vec<String>,
    /// The oxim server's `--durability`.
    pub durability: String,
}

impl Plan {
    /// The full run's plan (1,000 clients from 1,000 msgs/s), or the quick run's; environment
    /// overrides applied.
    pub fn new(quick: bool) -> Plan {
        let mut plan = if quick {
            Plan {
                clients: 40,
                from: 200.0,
                factor: 1.25,
                max: 320.0,
                step_secs: 1.0,
                servers: vec!["echo".into(), "floor".into(), "oxim".into()],
                durability: "full".into(),
            }
        } else {
            Plan {
                clients: 1_000,
                from: 1_000.0,
                factor: 1.25,
                max: 60_000.0,
                step_secs: 10.0,
                servers: vec!["echo".into(), "floor".into(), "oxim".into()],
                durability: "full".into(),
            }
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("OXIM_RAMP_CLIENTS").and_then(|v| v.parse().ok()) {
            plan.clients = v;
        }
        if let Some(v) = env("OXIM_RAMP_FROM").and_then(|v| v.parse().ok()) {
            plan.from = v;
        }
        if let Some(v) = env("OXIM_RAMP_MAX").and_then(|v| v.parse().ok()) {
            plan.max = v;
        }
        if let Some(v) = env("OXIM_RAMP_STEP_SECS").and_then(|v| v.parse().ok()) {
            plan.step_secs = v;
        }
        if let Some(v) = env("OXIM_RAMP_SERVERS") {
            plan.servers = v.split(',').map(str::to_owned).collect();
        }
        if let Some(v) = env("OXIM_RAMP_DURABILITY") {
            plan.durability = v;
        }
        plan
    }

    /// The offered rates, step by step.
    fn rates(&self) -> Vec<f64> {
        let mut rates = Vec::new();
        let mut r = self.from;
        while r <= self.max * 1.0001 && rates.len() < 64 {
            rates.push(r.round());
            r *= self.factor;
        }
        rates
    }
}

/// Scheduled send times, arrivals and states of numbered messages.
struct Probe {
    base: Instant,
    sched: Vec<AtomicU64>,
    got: Vec<AtomicU64>,
    /// The connection that must receive message k.
    dest: Vec<AtomicU32>,
    state: Vec<AtomicU8>,
    delivered: AtomicUsize,
    /// Refused sends (the first few are printed).
    refusals: AtomicUsize,
}

impl Probe {
    fn new(n: usize) -> Arc<Probe> {
        Arc::new(Probe {
            base: Instant::now(),
            sched: (0..n).map(|_| AtomicU64::new(0)).collect(),
            got: (0..n).map(|_| AtomicU64::new(0)).collect(),
            dest: (0..n).map(|_| AtomicU32::new(u32::MAX)).collect(),
            state: (0..n).map(|_| AtomicU8::new(0)).collect(),
            delivered: AtomicUsize::new(0),
            refusals: AtomicUsize::new(0),
        })
    }

    /// Message `k` reached connection `conn`.
    fn arrived(&self, k: usize, conn: usize) {
        if k >= self.got.len() || self.dest[k].load(Ordering::Relaxed) != conn as u32 {
            return;
        }
        let now = since(self.base).max(1);
        let before = self.state[k].fetch_or(PUSHED, Ordering::AcqRel);
        if before & PUSHED == 0 {
            self.got[k].store(now, Ordering::Release);
            self.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            self.state[k].fetch_or(DUPLICATED, Ordering::AcqRel);
        }
    }

    fn refused(&self, k: usize) {
        if let Some(s) = self.state.get(k) {
            s.fetch_or(REFUSED, Ordering::AcqRel);
        }
    }

    /// Latencies (ns) of the messages in `range` that arrived, and how many were accepted and
    /// did not (lost; a refused message is counted as refused).
    fn latencies(&self, range: std::ops::Range<usize>) -> (Vec<u64>, usize) {
        let mut lat = Vec::with_capacity(range.len());
        let mut missing = 0;
        for k in range {
            let g = self.got[k].load(Ordering::Acquire);
            if g == 0 {
                missing += usize::from(self.state[k].load(Ordering::Acquire) & REFUSED == 0);
            } else {
                lat.push(g.saturating_sub(self.sched[k].load(Ordering::Relaxed)));
            }
        }
        (lat, missing)
    }

    /// Messages of `range` that arrived more than 1 s after being due, or were due before
    /// `due_before` (ns since base) and have not arrived.
    fn late(&self, range: std::ops::Range<usize>, due_before: u64) -> usize {
        range
            .filter(|&k| {
                let (g, s) = (self.got[k].load(Ordering::Acquire), self.sched[k].load(Ordering::Relaxed));
                if g == 0 { s < due_before } else { g.saturating_sub(s) > SOFT_P99 }
            })
            .count()
    }

    fn count_state(&self, range: std::ops::Range<usize>, bit: u8) -> usize {
        range.filter(|&k| self.state[k].load(Ordering::Acquire) & bit != 0).count()
    }
}

/// What one step measured.
#[derive(Debug, Clone)]
struct Step {
    offered: f64,
    sent: f64,
    delivered: f64,
    p50: u64,
    p99: u64,
    p999: u64,
    lost: usize,
    duplicated: usize,
    refused: usize,
    server_cpu: f64,
    bench_cpu: f64,
    busy: f64,
    load: f64,
}

impl Step {
    fn ok(&self, limit: u64) -> bool {
        self.p99 <= limit && self.lost == 0 && self.duplicated == 0 && self.refused == 0
    }
}

/// A ramp against one server.
struct Ramp {
    name: String,
    steps: Vec<Step>,
}

impl Ramp {
    /// The highest offered rate whose step met `limit`, among the steps from the start up to
    /// the first that did not.
    fn highest(&self, limit: u64) -> Option<f64> {
        self.steps.iter().take_while(|s| s.ok(limit)).last().map(|s| s.offered)
    }

    fn lost(&self) -> usize {
        self.steps.iter().map(|s| s.lost).sum()
    }

    fn duplicated(&self) -> usize {
        self.steps.iter().map(|s| s.duplicated).sum()
    }

    fn refused(&self) -> usize {
        self.steps.iter().map(|s| s.refused).sum()
    }

    fn table(&self, plan: &Plan) -> String {
        let mut out = format!(
            "\n### Ramp: {} ({} clients, ×{} every {} s)\n\n| offered msgs/s | sent/s | delivered/s | p50 | p99 | p99.9 | lost | dup | refused | server CPU | bench CPU | machine busy | load |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            self.name,
            count(plan.clients as u64),
            plan.factor,
            plan.step_secs
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} % | {:.0} % | {:.0} % | {:.1} |",
                count(s.offered as u64),
                count(s.sent as u64),
                count(s.delivered as u64),
                ns(s.p50),
                ns(s.p99),
                ns(s.p999),
                s.lost,
                s.duplicated,
                s.refused,
                s.server_cpu * 100.0,
                s.bench_cpu * 100.0,
                s.busy * 100.0,
                s.load
            );
        }
        let knee = self.highest(KNEE_P99).map_or("none".into(), |r| count(r as u64));
        let soft = self.highest(SOFT_P99).map_or("none".into(), |r| count(r as u64));
        let _ =
            writeln!(out, "\n{}: knee (p99 ≤ 100 ms) {knee} msgs/s; highest with p99 ≤ 1 s {soft} msgs/s", self.name);
        out
    }
}

/// Runs the ramp against the echo and floor baselines and oxim-server; returns the row and the
/// step tables (for the results file).
pub async fn run(ctx: &Ctx) -> (Row, String) {
    let plan = Plan::new(ctx.quick);
    let mut tables = String::new();
    let mut echo = None;
    let mut floor = None;
    let mut oxim = None;
    let mut failure = None;
    for server in &plan.servers {
        let result = match server.as_str() {
            "echo" => ramp(ctx, &plan, Target::Echo).await,
            "floor" => ramp(ctx, &plan, Target::Floor).await,
            "oxim" => ramp(ctx, &plan, Target::Oxim).await,
            other => Err(format!("unknown ramp server {other:?}")),
        };
        match result {
            Ok(r) => {
                let t = r.table(&plan);
                eprintln!("{t}");
                tables.push_str(&t);
                match server.as_str() {
                    "echo" => echo = Some(r),
                    "floor" => floor = Some(r),
                    _ => oxim = Some(r),
                }
            }
            Err(e) => failure = Some(format!("{server}: {e}")),
        }
    }
    if let Some(e) = failure {
        return (Row::failed(METRIC, TARGET, &e), tables);
    }
    let fmt = |r: Option<f64>| r.map_or("none".to_string(), |r| format!("{} msgs/s", count(r as u64)));
    let Some(o) = oxim else {
        return (Row::new(METRIC, "not measured (OXIM_RAMP_SERVERS)".into(), TARGET, Met::Skipped), tables);
    };
    let first_p99 = o.steps.first().map(|s| s.p99).unwrap_or(u64::MAX);
    let value = format!(
        "knee {} (p99 ≤ 100 ms); p99 ≤ 1 s up to {}; p99 {} at {} msgs/s ({} clients, --durability {}, ×{} every {} s; lost {}, duplicated {}, refused {})",
        fmt(o.highest(KNEE_P99)),
        fmt(o.highest(SOFT_P99)),
        ns(first_p99),
        count(plan.from as u64),
        count(plan.clients as u64),
        plan.durability,
        plan.factor,
        plan.step_secs,
        o.lost(),
        o.duplicated(),
        o.refused()
    );
    let correct = o.lost() == 0 && o.duplicated() == 0 && o.refused() == 0;
    let correct =
        correct && [&echo, &floor].iter().all(|b| b.as_ref().is_none_or(|b| b.lost() == 0 && b.duplicated() == 0));
    let mut row = Row::new(
        METRIC,
        value,
        TARGET,
        if !correct && ctx.quick {
            // The quick run asserts correctness only: every message exactly once.
            Met::Failed
        } else {
            Met::check(
                o.highest(KNEE_P99).is_some_and(|r| r >= 20_000.0) && first_p99 <= 1_000_000 && plan.from <= 1_000.0,
                ctx.quick,
            )
        },
    );
    let baseline = |name: &str, b: &Ramp| {
        format!(
            "{name}: knee {}, p99 ≤ 1 s up to {}, p99 {} at {} msgs/s",
            fmt(b.highest(KNEE_P99)),
            fmt(b.highest(SOFT_P99)),
            ns(b.steps.first().map(|s| s.p99).unwrap_or(0)),
            count(plan.from as u64)
        )
    };
    let baselines: Vec<String> = [("echo", &echo), ("floor (route + fsync only)", &floor)]
        .into_iter()
        .filter_map(|(name, b)| b.as_ref().map(|b| baseline(name, b)))
        .collect();
    row.baseline = baselines.join("; ");
    if let Some(e) = &echo
        && let (Some(a), Some(b)) = (o.highest(KNEE_P99), e.highest(KNEE_P99))
    {
        row.ratio = format!("{:.2}× (knees)", a / b);
    }
    (row, tables)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Echo,
    /// [`crate::floor`]: Oxim's frames, routed and fsynced, nothing else.
    Floor,
    Oxim,
}

/// The clients' connections: a writer queue each; readers record arrivals in the probe.
struct Clients {
    senders: Vec<mpsc::UnboundedSender<Message>>,
}

/// The number after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<usize> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Request ids are message numbers plus this (ids below are the logins').
const ID_BASE: usize = 100;

async fn connect_all(target: Target, server: &Proc, n: usize, probe: &Arc<Probe>) -> BenchResult<Clients> {
    let url = server.ws_url();
    let echo_url = format!("ws://{}/", server.addr);
    let conns = util::for_each_parallel((0..n).collect(), 32, |i| {
        let (url, echo_url) = (url.clone(), echo_url.clone());
        async move {
            let ws = match target {
                Target::Oxim | Target::Floor => util::raw_login(&url, &format!("ramp{i}")).await,
                Target::Echo => util::connect(&echo_url).await,
            };
            (i, ws)
        }
    })
    .await;
    let mut senders: Vec<Option<mpsc::UnboundedSender<Message>>> = (0..n).map(|_| None).collect();
    for (i, ws) in conns {
        let (sink, mut stream) = ws?.split();
        let probe = probe.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let t = t.as_str();
                match target {
                    Target::Echo => {
                        if let Some(k) = number_after(t, "r") {
                            probe.arrived(k, i);
                        }
                    }
                    Target::Oxim | Target::Floor => {
                        if util::is_msg_push(t) {
                            if let Some(k) = number_after(t, r#""msg_id":"ramp-"#) {
                                probe.arrived(k, i);
                            }
                        } else if let Some(code) = util::response_code(t)
                            && code != 0
                            && let Some(id) = number_after(t, r#""id":"#)
                            && id >= ID_BASE
                        {
                            probe.refused(id - ID_BASE);
                            if probe.refusals.fetch_add(1, Ordering::Relaxed) < 3 {
                                eprintln!("ramp: a send was refused: {t}");
                            }
                        }
                    }
                }
            }
        });
        senders[i] = Some(util::spawn_writer(sink));
    }
    Ok(Clients { senders: senders.into_iter().map(|s| s.expect("every connection")).collect() })
}

/// CPU ticks of process `pid` (user + system).
fn proc_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    let Some(close) = stat.rfind(')') else { return 0 };
    // After the command: state (field 3), ..., utime (14), stime (15).
    let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let field = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}

/// The machine's (busy, total) ticks.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    if v.len() < 5 {
        return (0, 0);
    }
    let total: u64 = v.iter().take(8).sum();
    (total - v[3] - v[4], total)
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf reads a constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

async fn ramp(ctx: &Ctx, plan: &Plan, target: Target) -> BenchResult<Ramp> {
    let name = match target {
        Target::Echo => "echo".to_string(),
        Target::Floor => "floor".to_string(),
        Target::Oxim => format!("oxim (--durability {})", plan.durability),
    };
    let rates = plan.rates();
    let capacity: usize = rates.iter().map(|r| (r * plan.step_secs) as usize + 1).sum();
    // Warm-up (not measured): two seconds at the first rate, numbered after the steps' messages.
    // Right after thousands of connections opened, the first second stalls both servers
    // (seen at 10,000 clients: the echo's first step had p99 2.6 s).
    let warm = (plan.from * 2.0) as usize;
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let server = match target {
        Target::Echo => Proc::echo_server()?,
        Target::Floor => Proc::floor_server(&dir.path().join("floor.log"))?,
        Target::Oxim => {
            Proc::oxim_server_with(&ctx.server_bin, &dir.path().join("server"), &["--durability", &plan.durability])?
        }
    };
    let probe = Probe::new(capacity + warm);
    let started = Instant::now();
    let clients = connect_all(target, &server, plan.clients, &probe).await?;
    eprintln!(
        "ramp {name}: {} clients connected{} in {:.1} s; steps {:?} msgs/s, {} s each",
        plan.clients,
        if target == Target::Echo { "" } else { " and logged in" },
        started.elapsed().as_secs_f64(),
        rates,
        plan.step_secs
    );
    let pad = "x".repeat(200);
    let n = plan.clients;
    let fire = |k: usize| {
        let a = fastrand::usize(..n);
        match target {
            Target::Echo => {
                probe.dest[k].store(a as u32, Ordering::Relaxed);
                let _ = clients.senders[a].send(Message::text(format!("r{k} {pad}")));
            }
            Target::Oxim | Target::Floor => {
                let mut b = fastrand::usize(..n - 1);
                if b >= a {
                    b += 1;
                }
                probe.dest[k].store(b as u32, Ordering::Relaxed);
                let frame = format!(
                    r#"{{"v":1,"t":"req","id":{},"op":"msg.send","body":{{"msg":{{"msg_id":"ramp-{k}","receiver":"ramp{b}","elem":{{"type":"text","text":"ramp message {k}, offered open-loop"}}}}}}}}"#,
                    k + ID_BASE
                );
                let _ = clients.senders[a].send(Message::text(frame));
            }
        }
    };

    let warm_start = Instant::now();
    for w in 0..warm {
        let due = warm_start + Duration::from_secs_f64(w as f64 / plan.from);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        fire(capacity + w);
    }
    let warm_deadline = Instant::now() + Duration::from_secs(30);
    while probe.delivered.load(Ordering::Relaxed) < warm && Instant::now() < warm_deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let hz = ticks_per_sec();
    let mut steps = Vec::new();
    let mut ranges = Vec::new();
    let mut next = 0usize;
    for &rate in &rates {
        let total = (rate * plan.step_secs) as usize;
        let first = next;
        let (cpu0, own0, m0) = (proc_ticks(server.pid()), proc_ticks(std::process::id()), machine_ticks());
        let delivered0 = probe.delivered.load(Ordering::Relaxed);
        let t0 = since(probe.base);
        let step_start = Instant::now();
        // Open loop: each message is sent when it is due, and its send time is the time it was
        // due, not when this loop got to it. The loop sleeps on this thread (taken out of the
        // runtime's workers) to each next due time: the runtime's timer wakes at whole
        // milliseconds, 1–2 ms late, which every message's latency would include (the echo
        // baseline's p99 was 2.5 ms at 1,000 msgs/s with it).
        tokio::task::block_in_place(|| {
            for fired in 0..total {
                let due = Duration::from_secs_f64(fired as f64 / rate);
                let wait = due.saturating_sub(step_start.elapsed());
                if wait > PRECISION {
                    std::thread::sleep(wait);
                }
                let k = first + fired;
                probe.sched[k].store(t0 + due.as_nanos() as u64, Ordering::Relaxed);
                fire(k);
            }
        });
        let wall = step_start.elapsed().as_secs_f64();
        let spent = (proc_ticks(server.pid()) - cpu0) as f64 / hz;
        let own = (proc_ticks(std::process::id()) - own0) as f64 / hz;
        let m1 = machine_ticks();
        let busy = if m1.1 > m0.1 { (m1.0 - m0.0) as f64 / (m1.1 - m0.1) as f64 } else { 0.0 };
        let delivered = probe.delivered.load(Ordering::Relaxed) - delivered0;
        next = first + total;
        ranges.push(first..next);
        steps.push(Step {
            offered: rate,
            sent: total as f64 / wall,
            delivered: delivered as f64 / wall,
            p50: 0,
            p99: 0,
            p999: 0,
            lost: 0,
            duplicated: 0,
            refused: 0,
            server_cpu: spent / wall,
            bench_cpu: own / wall,
            busy,
            load: load_average(),
        });
        // Certainly over 1 s (no pause: the next step follows at once): more than 1 % of the
        // step arrived later than 1 s, or was due more than 1 s ago and has not arrived.
        let late = probe.late(first..next, since(probe.base).saturating_sub(SOFT_P99));
        eprintln!(
            "ramp {name}: offered {rate} msgs/s: sent {:.0}/s, delivered {:.0}/s during the step, {} certainly later than 1 s, server CPU {:.0} %, bench CPU {:.0} %, machine busy {:.0} %, load {:.1}",
            total as f64 / wall,
            delivered as f64 / wall,
            late,
            spent / wall * 100.0,
            own / wall * 100.0,
            busy * 100.0,
            load_average()
        );
        if late * 100 > total {
            break;
        }
    }
    // Wait for what is still in flight (stops when nothing arrived for 15 s).
    let sent = next + warm;
    let mut last = (probe.delivered.load(Ordering::Relaxed), Instant::now());
    while probe.delivered.load(Ordering::Relaxed) < sent && last.1.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let d = probe.delivered.load(Ordering::Relaxed);
        if d != last.0 {
            last = (d, Instant::now());
        }
    }
    // Late duplicates would show up now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (step, range) in steps.iter_mut().zip(ranges) {
        let (mut lat, missing) = probe.latencies(range.clone());
        lat.sort_unstable();
        let rank = |p: f64| {
            if lat.is_empty() {
                u64::MAX
            } else {
                lat[((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1]
            }
        };
        step.p50 = rank(0.50);
        step.p99 = rank(0.99);
        step.p999 = rank(0.999);
        step.lost = missing;
        step.duplicated = probe.count_state(range.clone(), DUPLICATED);
        step.refused = probe.count_state(range, REFUSED);
    }
    drop(clients);
    drop(server);
    Ok(Ramp { name, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_step_up_by_the_factor() {
        let plan = Plan { from: 1000.0, max: 2000.0, ..Plan::new(true) };
        assert_eq!(plan.rates(), vec![1000.0, 1250.0, 1563.0, 1953.0]);
    }

    #[test]
    fn numbers_are_read_after_their_marker() {
        assert_eq!(number_after(r#"{"msg_id":"ramp-42","x":1}"#, r#""msg_id":"ramp-"#), Some(42));
        assert_eq!(number_after("r17 xxx", "r"), Some(17));
        assert_eq!(number_after("nothing", "r"), None);
    }

    #[test]
    fn the_knee_is_the_last_good_step_before_the_first_bad_one() {
        let step = |offered: f64, p99: u64| Step {
            offered,
            sent: offered,
            delivered: offered,
            p50: 0,
            p99,
            p999: p99,
            lost: 0,
            duplicated: 0,
            refused: 0,
            server_cpu: 0.0,
            bench_cpu: 0.0,
            busy: 0.0,
            load: 0.0,
        };
        let r = Ramp {
            name: "x".into(),
            steps: vec![step(1.0, 1_000_000), step(2.0, 50_000_000), step(3.0, 500_000_000), step(4.0, 90_000_000)],
        };
        assert_eq!(r.highest(KNEE_P99), Some(2.0));
        assert_eq!(r.highest(SOFT_P99), Some(4.0));
    }
}
