//! The floor under every fsynced acknowledgement: how long an fsync of one commit takes on the
//! disk the benchmarks write to, with no server involved. A WAL-like log (pages written in
//! order, cycling through 32 MiB, as the server's WAL does since it restarts in place) is
//! written and fsynced 1,000 times a second — alone, and beside a checkpoint-like writer that
//! copies the same number of pages to random places of a second file and fsyncs it every
//! 100 ms (what the server's checkpointer did with the WAL's pages until stop 27; it now passes
//! every second and at each WAL restart, so this is the stricter case).
//!
//! One page per commit is what an append-only log would write per message; ten is what the
//! server's SQLite store writes for a message that opens a conversation (the ramp's random
//! pairs: 9.7 WAL frames on average, 4.8 for a conversation that exists; docs/benchmarks.md).
//! Report only: there is no target for the disk, but the ramp's "p99 ≤ 1 ms at 1,000 msgs/s"
//! cannot be met by any store whose fsync alone misses it.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Ctx;
use crate::report::{Met, Row, ns};

const METRIC: &str = "fsync of one commit on this disk (no server)";
const PAGE: usize = 4096;
/// The log cycles through this much, as a restarted WAL does.
const LOG_BYTES: u64 = 32 << 20;
/// The checkpoint-like writer's file.
const DB_BYTES: u64 = 256 << 20;
/// Commits a second.
const RATE: f64 = 1_000.0;
/// How often the checkpoint-like writer copies and fsyncs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// One case's fsync latencies, sorted (ns).
struct Case {
    pages: usize,
    beside_checkpoint: bool,
    lat: Vec<u64>,
}

impl Case {
    fn pct(&self, p: f64) -> u64 {
        if self.lat.is_empty() {
            return 0;
        }
        self.lat[((p * self.lat.len() as f64).ceil() as usize).clamp(1, self.lat.len()) - 1]
    }

    fn over_1ms(&self) -> f64 {
        self.lat.iter().filter(|&&l| l > 1_000_000).count() as f64 * 100.0 / self.lat.len().max(1) as f64
    }

    fn label(&self) -> String {
        format!(
            "{} page{}{}",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            if self.beside_checkpoint { " beside its checkpoint" } else { " alone" }
        )
    }
}

/// Measures the four cases; returns the row and a table for the results file.
pub async fn run(ctx: &Ctx) -> (Row, String) {
    let secs = if ctx.quick { 0.5 } else { 5.0 };
    let dir = ctx.tmp.clone();
    let cases = tokio::task::spawn_blocking(move || {
        let mut cases = Vec::new();
        for (pages, beside) in [(1, false), (1, true), (10, false), (10, true)] {
            cases.push(measure(&dir, pages, beside, secs)?);
        }
        Ok::<_, std::io::Error>(cases)
    })
    .await;
    let cases = match cases.map_err(|e| e.to_string()).and_then(|c| c.map_err(|e| e.to_string())) {
        Ok(c) => c,
        Err(e) => return (Row::failed(METRIC, "report only", &e), String::new()),
    };
    let value = cases
        .iter()
        .map(|c| {
            format!("{}: p50 {}, p99 {} ({:.1} % over 1 ms)", c.label(), ns(c.pct(0.5)), ns(c.pct(0.99)), c.over_1ms())
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut table = format!(
        "\n### fsync of one commit, {} commits/s for {secs} s per case (no server)\n\n| pages per commit | p50 | p90 | p99 | p99.9 | over 1 ms |\n|---|---|---|---|---|---|\n",
        RATE as u64
    );
    for c in &cases {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {:.1} % |",
            c.label(),
            ns(c.pct(0.5)),
            ns(c.pct(0.9)),
            ns(c.pct(0.99)),
            ns(c.pct(0.999)),
            c.over_1ms()
        );
    }
    eprintln!("{table}");
    let met = if cases.iter().all(|c| c.lat.len() > 10) { Met::Report } else { Met::Failed };
    (Row::new(METRIC, format!("{value} ({} commits/s)", RATE as u64), "report only", met), table)
}

/// Writes `pages` pages per commit to a cycling log and fsyncs it, `RATE` times a second for
/// `secs`, optionally beside the checkpoint-like writer.
fn measure(dir: &Path, pages: usize, beside_checkpoint: bool, secs: f64) -> std::io::Result<Case> {
    let open = |name: &str, len: u64| -> std::io::Result<File> {
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(dir.join(name))?;
        f.set_len(len)?;
        f.sync_all()?;
        Ok(f)
    };
    let log = open("disk-log", LOG_BYTES)?;
    let stop = Arc::new(AtomicBool::new(false));
    let checkpoint = if beside_checkpoint {
        let db = open("disk-db", DB_BYTES)?;
        let (stop, per_pass) = (stop.clone(), (pages as f64 * RATE * CHECKPOINT_EVERY.as_secs_f64()) as usize);
        Some(std::thread::spawn(move || -> std::io::Result<()> {
            let page = vec![0x5au8; PAGE];
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..per_pass {
                    db.write_at(&page, fastrand::u64(..DB_BYTES / PAGE as u64) * PAGE as u64)?;
                }
                db.sync_all()?;
                std::thread::sleep(CHECKPOINT_EVERY);
            }
            Ok(())
        }))
    } else {
        None
    };
    let commit: Vec<u8> = (0..pages * PAGE).map(|i| i as u8).collect();
    let n = (secs * RATE) as usize;
    let mut lat = Vec::with_capacity(n);
    let mut at = 0u64;
    let start = Instant::now();
    let mut result = Ok(());
    for i in 0..n {
        let due = Duration::from_secs_f64(i as f64 / RATE);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        if at + commit.len() as u64 > LOG_BYTES {
            at = 0;
        }
        if let Err(e) = log.write_at(&commit, at) {
            result = Err(e);
            break;
        }
        at += commit.len() as u64;
        let t = Instant::now();
        if let Err(e) = log.sync_all() {
            result = Err(e);
            break;
        }
        lat.push(t.elapsed().as_nanos() as u64);
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(c) = checkpoint {
        c.join().map_err(|_| std::io::Error::other("the checkpoint thread panicked"))??;
    }
    let _ = std::fs::remove_file(dir.join("disk-log"));
    let _ = std::fs::remove_file(dir.join("disk-db"));
    result?;
    lat.sort_unstable();
    Ok(Case { pages, beside_checkpoint, lat })
}
