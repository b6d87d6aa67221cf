//! The writer: one thread owns the write connection. Callers queue jobs; the writer takes every
//! job that is waiting (up to [`MAX_BATCH`]), runs them in one transaction (a savepoint each,
//! so one failing job does not fail its neighbours) and answers after the commit. Under load
//! this is group commit: one fsync for many messages.
//!
//! Seqs, message times and the change version are allocated here, in memory, so they are
//! gapless and never go backwards; the database is what they are reloaded from. With
//! [`Durability::Full`](crate::config::Durability) the commit is fsynced before anyone is
//! answered, so a seq that was answered is never handed out again, even after a power cut.
//!
//! The queue of jobs is bounded ([`Limits::queue`]): a job that finds it full waits in line
//! ([`Intake`], in call order) and its caller's [`Queued`] is not admitted until the writer has
//! taken a batch and moved it in, so a burst slows the connections that send it instead of
//! growing memory without bound. Nobody's thread blocks: the wait is the future's. A job that panics fails alone (its caller gets
//! [`StoreError::Internal`], its savepoint is rolled back) and the writer goes on; should the
//! writer thread end anyway, [`SqliteStore::writer_alive`] turns false and `/healthz` says so.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Transaction};
use tokio::sync::oneshot;

use super::wal::WalRestart;
use super::{SqliteStore, WAL_RESTART};
use crate::domain::clock::Clock;
use crate::domain::group_rules::MemberLimits;
use crate::domain::rate::SlidingWindow;
use crate::store::{AfterCommit, Queued, StoreError, StoreResult};

/// Most jobs the writer puts into one transaction.
const MAX_BATCH: usize = 1024;

/// The writer's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Jobs waiting for the writer before callers wait for room.
    pub queue: usize,
    /// Stream heads kept in memory; past it the least recently used half is dropped (they are
    /// read again from the database when next used).
    pub heads: usize,
    /// Groups whose member lists are kept in memory; likewise.
    pub group_members: usize,
    /// Bytes of WAL after which the writer starts it over ([`WAL_RESTART`]).
    pub wal_restart: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { queue: 16 * MAX_BATCH, heads: 100_000, group_members: 10_000, wal_restart: WAL_RESTART }
    }
}

/// Called once the batch's transaction committed (`None`) or failed (`Some(reason)`).
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// A write: runs inside the batch transaction, returns how to answer its caller.
pub(super) type Job = Box<dyn FnOnce(&mut Transaction<'_>, &mut WriterState) -> Finish + Send>;

/// Per-stream state the writer keeps in memory.
#[derive(Clone, Copy, Default)]
pub(super) struct StreamHead {
    /// The stream's last seq.
    pub(super) max_seq: u64,
}

/// What the writer keeps in memory between batches.
pub(super) struct WriterState {
    /// Head of each stream, filled on first use, with the batch it was last used in.
    heads: HashMap<String, (StreamHead, u64)>,
    /// Batches run so far (the clock of the caches' least-recently-used eviction).
    batches: u64,
    /// The caches' bounds.
    limits: Limits,
    /// Last change version handed out.
    pub(super) version: u64,
    /// The latest message time handed out: a new message is never earlier, in any stream, even
    /// when the wall clock goes back. One time for all streams, so finding a stream's head
    /// needs no read of its last message (only of the stream index), and a message sent later
    /// is never dated before one sent earlier anywhere.
    pub(super) last_time_ms: i64,
    /// Member ids of groups (the fan-out list of group messages), filled on first use.
    pub(super) group_members: HashMap<String, Arc<Vec<String>>>,
    /// Member limits per group type.
    pub(super) member_limits: MemberLimits,
    /// Recent attribute writes per group (the server's rate limit).
    pub(super) attr_writes: SlidingWindow,
    /// The time.
    pub(super) clock: Arc<dyn Clock>,
    /// A failed job could not be rolled back: the batch must not commit.
    poisoned: bool,
}

impl WriterState {
    /// The state of a freshly opened database.
    pub(super) fn load(
        conn: &Connection,
        member_limits: MemberLimits,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> rusqlite::Result<WriterState> {
        Ok(WriterState {
            heads: HashMap::new(),
            batches: 0,
            limits,
            version: stored_version(conn)?,
            last_time_ms: stored_last_time(conn)?,
            group_members: HashMap::new(),
            member_limits,
            attr_writes: SlidingWindow::default(),
            clock,
            poisoned: false,
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
        if let Some((head, used)) = self.heads.get_mut(key) {
            *used = self.batches;
            return Ok(*head);
        }
        let head = stream_head(tx, key)?;
        self.heads.insert(key.to_owned(), (head, self.batches));
        Ok(head)
    }

    /// Moves stream `key` on to `head` (once every statement of the append succeeded).
    pub(super) fn advance(&mut self, key: &str, head: StreamHead) {
        self.heads.insert(key.to_owned(), (head, self.batches));
    }

    /// Between batches: keeps the caches within their bounds. Dropping an entry is always
    /// safe (what is committed is in the database); the least recently used half goes, so a
    /// busy stream keeps its head.
    fn evict(&mut self) {
        self.batches += 1;
        if self.heads.len() > self.limits.heads {
            let mut used: Vec<u64> = self.heads.values().map(|(_, u)| *u).collect();
            let (_, median, _) = used.select_nth_unstable(self.heads.len() / 2);
            let cut = *median;
            self.heads.retain(|_, (_, u)| *u > cut);
        }
        if self.group_members.len() > self.limits.group_members {
            // Member lists carry no use stamp: they are cheap to read again, all go.
            self.group_members.clear();
        }
    }

    /// Stream heads held in memory (tests of eviction).
    #[cfg(test)]
    pub(super) fn cached_heads(&self) -> usize {
        self.heads.len()
    }
}

/// The head of stream `key` as stored: its last message's seq (zero for a stream with no
/// message yet). Answered by the stream index alone, without reading the message.
pub(super) fn stream_head(c: &Connection, key: &str) -> rusqlite::Result<StreamHead> {
    let seq: Option<i64> = c
        .prepare_cached("SELECT seq FROM msg WHERE conv_key = ?1 ORDER BY seq DESC LIMIT 1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(StreamHead { max_seq: seq.unwrap_or(0) as u64 })
}

/// A value the writer stores in `meta` with the commit that changed it (0 before the first).
fn stored_meta(conn: &Connection, key: &str) -> rusqlite::Result<i64> {
    let value: Option<i64> = conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(value.unwrap_or(0))
}

/// The change version stored with the last commit.
fn stored_version(conn: &Connection) -> rusqlite::Result<u64> {
    Ok(stored_meta(conn, "version")? as u64)
}

/// The latest message time stored with the last commit.
fn stored_last_time(conn: &Connection) -> rusqlite::Result<i64> {
    stored_meta(conn, "last_time_ms")
}

/// Where callers queue jobs for the writer: the bounded channel, and the jobs that found it
/// full, in call order, each with the signal that lets its caller go on once it is in.
pub(super) struct Intake {
    /// The writer's channel; `None` once the store closed (or is closing and the line is empty).
    pub(super) tx: Option<SyncSender<Job>>,
    /// Jobs waiting for room, oldest first.
    waiting: VecDeque<(Job, oneshot::Sender<()>)>,
    /// The store is closing: no new jobs; the channel closes once the line has moved in.
    closing: bool,
}

impl Intake {
    /// Moves waiting jobs into the channel while it has room (the writer calls it after taking
    /// a batch); closes the channel once a closing store's line is empty.
    fn refill(&mut self) {
        while let Some((job, admit)) = self.waiting.pop_front() {
            let Some(tx) = &self.tx else { return };
            match tx.try_send(job) {
                Ok(()) => {
                    let _ = admit.send(());
                }
                Err(TrySendError::Full(job)) => {
                    self.waiting.push_front((job, admit));
                    return;
                }
                // The writer is gone: the waiting jobs' callers hear that the store closed.
                Err(TrySendError::Disconnected(_)) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
        if self.closing {
            self.tx = None;
        }
    }

    /// Closes the intake: new jobs are refused; the channel closes (ending the writer once it
    /// has run what was queued) as soon as no job waits for room.
    pub(super) fn close(&mut self) {
        self.closing = true;
        if self.waiting.is_empty() {
            self.tx = None;
        }
    }
}

/// The jobs' way in, shared by the callers and the writer.
pub(super) type SharedIntake = Arc<Mutex<Intake>>;

/// Locks the intake (a panic while it was held left nothing half-done: every change to it is
/// one push or pop).
pub(super) fn lock(intake: &SharedIntake) -> std::sync::MutexGuard<'_, Intake> {
    intake.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the writer thread on `conn`.
pub(super) fn start(
    conn: Connection,
    state: WriterState,
    restart: WalRestart,
) -> StoreResult<(SharedIntake, std::thread::JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::sync_channel(state.limits.queue.max(1));
    let intake = Arc::new(Mutex::new(Intake { tx: Some(tx), waiting: VecDeque::new(), closing: false }));
    let for_writer = intake.clone();
    let thread = std::thread::Builder::new()
        .name("oxim-store-writer".into())
        .spawn(move || writer_loop(conn, state, restart, rx, for_writer))
        .map_err(|e| StoreError::Corrupt(format!("cannot start writer thread: {e}")))?;
    Ok((intake, thread))
}

impl SqliteStore {
    /// Queues `f` for the writer (now, in call order); the result arrives after the commit.
    pub(super) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut WriterState) -> StoreResult<T> + Send + 'static,
    ) -> Queued<T> {
        self.write_then(f, None)
    }

    /// [`write`](Self::write), and once the batch committed (and `f` succeeded), runs
    /// `after_commit` with the result on the writer thread before the caller is answered: the
    /// hooks of all writes run one at a time in commit order.
    pub(super) fn write_then<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &mut WriterState) -> StoreResult<T> + Send + 'static,
        after_commit: Option<AfterCommit<T>>,
    ) -> Queued<T> {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |batch, state| {
            // A savepoint per job: a failing job rolls back alone, and so does a panicking one.
            let result = match savepoint(batch, "SAVEPOINT job") {
                Ok(()) => {
                    let r = catch_unwind(AssertUnwindSafe(|| f(batch, state)))
                        .unwrap_or_else(|panic| Err(StoreError::Internal(panic_message(&*panic))));
                    match r {
                        Ok(v) => savepoint(batch, "RELEASE job").map(|_| v).map_err(StoreError::from),
                        Err(e) => {
                            // What memory learned during the job may be rolled back with it, so
                            // reload on next use.
                            state.forget_cached();
                            if let Err(undo) =
                                savepoint(batch, "ROLLBACK TO job").and_then(|_| savepoint(batch, "RELEASE job"))
                            {
                                // The job's writes may still be in the batch: none of it commits.
                                tracing::error!("rolling back a failed write failed: {undo}");
                                state.poisoned = true;
                            }
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
                if let (Ok(v), Some(hook)) = (&outcome, after_commit)
                    && let Err(panic) = catch_unwind(AssertUnwindSafe(|| hook(v)))
                {
                    tracing::error!("after a commit: {}", panic_message(&*panic));
                }
                let _ = tx.send(outcome);
            })
        });
        // Jobs enter in the order of the calls: straight into the channel while it has room and
        // nobody waits for room, else at the end of the line (the caller's future waits).
        let admission = {
            let mut intake = lock(&self.jobs);
            match intake.tx.as_ref() {
                None => return Queued::failed(StoreError::Closed),
                Some(_) if intake.closing => return Queued::failed(StoreError::Closed),
                Some(tx) if intake.waiting.is_empty() => match tx.try_send(job) {
                    Ok(()) => None,
                    Err(TrySendError::Full(job)) => {
                        let (admit, admitted) = oneshot::channel();
                        intake.waiting.push_back((job, admit));
                        Some(admitted)
                    }
                    Err(TrySendError::Disconnected(_)) => return Queued::failed(StoreError::Closed),
                },
                Some(_) => {
                    let (admit, admitted) = oneshot::channel();
                    intake.waiting.push_back((job, admit));
                    Some(admitted)
                }
            }
        };
        Queued::new(admission, Box::pin(async move { rx.await.map_err(|_| StoreError::Closed)? }))
    }
}

/// Runs a savepoint statement of a job. Cached: rusqlite's `Savepoint` parses its SQL again on
/// every use, and every job opens and releases one.
fn savepoint(batch: &Connection, sql: &str) -> rusqlite::Result<()> {
    batch.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// What a panic said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("a store write panicked: {what}")
}

/// Ends the line of waiting jobs when the writer thread ends, however it ends: their callers
/// hear that the store closed instead of waiting for room forever.
struct EndLine(SharedIntake);

impl Drop for EndLine {
    fn drop(&mut self) {
        let mut intake = lock(&self.0);
        intake.waiting.clear();
        intake.tx = None;
    }
}

fn writer_loop(
    mut conn: Connection,
    mut state: WriterState,
    mut restart: WalRestart,
    rx: Receiver<Job>,
    intake: SharedIntake,
) {
    let _end = EndLine(intake.clone());
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Room was made: let waiting jobs in, in their order.
        lock(&intake).refill();
        let snapshot = (state.version, state.last_time_ms);
        let mut finishers = Vec::with_capacity(batch.len());
        let outcome = (|| -> rusqlite::Result<()> {
            // IMMEDIATE: the write lock first. A deferred transaction starts as a reader (the
            // jobs' first statements are reads) and upgrades at its first write; while the
            // checkpointer runs a RESTART checkpoint (it holds the write lock and waits for
            // readers) that upgrade fails at once with SQLITE_BUSY, without the busy timeout,
            // and every send of the batch was refused "database is locked" under load. Taking
            // the lock up front waits (busy timeout) instead.
            let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for job in batch.drain(..) {
                // `write` catches a panic in the caller's code; this catches one in ours (the
                // job is then lost: its caller hears that the store closed under it).
                match catch_unwind(AssertUnwindSafe(|| job(&mut tx, &mut state))) {
                    Ok(finish) => finishers.push(finish),
                    Err(panic) => {
                        tracing::error!("{}", panic_message(&*panic));
                        state.forget_cached();
                    }
                }
            }
            if std::mem::take(&mut state.poisoned) {
                // Dropping the transaction rolls the whole batch back.
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("a failed write could not be rolled back alone".into()),
                ));
            }
            if (state.version, state.last_time_ms) != snapshot {
                tx.prepare_cached(
                    "INSERT INTO meta (key, value) VALUES ('version', ?1), ('last_time_ms', ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute([state.version as i64, state.last_time_ms])?;
            }
            tx.commit()
        })();
        let failure = match outcome {
            Ok(()) => None,
            Err(e) => {
                tracing::error!("store commit failed: {e}");
                // Nothing of the batch was written: forget what memory believes and reload.
                state.forget_cached();
                state.version = stored_version(&conn).unwrap_or(snapshot.0);
                // The time may stay ahead of what is stored: it only has to never go back.
                Some(e.to_string())
            }
        };
        for finish in finishers {
            finish(failure.clone());
        }
        state.evict();
        restart.between_batches(&conn);
    }
    // Channel closed: every job was answered. Fold the WAL into the main file before exiting.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!("WAL checkpoint at close failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::keys::c2c_target;
    use crate::store::sqlite::Options;
    use crate::store::sqlite::testing::{send, text};
    use crate::store::{Appended, MessageStore, Store};

    /// Queues a message from alice to bob now (not when first awaited).
    fn append(store: &SqliteStore, id: &str) -> Queued<Appended> {
        store.append(c2c_target("alice", "bob"), text(id, "alice", "bob"))
    }

    fn open(dir: &std::path::Path, limits: Limits) -> SqliteStore {
        SqliteStore::open_with(dir, Options { limits, ..Options::default() }).unwrap()
    }

    /// A write that holds the writer until `release` is sent.
    fn hold(store: &SqliteStore) -> (std::sync::mpsc::Sender<()>, Queued<()>) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let held = store.write(move |_, _| {
            let _ = wait.recv();
            Ok(())
        });
        (release, held)
    }

    #[tokio::test]
    async fn a_write_that_panics_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Limits::default());
        let (release, held) = hold(&store);
        // Queued together, so they share one batch with the panicking job between them.
        let before = append(&store, "m1");
        let boom = store.write(|tx, _| -> StoreResult<()> {
            tx.execute("INSERT INTO meta (key, value) VALUES ('boom', 1)", [])?;
            panic!("a bug in a write");
        });
        let after = append(&store, "m2");
        release.send(()).unwrap();
        held.await.unwrap();
        let (before, boom, after) = tokio::join!(before, boom, after);
        let err = boom.unwrap_err();
        assert!(matches!(&err, StoreError::Internal(m) if m.contains("a bug in a write")), "{err}");
        assert_eq!(
            (before.unwrap().msg.seq, after.unwrap().msg.seq),
            (1, 2),
            "its neighbours in the batch are written"
        );
        let boom_row = store
            .write(
                |tx, _| Ok(tx.query_row("SELECT count(*) FROM meta WHERE key = 'boom'", [], |r| r.get::<_, i64>(0))?),
            )
            .await
            .unwrap();
        assert_eq!(boom_row, 0, "what the panicking write did was rolled back");
        assert!(store.healthy());
        assert_eq!(send(&store, "m3", "alice", "bob").await.msg.seq, 3);
        store.close().await;
    }

    #[tokio::test]
    async fn a_write_that_cannot_be_rolled_back_alone_fails_its_whole_batch_and_nothing_of_it_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Limits::default());
        let (release, held) = hold(&store);
        // Queued while the writer runs the held job: one batch with the bad job in the middle.
        let before = append(&store, "m1");
        let bad = store.write(|tx, _| -> StoreResult<()> {
            // A write that ends its own savepoint: its changes are then the batch's, and the
            // writer's ROLLBACK TO fails.
            tx.execute_batch("RELEASE job")?;
            tx.execute("INSERT INTO meta (key, value) VALUES ('poison', 1)", [])?;
            Err(StoreError::Internal("failed after ending its savepoint".into()))
        });
        let after = append(&store, "m2");
        release.send(()).unwrap();
        let (held, before, bad, after) = tokio::join!(held, before, bad, after);
        // Every write of the batch, the bad one too, hears that the batch was not committed.
        for write in [held.map(|_| 0), before.map(|a| a.msg.seq), bad.map(|_| 0), after.map(|a| a.msg.seq)] {
            assert!(
                matches!(&write, Err(StoreError::Corrupt(m)) if m.contains("could not be rolled back alone")),
                "{write:?}"
            );
        }
        let poison = store
            .write(|tx, _| {
                Ok(tx.query_row("SELECT count(*) FROM meta WHERE key = 'poison'", [], |r| r.get::<_, i64>(0))?)
            })
            .await
            .unwrap();
        assert_eq!(poison, 0, "nothing of the batch was committed");
        // The writer goes on, and hands out the seqs its neighbours were never answered with.
        assert!(store.healthy());
        assert_eq!(send(&store, "m3", "alice", "bob").await.msg.seq, 1);
        store.close().await;
    }

    #[tokio::test]
    async fn a_writer_that_died_makes_the_store_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Limits::default());
        assert!(store.healthy());
        // A failure outside any write's own code (here: in answering) ends the writer thread.
        let job: Job = Box::new(|_, _| Box::new(|_| panic!("the writer itself fails")));
        lock(&store.jobs).tx.as_ref().unwrap().send(job).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while store.healthy() {
            assert!(std::time::Instant::now() < deadline, "the store reports the dead writer");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let refused = store.write(|_, _| Ok(())).await;
        assert!(matches!(refused, Err(StoreError::Closed)), "{refused:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_makes_callers_wait_and_keeps_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(open(dir.path(), Limits { queue: 4, ..Limits::default() }));
        let (release, held) = hold(&store);
        // Wait until the writer runs the held job (the queue is then empty), then fill it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let queued: Vec<_> = (1..=4).map(|i| append(&store, &format!("q{i}"))).collect();
        assert!(queued.iter().all(Queued::admitted), "room for four");
        // The fifth and sixth callers find the queue full: the calls return at once (no thread
        // blocks), their writes wait in line, not admitted.
        let mut fifth = append(&store, "q5");
        let sixth = append(&store, "q6");
        assert!(!fifth.admitted() && !sixth.admitted(), "they wait for room");
        let waited =
            tokio::time::timeout(Duration::from_millis(200), std::future::poll_fn(|cx| fifth.poll_admitted(cx)));
        assert!(waited.await.is_err(), "not admitted while the writer is held");
        // A write queued now goes after them, even if room appeared meanwhile.
        release.send(()).unwrap();
        held.await.unwrap();
        let seventh = append(&store, "q7");
        let seqs: Vec<u64> =
            futures_util::future::join_all(queued).await.into_iter().map(|a| a.unwrap().msg.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        let (fifth, sixth, seventh) = tokio::join!(fifth, sixth, seventh);
        assert_eq!(
            (fifth.unwrap().msg.seq, sixth.unwrap().msg.seq, seventh.unwrap().msg.seq),
            (5, 6, 7),
            "in call order"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_writes_what_waited_for_room() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Limits { queue: 2, ..Limits::default() });
        let (release, held) = hold(&store);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let writes: Vec<_> = (1..=5).map(|i| append(&store, &format!("w{i}"))).collect();
        assert!(!writes[4].admitted());
        let closing = {
            let store = &store;
            async move { store.close().await }
        };
        let released = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            release.send(()).unwrap();
        };
        let (_, _, results) = tokio::join!(closing, released, futures_util::future::join_all(writes));
        held.await.unwrap();
        let seqs: Vec<u64> = results.into_iter().map(|a| a.unwrap().msg.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5], "every write that was called before the close is written");
        assert!(matches!(append(&store, "late").await, Err(StoreError::Closed)));
    }

    #[tokio::test]
    async fn stream_heads_beyond_the_bound_are_dropped_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), Limits { heads: 8, ..Limits::default() });
        for round in 1..=2u64 {
            for peer in 0..40 {
                let a = send(&store, &format!("r{round}p{peer}"), "alice", &format!("peer{peer}")).await;
                assert_eq!(a.msg.seq, round, "seqs go on from the database after an eviction");
            }
        }
        let cached = store.write(|_, state| Ok(state.cached_heads())).await.unwrap();
        assert!(cached <= 9, "{cached} heads in memory, bound 8");
        store.close().await;
    }
}
