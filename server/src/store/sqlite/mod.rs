//! The embedded SQLite store, one file per concern:
//!
//! - [`schema`]: the migrations and how connections are opened;
//! - [`writer`]: one writer thread with group commit (a batch of waiting jobs per transaction,
//!   a savepoint per job); seqs, stream times and change versions allocated in its memory;
//! - [`readers`]: a pool of read-only connections (WAL lets them run beside the writer);
//! - [`checkpoint`]: WAL checkpoints on a thread of their own, so no commit waits for one;
//! - [`wal`]: the writer's side of starting the WAL over;
//! - [`streams`]: users and message streams ([`UserStore`](crate::store::UserStore),
//!   [`MessageStore`](crate::store::MessageStore));
//! - [`views`]: what of a stream a user sees (cleared, joined, left; never-joined groups);
//! - [`conversations`]: the conversation list ([`ConversationStore`](crate::store::ConversationStore));
//! - [`groups`]: group rows, and group writes applied as the domain decided them
//!   ([`GroupStore`](crate::store::GroupStore));
//! - [`signaling`]: invitations ([`SignalingStore`](crate::store::SignalingStore));
//! - [`profiles`]: users' profiles ([`ProfileStore`](crate::store::ProfileStore));
//! - [`friendship`]: the relationship chain ([`FriendshipStore`](crate::store::FriendshipStore));
//! - [`push`]: devices registered for offline push ([`PushStore`](crate::store::PushStore)).

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::config::Durability;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::group_rules::MemberLimits;
use crate::store::{Store, StoreError, StoreResult};

mod checkpoint;
mod conversations;
mod friendship;
mod groups;
mod profiles;
mod push;
mod readers;
mod schema;
mod signaling;
mod streams;
#[cfg(test)]
mod testing;
mod views;
mod wal;
mod writer;

use checkpoint::Checkpointer;
use readers::ReaderPool;
pub use writer::Limits;
use writer::WriterState;

/// The most the WAL may hold before the checkpointer waits for readers to fold it in, and the
/// size it is cut back to after a checkpoint (`journal_size_limit`). Above what the writer's
/// restarts let it reach (three times [`WAL_RESTART`] while the checkpointer catches up), so it
/// is met only when a reader stays on an old snapshot.
pub const WAL_LIMIT: u64 = 128 * 1024 * 1024;

/// How much the WAL holds when the writer starts it over (see [`checkpoint`]): every restart
/// costs the writer a short pause (the little committed since the checkpointer's last pass is
/// copied and the database fsynced), so not too often; a short WAL keeps readers' page lookups
/// and the file small.
pub const WAL_RESTART: u64 = 32 * 1024 * 1024;

/// The writer connection's page cache, KiB (a bound: SQLite fills it only as pages are used).
/// Enough for the interior pages of every table; not much more, because every commit that split
/// a page walks the whole cache (SQLite moves pages through a temporary number past the end of
/// the file while it splits, and truncating that number away scans every cached page): with 64
/// MiB that walk was a tenth of the writer's time under load (docs/benchmarks.md).
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// How a store is opened.
#[derive(Clone)]
pub struct Options {
    /// Largest member count per group type.
    pub member_limits: MemberLimits,
    /// The time (message times, deadlines, rate windows).
    pub clock: Arc<dyn Clock>,
    /// When writes are answered: after their fsync ([`Durability::Full`]) or before.
    pub durability: Durability,
    /// The writer's queue and cache bounds.
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            member_limits: MemberLimits::default(),
            clock: Arc::new(SystemClock),
            durability: Durability::Full,
            limits: Limits::default(),
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    jobs: writer::SharedIntake,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<Checkpointer>>,
    readers: Arc<ReaderPool>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `dir/oxim.db`, with V2TIM's default member
    /// limits and the system clock.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(dir, Options::default())
    }

    /// Opens `dir/oxim.db` with `options`. A database written by a newer release (its schema is
    /// newer than this server's) is refused.
    pub fn open_with(dir: &Path, options: Options) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("oxim.db");
        let mut conn = schema::open_writer(&path, options.durability)?;
        oxim_sqlite::migrate(&mut conn, schema::MIGRATIONS)?;
        // The checkpointer thread checkpoints; commits never do. The writer's WAL hook (set
        // after this pragma, which replaces any hook) records how long the WAL is.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let wal_frames = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let hooked = wal_frames.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, frames: std::os::raw::c_int| {
            hooked.store(frames.max(0) as u32, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }))?;
        // FULL: every commit fsyncs the WAL before the writer answers anyone (group commit:
        // one fsync per batch). NORMAL: the WAL is fsynced only by checkpoints.
        let synchronous = match options.durability {
            Durability::Full => "FULL",
            Durability::Relaxed => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT as i64)?;
        // The writer's page cache: with SQLite's default (2 MiB) it read back from the OS (a
        // pread each) most pages a send touches once a few thousand conversations were active
        // (docs/benchmarks.md, "The throughput knee").
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        let checkpointer = Checkpointer::start(&path)?;
        let restart = checkpointer.restarter(wal_frames, options.limits.wal_restart);
        let state = WriterState::load(&conn, options.member_limits, options.clock, options.limits)?;
        let (jobs, writer) = writer::start(conn, state, restart)?;
        Ok(SqliteStore {
            jobs,
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(ReaderPool::new(path)),
        })
    }
}

impl SqliteStore {
    /// Whether the writer thread runs (it ends only when the store closes, or if it died).
    pub fn writer_alive(&self) -> bool {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.as_ref().is_some_and(|w| !w.is_finished())
    }

    /// Holds the writer (no write commits, every write queued after this waits) until the
    /// returned guard drops. For tests of what waits on the store.
    pub fn hold_writes(&self) -> HeldWrites {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // The result is not awaited: the job runs (and holds) all the same.
        drop(self.write(move |_, _| {
            let _ = wait.recv();
            Ok(())
        }));
        HeldWrites { _release: release }
    }
}

/// The store's writer held ([`SqliteStore::hold_writes`]) while this lives.
pub struct HeldWrites {
    _release: std::sync::mpsc::Sender<()>,
}

#[async_trait]
impl Store for SqliteStore {
    fn healthy(&self) -> bool {
        self.writer_alive()
    }

    async fn close(&self) {
        // The checkpointer first: the writer's last act is a full (TRUNCATE) checkpoint.
        let checkpointer = self.checkpointer.lock().expect("checkpointer lock").take();
        if let Some(c) = checkpointer {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        // Closing the channel ends the writer loop once the queue is drained (jobs still
        // waiting for room are moved in first).
        writer::lock(&self.jobs).close();
        let handle = self.writer.lock().expect("writer lock").take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[tokio::test]
    async fn a_database_written_by_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path()).unwrap().close().await;
        let newer = schema::MIGRATIONS.len() as i64 + 1;
        Connection::open(dir.path().join("oxim.db")).unwrap().pragma_update(None, "user_version", newer).unwrap();
        let err = SqliteStore::open(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::Schema(oxim_sqlite::MigrateError::TooNew { .. })), "{err}");
    }
}
