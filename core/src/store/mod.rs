//! The SDK's local store: one SQLite file per user (`<data_dir>/<sdkAppID>/<userID>/oxim.db`),
//! WAL mode, schema migrations from version 1. All database work runs on the process's store
//! executor ([`executor`]: threads of its own, shared by every store of every
//! instance; each store's jobs in order), so neither the caller's thread nor the event thread
//! ever waits on disk.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

pub mod announce;
mod apply;
pub mod conversations;
mod cursor;
mod executor;
mod messages;
mod read;
pub mod send_queue;
mod signaling;

pub use apply::{Effect, Stored, store_received};
pub use cursor::*;
pub use messages::*;
pub use read::*;
pub use signaling::*;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: messages, per-conversation sync cursors, key-value settings.
    "CREATE TABLE message (
        msg_id      TEXT PRIMARY KEY,
        conv_id     TEXT NOT NULL,      -- 'c2c_<peer>' or 'group_<id>'
        seq         INTEGER NOT NULL,   -- 0 until the server assigned one
        sender      TEXT NOT NULL,
        time_ms     INTEGER NOT NULL,   -- server time once sent; local time before
        status      INTEGER NOT NULL,   -- V2TIMMessageStatus
        is_self     INTEGER NOT NULL,
        elem_type   INTEGER NOT NULL,
        wire        TEXT NOT NULL,      -- the WireMessage as JSON
        error_code  INTEGER NOT NULL DEFAULT 0,
        error_desc  TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX message_by_conv_seq ON message(conv_id, seq);
    CREATE INDEX message_sending ON message(status) WHERE status = 1;
    -- synced_seq: every message of the conversation with seq <= synced_seq is stored here (or
    -- lies in the history a new device did not download).
    CREATE TABLE conversation (
        conv_id    TEXT PRIMARY KEY,
        synced_seq INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE kv (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 2: local custom data, notices, history completeness, read positions.
    "ALTER TABLE message ADD COLUMN local_custom_data TEXT NOT NULL DEFAULT '';
    ALTER TABLE message ADD COLUMN local_custom_int INTEGER NOT NULL DEFAULT 0;
    -- 1 for revoke notices and user-stream events: applied, never listed or counted.
    ALTER TABLE message ADD COLUMN notice INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX message_by_conv_time ON message(conv_id, time_ms, seq) WHERE notice = 0;
    -- floor_seq: every server message of the conversation from floor_seq to synced_seq is here
    -- (or was deleted): history below it comes from the server.
    ALTER TABLE conversation ADD COLUMN floor_seq INTEGER NOT NULL DEFAULT 1;
    -- What the user has read, and (C2C) what the peer has read of the user's messages.
    CREATE TABLE conv_read (
        conv_id       TEXT PRIMARY KEY,
        read_seq      INTEGER NOT NULL DEFAULT 0,
        peer_read_seq INTEGER NOT NULL DEFAULT 0,
        peer_read_ms  INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;",
    // 3: invitations this device knows of (signaling), first action seen as JSON.
    "CREATE TABLE invitation (
        invite_id TEXT PRIMARY KEY,
        info      TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 4: the conversation list.
    conversations::MIGRATION,
    // 5: delivery state that must survive a restart: the send queue (call order per
    // conversation), announcements not yet told to the app, conversation changes not yet told.
    "CREATE TABLE send_queue (
        pos     INTEGER PRIMARY KEY AUTOINCREMENT,
        conv_id TEXT NOT NULL,
        msg_id  TEXT NOT NULL UNIQUE
    );
    CREATE INDEX send_queue_by_conv ON send_queue(conv_id, pos);
    INSERT INTO send_queue (conv_id, msg_id) SELECT conv_id, msg_id FROM message WHERE status = 1 ORDER BY rowid;
    CREATE TABLE announce (
        pos    INTEGER PRIMARY KEY AUTOINCREMENT,
        msg_id TEXT NOT NULL
    );
    -- 0: told; 1: changed since told; 2: entered the list and not told yet.
    ALTER TABLE conversation ADD COLUMN announce INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX conversation_announce ON conversation(conv_id) WHERE announce > 0;",
];

/// The database files with an open [`Store`] in this process, and how many each: a store
/// opens a file only once the previous store of that file (a session that just ended) has
/// finished its queued work and closed, so what that work records (what the app was told) is
/// seen by the next session.
static OPEN_FILES: Mutex<Option<std::collections::HashMap<PathBuf, usize>>> = Mutex::new(None);
static FILE_CLOSED: Condvar = Condvar::new();

/// How long opening a store waits for the previous store of its file to close.
const WAIT_FOR_PREVIOUS: Duration = Duration::from_secs(10);

fn claim_file(path: &Path) {
    let deadline = Instant::now() + WAIT_FOR_PREVIOUS;
    let mut open = lock(&OPEN_FILES);
    while open.as_ref().and_then(|m| m.get(path)).is_some_and(|n| *n > 0) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            tracing::warn!("{} is still open in this process; opening it again", path.display());
            break;
        }
        open = FILE_CLOSED.wait_timeout(open, left).unwrap_or_else(|e| e.into_inner()).0;
    }
    *open.get_or_insert_with(Default::default).entry(path.to_owned()).or_default() += 1;
}

fn release_file(path: &Path) {
    let mut open = lock(&OPEN_FILES);
    if let Some(m) = open.as_mut()
        && let Some(n) = m.get_mut(path)
    {
        *n -= 1;
        if *n == 0 {
            m.remove(path);
        }
    }
    FILE_CLOSED.notify_all();
}

/// One user's database. Its work runs on the process's store executor, in the order it was
/// asked for.
pub struct Store {
    /// The connection, used by one job at a time (the lock is never contended); `None` once
    /// closed.
    conn: Arc<Mutex<Option<Connection>>>,
    /// The store's lane on the executor.
    lane: Arc<executor::Lane>,
    /// Whether work is still taken. Jobs are queued under this lock, so the close comes after
    /// every job queued before it.
    open: Mutex<bool>,
    /// The file.
    path: PathBuf,
    /// Its fsyncs, which run beside its lane ([`Store::sync_to_disk`]).
    syncs: Arc<Syncs>,
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(oxim_proto::code::IO_OPERATION_FAILED, format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        claim_file(path);
        // WAL, synchronous=NORMAL, temporaries in memory (Android cannot always create temporary
        // files), 128 cached statements (a message's way through the store uses more than
        // rusqlite's default 16) and plans that never depend on bound values
        // (`hot_statements_are_not_prepared_again...`): oxim-sqlite, shared with the server.
        let settings = oxim_sqlite::Settings { statement_cache: 128, busy_timeout: None };
        let conn = oxim_sqlite::open(path, &settings).map_err(Error::from).and_then(|mut conn| {
            oxim_sqlite::migrate(&mut conn, MIGRATIONS).map_err(|e| Error::db(e.to_string()))?;
            Ok(conn)
        });
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                release_file(path);
                return Err(e);
            }
        };
        Ok(Store {
            conn: Arc::new(Mutex::new(Some(conn))),
            lane: Arc::default(),
            open: Mutex::new(true),
            path: path.to_owned(),
            syncs: Arc::default(),
        })
    }
}

impl Store {
    /// Queues `job` to run with the connection on the store thread (dropped unrun if the
    /// store was closed in between, which cannot happen while `open` is held).
    fn queue(&self, job: impl FnOnce(&mut Connection) + Send + 'static) -> Result<()> {
        let open = lock(&self.open);
        if !*open {
            return Err(Error::db("the store is closed"));
        }
        let conn = self.conn.clone();
        self.lane.submit(Box::new(move || {
            if let Some(conn) = lock(&conn).as_mut() {
                job(conn);
            }
        }));
        Ok(())
    }

    /// Runs `f` on the store thread and returns its result. The job is queued by this call,
    /// not when the answer is first awaited: jobs run in the order of the calls.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> impl Future<Output = Result<R>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        let queued = self.queue(move |conn| {
            let _ = tx.send(f(conn));
        });
        async move {
            queued?;
            rx.await.map_err(|_| Error::db("the store thread stopped"))?
        }
    }

    /// Queues `f` without waiting for it (follow-up bookkeeping whose failure changes nothing
    /// for the caller); nothing happens if the store is closed.
    pub fn spawn(&self, f: impl FnOnce(&mut Connection) -> Result<()> + Send + 'static) {
        let _ = self.queue(move |conn| {
            if let Err(e) = f(conn) {
                tracing::info!("a store job failed: {e}");
            }
        });
    }

    /// Like [`call`](Self::call), then runs `then` on the store thread after the caller has its
    /// answer (and before any later job): follow-up work (announcing a change) that the
    /// caller must not wait for but that later jobs must see done.
    pub fn call_then<R: Send + 'static, A: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<(R, A)> + Send + 'static,
        then: impl FnOnce(&mut Connection, A) + Send + 'static,
    ) -> impl Future<Output = Result<R>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        let queued = self.queue(move |conn| match f(conn) {
            Ok((answer, after)) => {
                let _ = tx.send(Ok(answer));
                then(conn, after);
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        });
        async move {
            queued?;
            rx.await.map_err(|_| Error::db("the store thread stopped"))?
        }
    }

    /// Finishes queued work and closes the database (checkpointing its WAL into the file).
    /// Waits for that, except inside a store job.
    pub fn close(&self) {
        if let Some(done) = self.close_in_background()
            && !executor::on_executor()
        {
            let _ = done.recv();
        }
    }

    /// Like [`close`](Self::close) without waiting: the close is queued behind the store's
    /// work and the caller goes on (a later [`Store::open`] of the file waits for it). Returns
    /// what signals the close done, or `None` if the store was already closed.
    pub fn close_in_background(&self) -> Option<mpsc::Receiver<()>> {
        let (done_tx, done) = mpsc::sync_channel::<()>(1);
        let mut open = lock(&self.open);
        if !*open {
            return None;
        }
        *open = false;
        let (conn, path) = (self.conn.clone(), self.path.clone());
        self.lane.submit(Box::new(move || {
            if let Some(conn) = lock(&conn).take() {
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                drop(conn);
                release_file(&path);
            }
            let _ = done_tx.send(());
        }));
        Some(done)
    }
}

use executor::lock;

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// The fsyncs of one store's WAL, asked for by [`Store::sync_to_disk`]. They run on a lane of
/// their own, so the store's next jobs (the send queue's read of what to send) do not wait for
/// the disk, and one fsync answers every ask made before it began.
#[derive(Default)]
struct Syncs {
    lane: Arc<executor::Lane>,
    /// How many syncs were asked for.
    asked: AtomicU64,
    /// Every ask up to this one is on the disk.
    done: AtomicU64,
    /// The WAL file (its inode) whose directory entry was last fsynced: a WAL created since
    /// needs its directory synced once, as SQLite does at its own first sync of a new WAL.
    /// (Unix only: elsewhere a directory cannot be opened to be synced.)
    #[cfg(unix)]
    dir_synced_for: Mutex<Option<u64>>,
    /// Tests hold the fsyncs here to see what goes on while the disk is slow.
    #[cfg(test)]
    held: (Mutex<bool>, Condvar),
    /// How many fsyncs of the WAL ran (tests).
    #[cfg(test)]
    fsyncs: AtomicU64,
}

impl Syncs {
    /// Makes sure ask `ask` is on the disk: fsyncs the WAL at `wal` unless a sync that began
    /// after the ask already did.
    fn sync(&self, ask: u64, wal: &Path) -> Result<()> {
        #[cfg(test)]
        {
            let held = lock(&self.held.0);
            let _released = self.held.1.wait_while(held, |h| *h).unwrap_or_else(|e| e.into_inner());
        }
        if self.done.load(Ordering::SeqCst) >= ask {
            return Ok(());
        }
        // Every ask counted so far came after its commit: this fsync covers them all.
        let upto = self.asked.load(Ordering::SeqCst);
        let io = |what: &str, e: std::io::Error| {
            Error::new(oxim_proto::code::IO_OPERATION_FAILED, format!("{what} {}: {e}", wal.display()))
        };
        // Opened for writing: Windows flushes only handles that may write.
        let file = match std::fs::OpenOptions::new().write(true).open(wal) {
            Ok(file) => file,
            // Closed since: the close checkpointed the WAL into the database file, fsynced it,
            // and removed the WAL.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("cannot open", e)),
        };
        file.sync_data().map_err(|e| io("cannot fsync", e))?;
        #[cfg(test)]
        self.fsyncs.fetch_add(1, Ordering::SeqCst);
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let inode = file.metadata().map_err(|e| io("cannot stat", e))?.ino();
            let mut dir_synced_for = lock(&self.dir_synced_for);
            if *dir_synced_for != Some(inode) {
                if let Some(dir) = wal.parent() {
                    std::fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| io("cannot fsync the directory of", e))?;
                }
                *dir_synced_for = Some(inode);
            }
        }
        self.done.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }
}

impl Store {
    /// Puts every commit made so far on the disk (an fsync of the WAL) without holding up the
    /// store's jobs: the store commits without an fsync (WAL, `synchronous=NORMAL`: a power
    /// loss may take back the latest commits, never corrupt the file), which is right for what
    /// the server has and the sync pulls again, not for what only this device has (a message
    /// the user sent). Ask after the commit; the answer comes once it is durable.
    pub fn sync_to_disk(&self) -> impl Future<Output = Result<()>> + Send + 'static {
        let syncs = self.syncs.clone();
        let ask = syncs.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let (tx, rx) = oneshot::channel();
        let lane = syncs.lane.clone();
        lane.submit(Box::new(move || {
            let _ = tx.send(syncs.sync(ask, Path::new(&wal)));
        }));
        async move { rx.await.map_err(|_| Error::db("the store thread stopped"))? }
    }

    /// Holds this store's fsyncs until called again with `false` (tests of a slow disk).
    #[cfg(test)]
    pub(crate) fn hold_syncs(&self, hold: bool) {
        *lock(&self.syncs.held.0) = hold;
        self.syncs.held.1.notify_all();
    }
}

// ---- key-value settings ---------------------------------------------------------------------

/// A value from the key-value table.
pub fn kv_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT value FROM kv WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}

/// Sets a value in the key-value table.
pub fn kv_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The server time of this device's first login for the user, recording `now_ms` if this is it.
pub fn device_born_ms(conn: &Connection, now_ms: i64) -> Result<i64> {
    if let Some(v) = kv_get(conn, "born_ms")?.and_then(|v| v.parse().ok()) {
        return Ok(v);
    }
    kv_set(conn, "born_ms", &now_ms.to_string())?;
    Ok(now_ms)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::conversation::ConvChange;
    use crate::model::message::{ConvId, Elem, Message, MessageStatus, WireMessage};
    use oxim_proto::message::UserEvent;

    fn wire(id: &str, seq: u64, from: &str, to: &str) -> WireMessage {
        let mut w = WireMessage::new(id, Elem::Text { text: id.into() });
        w.seq = seq;
        w.sender = from.into();
        w.receiver = to.into();
        w.time_ms = 1000 * seq as i64;
        w
    }

    /// Effects other than conversation-list changes (tested in `conversations`).
    fn not_list(e: &Effect) -> bool {
        !matches!(e, Effect::Conversation(..))
    }

    /// Stores `batch` in `conv` as alice received it; the effects other than list changes.
    async fn received(
        store: &Store,
        conv: ConvId,
        batch: impl Into<Vec<WireMessage>>,
        range: Option<(u64, u64)>,
        news_since_ms: i64,
    ) -> Vec<Effect> {
        let batch = batch.into();
        let stored = store.call(move |db| store_received(db, "alice", &conv, &batch, range, news_since_ms)).await;
        stored.unwrap().effects.into_iter().filter(not_list).collect()
    }

    fn ids(msgs: &[Message]) -> Vec<&str> {
        msgs.iter().map(|m| m.msg_id.as_str()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn syncs_asked_while_the_disk_is_busy_share_one_fsync_and_a_closed_store_needs_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        let store = Store::open(&path).unwrap();
        store.call(|db| kv_set(db, "k", "1")).await.unwrap();
        let wait = std::time::Duration::from_secs(10);
        tokio::time::timeout(wait, store.sync_to_disk()).await.unwrap().unwrap();
        assert_eq!(store.syncs.fsyncs.load(Ordering::SeqCst), 1);
        // Three asks while the disk is busy: the first fsync after them covers all three.
        store.call(|db| kv_set(db, "k", "2")).await.unwrap();
        store.hold_syncs(true);
        let asks: Vec<_> = (0..3).map(|_| store.sync_to_disk()).collect();
        store.hold_syncs(false);
        for ask in asks {
            tokio::time::timeout(wait, ask).await.unwrap().unwrap();
        }
        assert_eq!(store.syncs.fsyncs.load(Ordering::SeqCst), 2);
        // Closed: the WAL was checkpointed into the file (fsynced) and removed.
        store.close();
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        assert!(!Path::new(&wal).exists());
        tokio::time::timeout(wait, store.sync_to_disk()).await.unwrap().unwrap();
        assert_eq!(store.syncs.fsyncs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn received_messages_are_stored_once_and_settle_own_copies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("u/oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let mut mine = Message::draft("alice", Elem::Text { text: "mine".into() }, "mine".into(), 1);
        mine.user_id = "bob".into();
        let c = conv.clone();
        store.call(move |db| insert_outgoing(db, &c, &mine)).await.unwrap();
        let c = conv.clone();
        let batch =
            vec![wire("old", 1, "bob", "alice"), wire("b1", 2, "bob", "alice"), wire("mine", 3, "alice", "bob")];
        let effects = received(&store, c, batch, Some((0, 3)), 2000).await;
        // "old" is stored but is history (before news_since); our own copy is settled, not news.
        assert_eq!(effects.len(), 1);
        assert!(matches!(&effects[0], Effect::NewMessage(m) if m.msg_id == "b1"));
        assert_eq!(store.call(|db| count_messages(db, &ConvId::C2C("bob".into()))).await.unwrap(), 3);
        let c = conv.clone();
        let again = received(&store, c, [wire("b1", 2, "bob", "alice")], Some((0, 2)), 0).await;
        assert!(again.is_empty());
        let own = store.call(|db| find_message(db, "alice", "mine")).await.unwrap().unwrap();
        assert_eq!((own.status, own.seq, own.is_self), (MessageStatus::SendSucc, 3, true));
        let c = conv.clone();
        assert_eq!(store.call(move |db| synced_seq(db, &c)).await.unwrap(), Some(3), "cursor never moves back");
        assert!(store.call(|db| send_queue::queued_conversations(db)).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn notices_and_events_are_applied_once_and_never_listed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let mut revoke = wire("bob#3", 3, "bob", "alice");
        revoke.elem = Elem::Revoke { msg_id: "b1".into() };
        let batch = vec![wire("b1", 1, "bob", "alice"), wire("b2", 2, "bob", "alice"), revoke.clone()];
        let c = conv.clone();
        let effects = received(&store, c, batch, Some((0, 3)), 0).await;
        assert_eq!(effects.len(), 3);
        assert_eq!(effects[2], Effect::Revoked("b1".into()));
        let c = conv.clone();
        let again = received(&store, c, [revoke], Some((0, 3)), 0).await;
        assert!(again.is_empty(), "a notice applies once");
        let c = conv.clone();
        let page = store.call(move |db| history_page(db, "alice", &c, None, true, 10)).await.unwrap();
        assert_eq!(ids(&page), ["b2", "b1"], "newest first, the notice is not a message");
        assert_eq!(page[1].status, MessageStatus::LocalRevoked);

        // User-stream events: a receipt from bob, my read position, a deletion.
        let mut events = Vec::new();
        for (i, event) in [
            UserEvent::PeerRead { conv_id: conv.clone(), seq: 2, time_ms: 5000 },
            UserEvent::Read { conv_id: conv.clone(), seq: 1 },
            UserEvent::Deleted { conv_id: conv.clone(), msg_ids: vec!["b2".into()] },
        ]
        .into_iter()
        .enumerate()
        {
            let mut w = wire(&format!("sys:alice#{}", i + 1), i as u64 + 1, "alice", "alice");
            w.elem = Elem::Event { event };
            events.push(w);
        }
        let effects = received(&store, ConvId::System, events, Some((0, 3)), 0).await;
        assert_eq!(
            effects,
            [
                Effect::Receipt(crate::model::message::MessageReceipt { user_id: "bob".into(), timestamp: 5, seq: 2 }),
                Effect::ReadChanged(conv.clone()),
                Effect::MessagesRemoved(conv.clone()),
            ]
        );
        let c = conv.clone();
        let page = store.call(move |db| history_page(db, "alice", &c, None, true, 10)).await.unwrap();
        assert_eq!(ids(&page), ["b1"]);
        assert!(page[0].is_read, "read up to seq 1");
    }

    #[tokio::test]
    async fn history_pages_by_time_then_seq_in_both_directions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let batch: Vec<_> = (1..=7).map(|i| wire(&format!("m{i}"), i, "bob", "alice")).collect();
        let c = conv.clone();
        store.call(move |db| store_received(db, "alice", &c, &batch, Some((0, 7)), 0)).await.unwrap();
        let c = conv.clone();
        let first = store.call(move |db| history_page(db, "alice", &c, None, true, 3)).await.unwrap();
        assert_eq!(ids(&first), ["m7", "m6", "m5"]);
        let anchor = Anchor { time_ms: first[2].time_ms, seq: first[2].seq, msg_id: first[2].msg_id.clone() };
        let (c, a) = (conv.clone(), anchor.clone());
        let second = store.call(move |db| history_page(db, "alice", &c, Some(&a), true, 3)).await.unwrap();
        assert_eq!(ids(&second), ["m4", "m3", "m2"]);
        let c = conv.clone();
        let newer = store.call(move |db| history_page(db, "alice", &c, Some(&anchor), false, 10)).await.unwrap();
        assert_eq!(ids(&newer), ["m6", "m7"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stores_share_the_executor_and_each_runs_its_jobs_in_the_order_asked() {
        let dir = tempfile::tempdir().unwrap();
        let stores: Vec<Arc<Store>> =
            (0..4).map(|i| Arc::new(Store::open(&dir.path().join(format!("{i}/oxim.db"))).unwrap())).collect();
        // Jobs are queued from many tasks at once; each store's jobs are queued by one task,
        // so their order is the order asked.
        let mut tasks = Vec::new();
        for store in &stores {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut pending = Vec::new();
                for n in 0..200i64 {
                    let store = store.clone();
                    let (tx, rx) = oneshot::channel();
                    store
                        .queue(move |db| {
                            // Job n finds the n jobs before it done.
                            let done: i64 = kv_get(db, "done").unwrap().map_or(0, |v| v.parse().unwrap());
                            if done != n {
                                kv_set(db, "out_of_order", &n.to_string()).unwrap();
                            }
                            kv_set(db, "done", &(n + 1).to_string()).unwrap();
                            let _ = tx.send(std::thread::current().id());
                        })
                        .unwrap();
                    pending.push((n, rx));
                }
                let mut threads = std::collections::HashSet::new();
                for (_, rx) in pending {
                    threads.insert(rx.await.unwrap());
                }
                let last = store.call(|db| Ok((kv_get(db, "done")?, kv_get(db, "out_of_order")?))).await.unwrap();
                (threads, last)
            }));
        }
        let mut threads = std::collections::HashSet::new();
        for t in tasks {
            let (seen, last) = t.await.unwrap();
            assert_eq!(last, (Some("200".to_owned()), None), "a store's jobs ran in order");
            threads.extend(seen);
        }
        assert!(!threads.is_empty());

        // Stores take turns on the pool's threads rather than keeping one each: twenty stores
        // used one after the other run on a thread or two.
        let mut threads = std::collections::HashSet::new();
        for i in 0..20 {
            let store = Store::open(&dir.path().join(format!("seq{i}/oxim.db"))).unwrap();
            threads.insert(store.call(|_| Ok(std::thread::current().id())).await.unwrap());
        }
        assert!(threads.len() < 20, "{} threads for 20 stores", threads.len());
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_its_call_and_the_store_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        let e = store
            .call(|db| -> Result<()> {
                let tx = db.transaction()?;
                kv_set(&tx, "k", "half-done")?;
                panic!("bug");
            })
            .await
            .unwrap_err();
        assert_eq!(e.code, oxim_proto::code::DB_OPERATION_FAILED);
        // The transaction was rolled back; the store still works.
        assert_eq!(store.call(|db| kv_get(db, "k")).await.unwrap(), None);
        store.call(|db| kv_set(db, "k", "v")).await.unwrap();
        assert_eq!(store.call(|db| kv_get(db, "k")).await.unwrap().as_deref(), Some("v"));
    }

    #[tokio::test]
    async fn closing_finishes_queued_work_then_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        let store = Store::open(&path).unwrap();
        for n in 0..50 {
            store.queue(move |db| kv_set(db, &format!("k{n}"), "v").unwrap()).unwrap();
        }
        store.close();
        let e = store.call(|db| kv_get(db, "k0")).await.unwrap_err();
        assert_eq!(e.desc, "local database: the store is closed");
        // Everything queued before the close is in the file, which is closed.
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM kv WHERE key LIKE 'k%'", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 50);
    }

    fn outgoing(id: &str, to: &str) -> (ConvId, Message) {
        let mut m = Message::draft("alice", Elem::Text { text: id.into() }, id.into(), 1);
        m.user_id = to.into();
        (ConvId::C2C(to.into()), m)
    }

    fn front_ids(db: &Connection, to: &str) -> Vec<String> {
        send_queue_front(db, "alice", &ConvId::C2C(to.into()), 100).unwrap().into_iter().map(|m| m.msg_id).collect()
    }

    #[tokio::test]
    async fn the_send_queue_keeps_call_order_per_conversation_and_holds_only_what_is_sending() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        store
            .call(|db| {
                for (id, to) in [("a", "bob"), ("c1", "carol"), ("b", "bob"), ("c", "bob")] {
                    let (conv, m) = outgoing(id, to);
                    assert!(insert_outgoing(db, &conv, &m)?, "queued");
                }
                assert_eq!(front_ids(db, "bob"), ["a", "b", "c"]);
                assert_eq!(
                    send_queue::queued_conversations(db)?,
                    [ConvId::C2C("bob".into()), ConvId::C2C("carol".into())]
                );
                // A failure leaves the queue; sent again, the message goes to the end.
                mark_failed(db, "b", &Error::disconnected("down"))?;
                assert_eq!(front_ids(db, "bob"), ["a", "c"]);
                let (conv, b) = outgoing("b", "bob");
                assert!(insert_outgoing(db, &conv, &b)?);
                assert_eq!(front_ids(db, "bob"), ["a", "c", "b"]);
                // Sending a queued message again keeps its place.
                let (conv, c) = outgoing("c", "bob");
                assert!(insert_outgoing(db, &conv, &c)?);
                assert_eq!(front_ids(db, "bob"), ["a", "c", "b"]);
                // Accepted: out of the queue, and not queued again by a resend.
                mark_sent(db, "a", 7, 7000)?;
                let (conv, a) = outgoing("a", "bob");
                assert!(!insert_outgoing(db, &conv, &a)?, "already sent");
                // Deleted while queued, or settled by the sync: dropped from the queue.
                delete_messages(db, &conv, &["c".to_owned()])?;
                let mut own = wire("b", 8, "alice", "bob");
                own.receiver = "bob".into();
                store_received(db, "alice", &conv, &[own], Some((7, 8)), 0)?;
                assert!(front_ids(db, "bob").is_empty());
                assert_eq!(front_ids(db, "carol"), ["c1"]);
                assert_eq!(send_queue::queued_conversations(db)?, [ConvId::C2C("carol".into())]);
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn messages_sending_before_the_queue_existed_are_queued_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        {
            // A store of schema 4 with two unsent messages.
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            for (id, to) in [("old1", "bob"), ("sent", "bob"), ("old2", "bob")] {
                let (conv, m) = outgoing(id, to);
                let status = if id == "sent" { MessageStatus::SendSucc } else { MessageStatus::Sending };
                messages::tests_insert(&conn, &conv, &m, status);
            }
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.call(|db| Ok(front_ids(db, "bob"))).await.unwrap(), ["old1", "old2"]);
    }

    #[tokio::test]
    async fn a_delivery_is_recorded_untold_until_acknowledged_and_told_again_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let (c, c2) = (conv.clone(), conv.clone());
        let (first, second) = store
            .call(move |db| {
                let mut revoke = wire("bob#3", 3, "bob", "alice");
                revoke.elem = Elem::Revoke { msg_id: "b1".into() };
                let batch = vec![wire("b1", 1, "bob", "alice"), wire("b2", 2, "bob", "alice"), revoke];
                let first = store_received(db, "alice", &c, &batch, Some((0, 3)), 0)?;
                // History (older than the device) is stored but not told.
                let old = store_received(db, "alice", &c2, &[wire("b4", 4, "bob", "alice")], Some((3, 4)), i64::MAX)?;
                assert_eq!(old.announced, None);
                let second = store_received(db, "alice", &c2, &[wire("b5", 5, "bob", "alice")], Some((4, 5)), 0)?;
                Ok((first, second))
            })
            .await
            .unwrap();
        assert!(first.announced.is_some() && second.announced > first.announced);
        // Nothing acknowledged: everything is told again, as stored now (b1 revoked since).
        let (effects, last) = store.call(|db| announce::pending(db, "alice")).await.unwrap();
        assert_eq!(last, second.announced);
        let shape: Vec<String> = effects
            .iter()
            .map(|e| match e {
                Effect::NewMessage(m) => format!("new {} {:?}", m.msg_id, m.status),
                Effect::Revoked(id) => format!("revoked {id}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shape, ["new b1 LocalRevoked", "new b2 SendSucc", "revoked b1", "new b5 SendSucc"]);
        // The first batch was told: only b5 is left; then nothing.
        let up_to = first.announced.unwrap();
        store.call(move |db| announce::told_up_to(db, up_to)).await.unwrap();
        let (effects, _) = store.call(|db| announce::pending(db, "alice")).await.unwrap();
        assert!(matches!(&effects[..], [Effect::NewMessage(m)] if m.msg_id == "b5"));
        let up_to = second.announced.unwrap();
        store.call(move |db| announce::told_up_to(db, up_to)).await.unwrap();
        assert_eq!(store.call(|db| announce::pending(db, "alice")).await.unwrap(), (Vec::new(), None));
    }

    #[tokio::test]
    async fn a_conversation_change_is_recorded_until_told() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let c = conv.clone();
        let pending = store
            .call(move |db| {
                store_received(db, "alice", &c, &[wire("b1", 1, "bob", "alice")], Some((0, 1)), 0)?;
                let after_new = conversations::pending_announcements(db)?;
                store_received(db, "alice", &c, &[wire("b2", 2, "bob", "alice")], Some((1, 2)), 0)?;
                // Still new: it was never told.
                let after_change = conversations::pending_announcements(db)?;
                conversations::mark_announced(db, std::slice::from_ref(&c))?;
                let after_told = conversations::pending_announcements(db)?;
                store_received(db, "alice", &c, &[wire("b3", 3, "bob", "alice")], Some((2, 3)), 0)?;
                let after_more = conversations::pending_announcements(db)?;
                Ok((after_new, after_change, after_told, after_more))
            })
            .await
            .unwrap();
        assert_eq!(pending.0, [(conv.clone(), ConvChange::New)]);
        assert_eq!(pending.1, [(conv.clone(), ConvChange::New)]);
        assert!(pending.2.is_empty());
        assert_eq!(pending.3, [(conv, ConvChange::Changed)]);
    }

    /// Hundreds of stores closed at once from the async runtime's blocking pool, every pool
    /// thread waiting for its store's close before any close has run (a process with a
    /// thousand SDK instances ending them together): the lanes run on the executor's own
    /// threads, so the closes happen. When lanes ran on that pool, its 512 threads (tokio's
    /// default) all waited for lanes queued behind them, and nothing moved again.
    #[test]
    fn stores_closed_at_once_from_a_full_blocking_pool_all_close() {
        const POOL: usize = 512;
        const STORES: usize = 600;
        let dir = tempfile::tempdir().unwrap();
        let stores: Vec<Store> =
            (0..STORES).map(|i| Store::open(&dir.path().join(format!("{i}/oxim.db"))).unwrap()).collect();
        let all_waiting = Arc::new(std::sync::Barrier::new(POOL));
        let (closed_tx, closed) = mpsc::channel();
        for (i, store) in stores.into_iter().enumerate() {
            let (all_waiting, closed_tx) = (all_waiting.clone(), closed_tx.clone());
            drop(crate::runtime::handle().spawn_blocking(move || {
                if i < POOL {
                    // Every pool thread is taken before the first close is queued.
                    all_waiting.wait();
                }
                store.close();
                let _ = closed_tx.send(());
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        for n in 0..STORES {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(closed.recv_timeout(left).is_ok(), "only {n} of {STORES} stores closed");
        }
        // Closed for real: no file is held any more.
        for i in [0, POOL - 1, STORES - 1] {
            let path = dir.path().join(format!("{i}/oxim.db"));
            assert!(lock(&OPEN_FILES).as_ref().is_none_or(|m| !m.contains_key(&path)), "store {i} still open");
        }
    }

    #[tokio::test]
    async fn a_file_is_opened_again_only_after_its_previous_store_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        let first = Store::open(&path).unwrap();
        // A slow job on the first store: the second open waits for it and the close.
        let (release, wait) = mpsc::channel::<()>();
        first.spawn(move |db| {
            let _ = wait.recv();
            kv_set(db, "first", "done")
        });
        let p = path.clone();
        let opener = std::thread::spawn(move || {
            let second = Store::open(&p).unwrap();
            let conn = lock(&second.conn);
            kv_get(conn.as_ref().unwrap(), "first").unwrap()
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!opener.is_finished(), "the second store waits for the first to close");
        let closer = std::thread::spawn(move || first.close());
        release.send(()).unwrap();
        assert_eq!(opener.join().unwrap().as_deref(), Some("done"), "it sees what the first store's last job did");
        closer.join().unwrap();
    }

    #[tokio::test]
    async fn schema_survives_reopen_and_refuses_newer_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oxim.db");
        let store = Store::open(&path).unwrap();
        store.call(|db| kv_set(db, "k", "v")).await.unwrap();
        store.close();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.call(|db| kv_get(db, "k")).await.unwrap().as_deref(), Some("v"));
        store.close();
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert_eq!(Store::open(&path).err().unwrap().code, oxim_proto::code::DB_OPERATION_FAILED);
    }

    /// Statements SQLite prepared again on this connection, by SQL. SQLite re-prepares a
    /// statement on every new binding when the planner used a bound value (constant
    /// propagation of `text_col = ?` through a join does), which costs a full parse per call.
    fn reprepared(conn: &rusqlite::Connection) -> Vec<(String, i32)> {
        use rusqlite::ffi;
        let mut out = Vec::new();
        // SAFETY: the handle is this connection's, used on its thread while no statement of
        // it is being stepped; the statements listed stay alive (they are in rusqlite's cache).
        unsafe {
            let db = conn.handle();
            let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
            while !stmt.is_null() {
                let n = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
                if n > 0 {
                    let sql = std::ffi::CStr::from_ptr(ffi::sqlite3_sql(stmt)).to_string_lossy().into_owned();
                    out.push((sql, n));
                }
                stmt = ffi::sqlite3_next_stmt(db, stmt);
            }
        }
        out
    }

    #[tokio::test]
    async fn hot_statements_are_not_prepared_again_for_each_binding() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("u/oxim.db")).unwrap();
        let found = store
            .call(|db| {
                for (i, peer) in ["bob", "carol", "dave"].into_iter().enumerate() {
                    let conv = ConvId::C2C(peer.into());
                    for seq in 1..=3u64 {
                        let w = wire(&format!("{peer}{seq}"), seq, peer, "alice");
                        store_received(db, "alice", &conv, &[w], Some((seq - 1, seq)), 0)?;
                    }
                    let mut mine = Message::draft("alice", Elem::Text { text: "x".into() }, format!("o{i}"), 1);
                    mine.user_id = peer.into();
                    insert_outgoing(db, &conv, &mine)?;
                    mark_sent(db, &mine.msg_id, 4, 5000)?;
                    conversations::refresh(db, &conv)?;
                    conversations::in_gap(db, &conv)?;
                    conversations::by_ids(db, "alice", std::slice::from_ref(&conv))?;
                    conversations::list_page(db, "alice", 0, 10)?;
                    conversations::total_unread(db)?;
                    history_page(db, "alice", &conv, None, true, 20)?;
                    find_message(db, "alice", &format!("{peer}2"))?;
                }
                Ok(reprepared(db))
            })
            .await
            .unwrap();
        assert!(found.is_empty(), "statements prepared again: {found:#?}");
    }
}
