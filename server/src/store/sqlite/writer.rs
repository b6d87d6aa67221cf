//! The writer: one thread owns the write connection. Callers queue jobs; the writer takes every
//! job that is waiting (up to [`MAX_BATCH`]), runs them in one transaction (a savepoint each,
//! so one failing job does not fail its neighbours) and answers after the commit. Under load
//! this is group commit: one fsync for many messages.
//!
//! Seqs, stream times and the change version are allocated here, in memory, so they are
//! gapless and never go backwards; the database is what they are reloaded from.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::domain::clock::Clock;
use crate::domain::group_rules::MemberLimits;
use crate::domain::rate::SlidingWindow;
use crate::store::{Queued, StoreError, StoreResult};

/// Most jobs the writer puts into one transaction.
const MAX_BATCH: usize = 1024;

/// Called once the batch's transaction committed (`None`) or failed (`Some(reason)`).
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// A write: runs inside the batch transaction, returns how to answer its caller.
pub(super) type Job = Box<dyn FnOnce(&mut Transaction<'_>, &mut WriterState) -> Finish + Send>;

/// Per-stream state the writer keeps in memory.
#[derive(Clone, Copy, Default)]
pub(super) struct StreamHead {
    /// The stream's last seq.
    pub(super) max_seq: u64,
    /// The time of its last message (a new one is never earlier).
    pub(super) last_time_ms: i64,
}

/// What the writer keeps in memory between batches.
pub(super) struct WriterState {
    /// Head of each stream, filled on first use.
    heads: HashMap<String, StreamHead>,
    /// Last change version handed out.
    pub(super) version: u64,
    /// Member ids of groups (the fan-out list of group messages), filled on first use.
    pub(super) group_members: HashMap<String, Arc<Vec<String>>>,
    /// Member limits per group type.
    pub(super) member_limits: MemberLimits,
    /// Recent attribute writes per group (the server's rate limit).
    pub(super) attr_writes: SlidingWindow,
    /// The time.
    pub(super) clock: Arc<dyn Clock>,
}

impl WriterState {
    /// The state of a freshly opened database.
    pub(super) fn load(
        conn: &Connection,
        member_limits: MemberLimits,
        clock: Arc<dyn Clock>,
    ) -> rusqlite::Result<WriterState> {
        Ok(WriterState {
            heads: HashMap::new(),
            version: stored_version(conn)?,
            group_members: HashMap::new(),
            member_limits,
            attr_writes: SlidingWindow::default(),
            clock,
        })
    }

    /// Now, in Unix ms.
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The next change version (gaps are harmless; it only has to grow).
    pub(super) fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Drops the caches (after a rollback they may be ahead of the database).
    pub(super) fn forget_cached(&mut self) {
        self.heads.clear();
        self.group_members.clear();
    }

    /// The head of stream `key`.
    pub(super) fn head(&mut self, tx: &Connection, key: &str) -> rusqlite::Result<StreamHead> {
        if let Some(head) = self.heads.get(key) {
            return Ok(*head);
        }
        let row: Option<(i64, i64)> = tx
            .prepare_cached("SELECT max_seq, last_time_ms FROM conv WHERE conv_key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let head = row.map(|(s, t)| StreamHead { max_seq: s as u64, last_time_ms: t }).unwrap_or_default();
        self.heads.insert(key.to_owned(), head);
        Ok(head)
    }

    /// Moves stream `key` on to `head` (once every statement of the append succeeded).
    pub(super) fn advance(&mut self, key: &str, head: StreamHead) {
        self.heads.insert(key.to_owned(), head);
    }
}

/// The change version stored with the last commit.
fn stored_version(conn: &Connection) -> rusqlite::Result<u64> {
    let version: Option<i64> =
        conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| r.get(0)).optional()?;
    Ok(version.unwrap_or(0) as u64)
}

/// Starts the writer thread on `conn`.
pub(super) fn start(
    conn: Connection,
    state: WriterState,
) -> StoreResult<(mpsc::UnboundedSender<Job>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let thread = std::thread::Builder::new()
        .name("oxim-store-writer".into())
        .spawn(move || writer_loop(conn, state, rx))
        .map_err(|e| StoreError::Corrupt(format!("cannot start writer thread: {e}")))?;
    Ok((tx, thread))
}

impl SqliteStore {
    /// Queues `f` for the writer (now, in call order); the result arrives after the commit.
    pub(super) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut WriterState) -> StoreResult<T> + Send + 'static,
    ) -> Queued<T> {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |batch, state| {
            // A savepoint per job: a failing job rolls back alone.
            let result = match batch.savepoint() {
                Ok(sp) => {
                    let r = f(&sp, state);
                    match r {
                        Ok(v) => sp.commit().map(|_| v).map_err(StoreError::from),
                        Err(e) => {
                            // Dropping the savepoint rolls it back; what memory learned during
                            // the job may be rolled back with it, so reload on next use.
                            state.forget_cached();
                            Err(e)
                        }
                    }
                }
                Err(e) => Err(e.into()),
            };
            Box::new(move |commit_error: Option<String>| {
                let outcome = match commit_error {
                    None => result,
                    Some(reason) => Err(StoreError::Corrupt(format!("commit failed: {reason}"))),
                };
                let _ = tx.send(outcome);
            })
        });
        let queued = {
            let jobs = self.jobs.lock().expect("jobs lock");
            jobs.as_ref().ok_or(StoreError::Closed).and_then(|j| j.send(job).map_err(|_| StoreError::Closed))
        };
        Box::pin(async move {
            queued?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }
}

fn writer_loop(mut conn: Connection, mut state: WriterState, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let snapshot_version = state.version;
        let mut finishers = Vec::with_capacity(batch.len());
        let outcome = (|| -> rusqlite::Result<()> {
            let mut tx = conn.transaction()?;
            for job in batch.drain(..) {
                finishers.push(job(&mut tx, &mut state));
            }
            if state.version != snapshot_version {
                tx.prepare_cached(
                    "INSERT INTO meta (key, value) VALUES ('version', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute([state.version as i64])?;
            }
            tx.commit()
        })();
        let failure = match outcome {
            Ok(()) => None,
            Err(e) => {
                tracing::error!("store commit failed: {e}");
                // Nothing of the batch was written: forget what memory believes and reload.
                state.forget_cached();
                state.version = stored_version(&conn).unwrap_or(snapshot_version);
                Some(e.to_string())
            }
        };
        for finish in finishers {
            finish(failure.clone());
        }
    }
    // Channel closed: every job was answered. Fold the WAL into the main file before exiting.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!("WAL checkpoint at close failed: {e}");
    }
}
