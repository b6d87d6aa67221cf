//! Checkpoints: folding the WAL into the database file (with an fsync) and starting the WAL over.
//!
//! The copying runs on a thread of its own, never in a commit: an automatic checkpoint inside
//! a commit stalled that commit, and every message waiting behind it, for the duration of an
//! fsync. The checkpointer runs a PASSIVE checkpoint every [`CHECKPOINT_INTERVAL`] (a second),
//! which never waits for the writer or readers.
//!
//! Copying alone never shortens the WAL: SQLite starts it over only when the writer begins a
//! transaction while every frame has been copied, and under continuous writes the writer always
//! commits new frames before the checkpointer catches up. So the WAL grew until a RESTART
//! checkpoint (which holds the writer back while it copies what is left, fsyncs the database
//! and waits for readers) made room, and the first commit after it cut a WAL of hundreds of MiB
//! back to `journal_size_limit`: stalls of 100–400 ms under load (docs/benchmarks.md, "The
//! throughput knee"). Now the writer restarts the WAL itself ([`WalRestart`], in `wal`): once the WAL
//! holds [`WAL_RESTART`](super::WAL_RESTART) it asks the checkpointer for a pass at once, and after that pass,
//! between two batches, checkpoints the little that was committed meanwhile; its next
//! transaction starts the WAL over. The file keeps its size (no truncation, no new blocks).
//!
//! SQLite fsyncs the database file only in a checkpoint that reaches the WAL's end; under load
//! the checkpointer's passes never do (the writer commits meanwhile), so everything they copied
//! waited in the OS for the writer's fold-in, whose fsync every sender waited through. Each
//! pass now fsyncs the database itself ([`pass`]), and the writer's fold-in finds only its own
//! few pages.
//!
//! A reader that stays on an old snapshot can keep both from reaching the WAL's end. Once the
//! WAL holds more than [`WAL_LIMIT`] the checkpointer runs a RESTART checkpoint instead, which
//! waits for such readers (and holds new writes back meanwhile); `journal_size_limit` then cuts
//! the file back.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::Duration;

use rusqlite::Connection;

use super::WAL_LIMIT;
use super::schema::open;
use super::wal::{Order, WalRestart};
use crate::store::{StoreError, StoreResult};

/// How often the checkpointer folds the WAL into the database file when nobody asks sooner.
/// A page written again and again between two passes is copied once per pass, so a longer
/// interval copies less: at 12,000 msgs/s the checkpointer's CPU per message went from 9 µs
/// (every 100 ms) to 4 µs (every second), before the catch-up passes of a WAL restart took back
/// part of that (docs/benchmarks.md, "Seventh round"). The WAL stays bounded either way: past
/// [`WAL_RESTART`](super::WAL_RESTART) the writer asks for passes at once.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// The thread that checkpoints the WAL (PASSIVE: it never blocks the writer or readers).
pub(super) struct Checkpointer {
    orders: Sender<Order>,
    /// Passes completed so far (the writer waits for one after asking).
    passes: Arc<AtomicU64>,
    /// The WAL frame the last pass copied up to (set before `passes` moves on).
    reached: Arc<AtomicU32>,
    page_size: u64,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = open(path)?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT as i64)?;
        let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let (orders, received) = std::sync::mpsc::channel::<Order>();
        let passes = Arc::new(AtomicU64::new(0));
        let counted = passes.clone();
        let reached = Arc::new(AtomicU32::new(0));
        let reported = reached.clone();
        let thread = std::thread::Builder::new()
            .name("oxim-store-checkpoint".into())
            .spawn(move || {
                let mut previous = 0;
                loop {
                    match received.recv_timeout(CHECKPOINT_INTERVAL) {
                        Ok(Order::Pass) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Order::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    previous = pass(&conn, page_size, previous);
                    reported.store(previous, Ordering::Relaxed);
                    counted.fetch_add(1, Ordering::Release);
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { orders, passes, reached, page_size: page_size as u64, thread })
    }

    /// The writer's side of restarting the WAL once it holds `restart_bytes`; `frames` is what
    /// the writer's WAL hook reports.
    pub(super) fn restarter(&self, frames: Arc<AtomicU32>, restart_bytes: u64) -> WalRestart {
        let restart_frames = (restart_bytes / self.page_size.max(512)).clamp(1, u32::MAX as u64) as u32;
        WalRestart::new(frames, restart_frames, self.orders.clone(), self.passes.clone(), self.reached.clone())
    }

    pub(super) fn stop(self) {
        let _ = self.orders.send(Order::Stop);
        let _ = self.thread.join();
    }
}

/// One checkpointer pass: PASSIVE, or RESTART when a reader kept the WAL from restarting and it
/// grew past [`WAL_LIMIT`]. Returns the WAL frame it copied up to (0 when that is not known);
/// `previous` is what the last pass returned.
///
/// A pass that copies frames but stops short of the WAL's end (the writer committed meanwhile,
/// as it does under load) is not fsynced by SQLite: the copied pages stay dirty in the OS until
/// a checkpoint reaches the end. That one is the writer's, just before it starts the WAL over,
/// while every sender waits: it fsynced a whole WAL's worth of copied pages there (3.9 ms on
/// average at 1,000 msgs/s, 7–19 ms at 5,000, about once a second; docs/benchmarks.md, "Ninth
/// round"). So the pass fsyncs the database itself, on this thread, and the writer's fsync
/// finds only what it copied.
fn pass(conn: &Connection, page_size: i64, previous: u32) -> u32 {
    // (busy, frames in the WAL, frames checkpointed)
    let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    });
    match passive {
        Ok((_, frames, done)) if done < frames && (frames * page_size) as u64 > WAL_LIMIT => {
            tracing::info!("the WAL holds {frames} frames: waiting for readers to fold it in");
            match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(2)) {
                Ok(done) => done.clamp(0, u32::MAX as i64) as u32,
                Err(e) => {
                    tracing::warn!("WAL checkpoint (RESTART) failed: {e}");
                    0
                }
            }
        }
        Ok((_, _, done)) => {
            let done = done.clamp(0, u32::MAX as i64) as u32;
            // Whether SQLite fsynced the database (the pass reached the WAL's end as it is now,
            // not as the pass found it, which is what the pragma reports) is not known here; a
            // second fsync with nothing left to write costs little.
            if done != previous
                && let Err(e) = oxim_sqlite::sync_database_file(conn)
            {
                tracing::warn!("fsync of the database after a checkpoint failed: {e}");
            }
            done
        }
        Err(e) => {
            tracing::warn!("WAL checkpoint failed: {e}");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;

    use super::*;

    use crate::domain::keys::c2c_target;
    use crate::store::sqlite::testing::text;
    use crate::store::sqlite::{Limits, Options, SqliteStore};
    use crate::store::{MessageStore, Store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_continuous_writes_the_writer_starts_the_wal_over() {
        let dir = tempfile::tempdir().unwrap();
        let restart = 256 * 1024;
        let limits = Limits { wal_restart: restart, ..Limits::default() };
        let store = SqliteStore::open_with(dir.path(), Options { limits, ..Options::default() }).unwrap();
        let wal = dir.path().join("oxim.db-wal");
        // The writer never runs dry: 32 sends always in flight, to 2,000 conversations (each
        // message dirties pages of its own), about 150 times `restart` of WAL frames in all.
        let mut in_flight = FuturesUnordered::new();
        let mut longest = 0;
        for i in 0..8_000 {
            let peer = format!("peer{}", i % 2_000);
            in_flight.push(store.append(c2c_target("alice", &peer), text(&format!("m{i}"), "alice", &peer)));
            if in_flight.len() == 32 {
                in_flight.next().await.unwrap().unwrap();
            }
            if i % 50 == 0 {
                longest = longest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            }
        }
        while let Some(sent) = in_flight.next().await {
            sent.unwrap();
        }
        // Without restarts the WAL only grows (to WAL_LIMIT, 64 MiB, before the checkpointer's
        // RESTART): here it stays within the bound plus the batches written while a restart
        // was being prepared.
        assert!(longest > 0);
        assert!(longest < 8 * restart, "the WAL grew to {longest} bytes; the writer restarts it at {restart}");
        store.close().await;
    }

    /// Pages of the file at `path` that the OS holds dirty (written, not yet on the disk), from
    /// Linux's cachestat(2) (Linux 6.5 and later).
    fn dirty_pages(path: &Path) -> u64 {
        #[repr(C)]
        struct Range {
            off: u64,
            len: u64,
        }
        #[repr(C)]
        #[derive(Default)]
        struct Stat {
            cache: u64,
            dirty: u64,
            writeback: u64,
            evicted: u64,
            recently_evicted: u64,
        }
        // Never closed (leaked with the test): closing a second descriptor of a file drops the
        // process's POSIX locks on it, SQLite's included.
        let file = std::fs::File::open(path).unwrap();
        let range = Range { off: 0, len: 0 };
        let mut stat = Stat::default();
        // SAFETY: cachestat reads `range` and writes `stat`, both live and of the kernel's layout.
        let rc = unsafe { libc::syscall(451, file.as_raw_fd(), &range as *const Range, &mut stat as *mut Stat, 0) };
        assert_eq!(rc, 0, "cachestat(2) failed (it needs Linux 6.5): {}", std::io::Error::last_os_error());
        std::mem::forget(file);
        stat.dirty
    }

    #[test]
    fn a_pass_that_stops_short_of_the_wal_end_leaves_nothing_it_copied_unsynced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        let writer = open(&path).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB NOT NULL)").unwrap();
        let insert = |n: usize| {
            for _ in 0..n {
                writer.execute("INSERT INTO t (x) VALUES (zeroblob(3000))", []).unwrap();
            }
        };
        insert(100);
        // A reader on this snapshot keeps any checkpoint from copying what is committed after.
        let reader = open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let seen: i64 = reader.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(seen, 100);
        insert(100);
        let checkpointer = open(&path).unwrap();
        let page_size: i64 = checkpointer.pragma_query_value(None, "page_size", |r| r.get(0)).unwrap();
        oxim_sqlite::sync_database_file(&checkpointer).unwrap();
        assert_eq!(dirty_pages(&path), 0, "the database file starts clean");

        let reached = pass(&checkpointer, page_size, 0);
        let wal_frames =
            (std::fs::metadata(dir.path().join("oxim.db-wal")).unwrap().len() - 32) / (page_size as u64 + 24);
        assert!(reached > 0, "the pass copied the frames the reader's snapshot allows");
        assert!((reached as u64) < wal_frames, "the pass stopped short of the WAL's end ({reached} of {wal_frames})");
        assert!(std::fs::metadata(&path).unwrap().len() > 100 * 3000, "the copied pages are in the file");
        // SQLite fsyncs the database only when a checkpoint reaches the WAL's end: without the
        // pass's own fsync the copied pages would wait for the writer's restart.
        assert_eq!(dirty_pages(&path), 0, "every page the pass copied is on the disk");
        reader.execute_batch("COMMIT").unwrap();
    }
}
