//! `oxim-bench`: Oxim's benchmarks. Each drives the real SDK core (`oxim_core::Manager`) and/or
//! the real server (the `oxim-server` binary of the same build, as a child process, so its
//! memory and CPU are its own) over loopback, and puts its figure next to a baseline measured
//! in the same run on the same machine. It prints one table and writes it, with the machine's
//! description, to `target/bench/results.md`.
//!
//! ```text
//! oxim-bench [--quick] [--only NAME,...] [--out FILE] [--ffi FILE]... [--lib FILE]
//! oxim-bench echo-server        (the baseline server, started by the benchmarks themselves)
//! oxim-bench floor-server LOG    (the ramp's floor baseline: routes and fsyncs, nothing else)
//! ```
//!
//! `--quick` uses small sizes (a few seconds each): it keeps the benchmarks working and checks
//! their correctness (every message delivered, every page right), never their speed. Names:
//! latency, throughput, ramp, disk, fanout, memory, history, conversations, coldsync, ffi, size.
//!
//! Nothing here asserts a time: a missed target is a row that says "no". A failed correctness
//! check makes the program exit with status 1 after the table is written.

mod coldsync;
mod conversations;
mod disk;
mod echo;
mod fanout;
mod ffi;
mod floor;
mod history;
mod latency;
mod memory;
mod ramp;
mod report;
mod soak;
mod throughput;
mod util;

use std::path::PathBuf;
use std::time::Instant;

use report::{Met, Row};

/// Problem sizes.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Online SDK clients in the latency benchmark.
    pub latency_clients: usize,
    /// Offered messages per second.
    pub latency_rate: f64,
    /// Seconds of measured load per round.
    pub latency_secs: f64,
    /// Rounds (echo and SDK alternate; the median round counts).
    pub latency_rounds: usize,
    /// Connections (users) sending and receiving in the throughput benchmark.
    pub throughput_users: usize,
    /// Messages in the throughput benchmark.
    pub throughput_msgs: usize,
    /// Requests in flight per connection.
    pub throughput_window: usize,
    /// Most idle connections in the memory benchmark.
    pub memory_max: usize,
    /// Room members in the fan-out benchmark.
    pub fanout_members: usize,
    /// Messages sent to the room.
    pub fanout_msgs: usize,
    /// Messages in the local store of the history benchmark.
    pub history_messages: u64,
    /// History pages timed.
    pub history_pages: usize,
    /// Conversations of the cold-sync user.
    pub cold_convs: usize,
    /// Conversations in the conversation-list benchmark.
    pub list_convs: usize,
    /// Timed conversation-list calls.
    pub list_calls: usize,
}

impl Sizes {
    /// The sizes the targets are defined for.
    fn full() -> Sizes {
        Sizes {
            latency_clients: 1_000,
            latency_rate: 1_000.0,
            latency_secs: 10.0,
            latency_rounds: 3,
            throughput_users: 200,
            throughput_msgs: 200_000,
            throughput_window: 64,
            // The 50,000 of the target when the descriptor limit allows; see memory.rs.
            memory_max: 50_000,
            fanout_members: 10_000,
            fanout_msgs: 5,
            history_messages: 1_000_000,
            history_pages: 2_000,
            cold_convs: 1_000,
            list_convs: 10_000,
            list_calls: 500,
        }
    }

    /// Small sizes: seconds per benchmark.
    fn quick() -> Sizes {
        Sizes {
            latency_clients: 50,
            latency_rate: 200.0,
            latency_secs: 2.0,
            latency_rounds: 1,
            throughput_users: 20,
            throughput_msgs: 5_000,
            throughput_window: 32,
            memory_max: 1_000,
            fanout_members: 300,
            fanout_msgs: 2,
            history_messages: 20_000,
            history_pages: 200,
            cold_convs: 50,
            list_convs: 300,
            list_calls: 50,
        }
    }
}

/// What every benchmark gets.
pub struct Ctx {
    /// A `--quick` run.
    pub quick: bool,
    /// Problem sizes.
    pub sizes: Sizes,
    /// The `oxim-server` binary.
    pub server_bin: PathBuf,
    /// Where benchmarks put their temporary directories.
    pub tmp: PathBuf,
    /// The open-files limit in force.
    pub fd_limit: u64,
}

struct Args {
    quick: bool,
    only: Option<Vec<String>>,
    out: PathBuf,
    ffi: Vec<PathBuf>,
    lib: Option<PathBuf>,
}

const NAMES: [&str; 11] = [
    "latency",
    "throughput",
    "ramp",
    "disk",
    "fanout",
    "memory",
    "history",
    "conversations",
    "coldsync",
    "ffi",
    "size",
];

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { quick: false, only: None, out: PathBuf::from("target/bench/results.md"), ffi: Vec::new(), lib: None };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--quick" => args.quick = true,
            "--only" => {
                let names: Vec<String> = value()?.split(',').map(str::to_owned).collect();
                if let Some(bad) = names.iter().find(|n| !NAMES.contains(&n.as_str())) {
                    return Err(format!("unknown benchmark {bad:?}; known: {}", NAMES.join(", ")));
                }
                args.only = Some(names);
            }
            "--out" => args.out = PathBuf::from(value()?),
            "--ffi" => args.ffi.push(PathBuf::from(value()?)),
            "--lib" => args.lib = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!(
                    "oxim-bench [--quick] [--only NAME,...] [--out FILE] [--ffi FILE]... [--lib FILE]\nnames: {}",
                    NAMES.join(", ")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(args)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("echo-server") {
        echo::main();
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("floor-server") {
        floor::main(&std::env::args().skip(2).collect::<Vec<_>>());
        return;
    }
    // The soak run (scripts/soak.sh): abusive clients beside well-behaved ones, for minutes.
    if std::env::args().nth(1).as_deref() == Some("soak") {
        soak::main(&std::env::args().skip(2).collect::<Vec<_>>());
        return;
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("oxim-bench: {e}");
            std::process::exit(2);
        }
    };
    let fd_limit = util::raise_fd_limit();
    let server_bin = match util::server_bin() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("oxim-bench: {e}");
            std::process::exit(2);
        }
    };
    let tmp = tempfile::Builder::new().prefix("oxim-bench").tempdir().expect("a temporary directory");
    let ctx = Ctx {
        quick: args.quick,
        sizes: if args.quick { Sizes::quick() } else { Sizes::full() },
        server_bin,
        tmp: tmp.path().to_owned(),
        fd_limit,
    };
    // The benchmark's own runtime: as many workers as the machine has cores (2 here), apart
    // from the SDK's runtime and from the server process.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    let cpu_before = cpu_ticks();
    let (rows, details) = rt.block_on(run(&ctx, &args));
    let took = started.elapsed();
    drop(rt);
    let others = others_share(cpu_before, cpu_ticks());

    let table = report::table(&rows);
    println!("{table}");
    let doc = format!(
        "# Oxim benchmark results\n\n{}\n\n{table}\n{}\n{details}",
        machine(args.quick, took.as_secs(), others),
        NOTES
    );
    if let Some(dir) = args.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&args.out, doc) {
        Ok(()) => eprintln!("written to {}", args.out.display()),
        Err(e) => eprintln!("cannot write {}: {e}", args.out.display()),
    }
    if rows.iter().any(|r| r.met == Met::Failed) {
        eprintln!("oxim-bench: a benchmark failed (see the table)");
        std::process::exit(1);
    }
}

/// Runs the wanted benchmarks: their rows, and details for the results file (the ramp's steps).
async fn run(ctx: &Ctx, args: &Args) -> (Vec<Row>, String) {
    let wanted = |name: &str| args.only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let mut rows = Vec::new();
    let mut details = String::new();
    if wanted("latency") {
        rows.push(latency::run(ctx).await);
    }
    if wanted("throughput") {
        rows.push(throughput::run(ctx).await);
    }
    if wanted("ramp") {
        let (row, tables) = ramp::run(ctx).await;
        rows.push(row);
        details.push_str(&tables);
    }
    if wanted("disk") {
        let (row, table) = disk::run(ctx).await;
        rows.push(row);
        details.push_str(&table);
    }
    if wanted("memory") {
        rows.push(memory::run(ctx).await);
    }
    if wanted("fanout") {
        rows.push(fanout::run(ctx).await);
    }
    if wanted("history") {
        rows.push(history::run(ctx).await);
    }
    if wanted("conversations") {
        rows.push(conversations::run(ctx).await);
    }
    if wanted("coldsync") {
        rows.push(coldsync::run(ctx).await);
    }
    if wanted("ffi") {
        if args.ffi.is_empty() {
            rows.push(Row::new("FFI cost", "not measured (no --ffi files)".into(), "report only", Met::Skipped));
        }
        rows.extend(args.ffi.iter().map(|f| ffi::cost_row(f)));
    }
    if wanted("size") {
        rows.push(ffi::size_row(args.lib.as_deref(), ctx.quick));
    }
    (rows, details)
}

const NOTES: &str = "Notes: every figure is measured over loopback on this machine, with the clients \
on the same cores as the server; ratios are against baselines measured in this run. \
`docs/benchmarks.md` explains each benchmark and its limits.";

/// CPU time so far, in clock ticks: (the machine's busy, the machine's total, this process's
/// and its waited-for children's).
fn cpu_ticks() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let (idle, iowait) = (*v.get(3)?, *v.get(4)?);
    let total: u64 = v.iter().take(8).sum();
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces): utime is the 12th.
    let after = &own[own.rfind(')')? + 2..];
    let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    let mine = f.get(10)? + f.get(11)? + f.get(12)? + f.get(13)?;
    Some((total - idle - iowait, total, mine))
}

/// The share of the machine's CPU that other processes used between two readings.
fn others_share(before: Option<(u64, u64, u64)>, after: Option<(u64, u64, u64)>) -> Option<f64> {
    let ((b0, t0, m0), (b1, t1, m1)) = (before?, after?);
    let total = t1.checked_sub(t0)?;
    (total > 0).then(|| (b1 - b0).saturating_sub(m1 - m0) as f64 / total as f64)
}

/// The machine and the run, for the results file.
fn machine(quick: bool, secs: u64, others: Option<f64>) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1048576.0))
        .unwrap_or_else(|| "?".into());
    let profile = if cfg!(debug_assertions) { "debug build" } else { "release build" };
    let others = others.map_or(String::new(), |o| {
        format!(" Other processes used {:.0} % of the machine's CPU during the run.", o * 100.0)
    });
    format!(
        "{} run of {} ({profile}), {secs} s. Machine: {cores} cores, {model}, {mem} memory.{others}",
        if quick { "Quick (`--quick`, small sizes)" } else { "Full" },
        today()
    )
}

/// Today's date (UTC), YYYY-MM-DD.
fn today() -> String {
    let days =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0)
            as i64;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
