//! The embedded SQLite store.
//!
//! - One writer thread owns the write connection. Callers send it jobs; it takes every job that
//!   is waiting (up to [`MAX_BATCH`]), runs them in one transaction (a savepoint each, so one
//!   failing job does not fail its neighbours) and answers after the commit. Under load this is
//!   group commit: one fsync for many messages.
//! - Seqs and the change version are allocated in the writer, in memory, so they are gapless
//!   and never go backwards; the database is the source they are reloaded from.
//! - Reads run on a small pool of read connections (WAL lets them run beside the writer).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use oxim_proto::ids::ConvId;
use oxim_proto::payload::{ConvState, WireMessage};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use super::{Appended, Queued, Store, StoreError, StoreResult};

/// Most jobs the writer puts into one transaction.
const MAX_BATCH: usize = 1024;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: users, conversations, messages.
    "CREATE TABLE user (
        user_id    TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- conv_key: 'c2c:<a> <b>' with a < b (user ids never contain spaces), or 'group:<id>'.
    CREATE TABLE conv (
        conv_key TEXT PRIMARY KEY,
        max_seq  INTEGER NOT NULL,
        version  INTEGER NOT NULL   -- change stamp for incremental sync
    ) WITHOUT ROWID;
    -- One row per user and conversation they take part in; conv_id is the user's view of it.
    CREATE TABLE user_conv (
        user_id  TEXT NOT NULL,
        conv_id  TEXT NOT NULL,
        conv_key TEXT NOT NULL,
        version  INTEGER NOT NULL,  -- change stamp of this user's own state
        PRIMARY KEY (user_id, conv_id)
    ) WITHOUT ROWID;
    CREATE INDEX user_conv_by_key ON user_conv(conv_key);
    CREATE TABLE msg (
        conv_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        msg_id   TEXT NOT NULL,
        sender   TEXT NOT NULL,
        time_ms  INTEGER NOT NULL,
        body     TEXT NOT NULL,     -- the WireMessage as JSON
        PRIMARY KEY (conv_key, seq)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX msg_by_id ON msg(msg_id);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;",
];

/// The storage key of the C2C conversation between two users.
pub fn c2c_key(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("c2c:{lo} {hi}")
}

/// The storage key of `user`'s conversation `conv`.
pub fn conv_key(user: &str, conv: &ConvId) -> String {
    match conv {
        ConvId::C2C(peer) => c2c_key(user, peer),
        ConvId::Group(group) => format!("group:{group}"),
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL: readers never block the writer. NORMAL: a commit survives a process crash; a power
    // cut can lose the last commits (the OS has not flushed the WAL yet).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

enum Job {
    RegisterUser(String, oneshot::Sender<StoreResult<()>>),
    AppendC2C(WireMessage, oneshot::Sender<StoreResult<Appended>>),
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<ReaderPool>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `dir/oxim.db`.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("oxim.db");
        let mut conn = open(&path)?;
        migrate(&mut conn)?;
        let writer_state = WriterState::load(&conn)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = std::thread::Builder::new()
            .name("oxim-store-writer".into())
            .spawn(move || writer_loop(conn, writer_state, rx))
            .map_err(|e| StoreError::Corrupt(format!("cannot start writer thread: {e}")))?;
        Ok(SqliteStore {
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(ReaderPool { path, idle: Mutex::new(Vec::new()) }),
        })
    }

    fn submit(&self, job: Job) -> StoreResult<()> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.as_ref().ok_or(StoreError::Closed)?.send(job).map_err(|_| StoreError::Closed)
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn take(&self) -> StoreResult<Connection> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < 8 {
            idle.push(conn);
        }
    }
}

/// What the writer keeps in memory between batches.
struct WriterState {
    /// Highest seq per conversation key, filled on first use.
    max_seq: HashMap<String, u64>,
    /// Last change version handed out.
    version: u64,
}

impl WriterState {
    fn load(conn: &Connection) -> rusqlite::Result<WriterState> {
        let version: Option<i64> =
            conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| r.get(0)).optional()?;
        Ok(WriterState { max_seq: HashMap::new(), version: version.unwrap_or(0) as u64 })
    }

    fn seq_of(&mut self, tx: &Connection, key: &str) -> rusqlite::Result<u64> {
        if let Some(seq) = self.max_seq.get(key) {
            return Ok(*seq);
        }
        let seq: Option<i64> = tx
            .prepare_cached("SELECT max_seq FROM conv WHERE conv_key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        let seq = seq.unwrap_or(0) as u64;
        self.max_seq.insert(key.to_owned(), seq);
        Ok(seq)
    }

    fn register_user(&mut self, tx: &Connection, user: &str) -> StoreResult<()> {
        tx.prepare_cached("INSERT OR IGNORE INTO user (user_id, created_ms) VALUES (?1, ?2)")?
            .execute(params![user, now_ms()])?;
        Ok(())
    }

    fn append_c2c(&mut self, tx: &Connection, mut msg: WireMessage) -> StoreResult<Appended> {
        // Deduplicate on the client's message id: a resend gets the original back.
        let existing: Option<(String, String)> = tx
            .prepare_cached("SELECT sender, body FROM msg WHERE msg_id = ?1")?
            .query_row([&msg.msg_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((sender, body)) = existing {
            if sender != msg.sender {
                return Err(StoreError::MsgIdTaken(msg.msg_id));
            }
            let stored: WireMessage = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            return Ok(Appended { msg: stored, duplicate: true });
        }

        let key = c2c_key(&msg.sender, &msg.receiver);
        let seq = self.seq_of(tx, &key)? + 1;
        let version = self.version + 1;
        msg.seq = seq;
        msg.time_ms = now_ms();
        let body = serde_json::to_string(&msg).expect("message serialisation");
        tx.prepare_cached(
            "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![key, seq as i64, msg.msg_id, msg.sender, msg.time_ms, body])?;
        tx.prepare_cached(
            "INSERT INTO conv (conv_key, max_seq, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (conv_key) DO UPDATE SET max_seq = excluded.max_seq, version = excluded.version",
        )?
        .execute(params![key, seq as i64, version as i64])?;
        if seq == 1 {
            let mut add = tx.prepare_cached(
                "INSERT OR IGNORE INTO user_conv (user_id, conv_id, conv_key, version) VALUES (?1, ?2, ?3, ?4)",
            )?;
            add.execute(params![msg.sender, ConvId::C2C(msg.receiver.clone()).to_string(), key, version as i64])?;
            if msg.receiver != msg.sender {
                add.execute(params![msg.receiver, ConvId::C2C(msg.sender.clone()).to_string(), key, version as i64])?;
            }
        }
        // Only now, with every statement done, does the in-memory state move on.
        self.max_seq.insert(key, seq);
        self.version = version;
        Ok(Appended { msg, duplicate: false })
    }
}

/// Runs one job inside its own savepoint.
fn run_job<T>(tx: &mut rusqlite::Transaction<'_>, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
    let sp = tx.savepoint()?;
    match f(&sp) {
        Ok(v) => {
            sp.commit()?;
            Ok(v)
        }
        // Dropping the savepoint rolls it back.
        Err(e) => Err(e),
    }
}

enum Reply {
    Unit(oneshot::Sender<StoreResult<()>>, StoreResult<()>),
    Appended(oneshot::Sender<StoreResult<Appended>>, StoreResult<Appended>),
}

fn writer_loop(mut conn: Connection, mut state: WriterState, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let snapshot_version = state.version;
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = (|| -> rusqlite::Result<()> {
            let mut tx = conn.transaction()?;
            for job in batch.drain(..) {
                match job {
                    Job::RegisterUser(user, reply) => {
                        let r = run_job(&mut tx, |c| state.register_user(c, &user));
                        replies.push(Reply::Unit(reply, r));
                    }
                    Job::AppendC2C(msg, reply) => {
                        let r = run_job(&mut tx, |c| state.append_c2c(c, msg));
                        replies.push(Reply::Appended(reply, r));
                    }
                }
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
        match outcome {
            Ok(()) => {
                for reply in replies {
                    match reply {
                        Reply::Unit(tx, r) => drop(tx.send(r)),
                        Reply::Appended(tx, r) => drop(tx.send(r)),
                    }
                }
            }
            Err(e) => {
                tracing::error!("store commit failed: {e}");
                // Nothing of the batch was written: forget what memory believes and reload.
                state.max_seq.clear();
                state.version = WriterState::load(&conn).map(|s| s.version).unwrap_or(snapshot_version);
                for reply in replies {
                    match reply {
                        Reply::Unit(tx, _) => drop(tx.send(Err(StoreError::Corrupt(format!("commit failed: {e}"))))),
                        Reply::Appended(tx, _) => {
                            drop(tx.send(Err(StoreError::Corrupt(format!("commit failed: {e}")))))
                        }
                    }
                }
            }
        }
    }
    // Channel closed: every job was answered. Fold the WAL into the main file before exiting.
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!("WAL checkpoint at close failed: {e}");
    }
}

fn parse_msg(body: &str) -> StoreResult<WireMessage> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored message: {e}")))
}

#[async_trait]
impl Store for SqliteStore {
    async fn register_user(&self, user_id: &str) -> StoreResult<()> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::RegisterUser(user_id.to_owned(), tx))?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn user_exists(&self, user_id: &str) -> StoreResult<bool> {
        let user = user_id.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT 1 FROM user WHERE user_id = ?1")?
                .query_row([user], |_| Ok(()))
                .optional()?
                .is_some())
        })
        .await
    }

    fn append_c2c(&self, msg: WireMessage) -> Queued<Appended> {
        let (tx, rx) = oneshot::channel();
        let queued = self.submit(Job::AppendC2C(msg, tx));
        Box::pin(async move {
            queued?;
            rx.await.map_err(|_| StoreError::Closed)?
        })
    }

    async fn changed_conversations(&self, user_id: &str, since: u64, limit: u32) -> StoreResult<Vec<ConvState>> {
        let user = user_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT uc.conv_id, c.max_seq, max(c.version, uc.version) AS v
                   FROM user_conv uc JOIN conv c ON c.conv_key = uc.conv_key
                  WHERE uc.user_id = ?1 AND v > ?2
                  ORDER BY v LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![user, since as i64, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (conv_id, max_seq, version) = row?;
                let conv_id =
                    ConvId::parse(&conv_id).ok_or_else(|| StoreError::Corrupt(format!("conversation id {conv_id}")))?;
                out.push(ConvState { conv_id, max_seq: max_seq as u64, version: version as u64 });
            }
            Ok(out)
        })
        .await
    }

    async fn messages_after(
        &self,
        user_id: &str,
        conv: &ConvId,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> StoreResult<(Vec<WireMessage>, u64)> {
        let key = conv_key(user_id, conv);
        let up_to = if up_to == 0 { i64::MAX } else { up_to as i64 };
        self.read(move |c| {
            let max_seq: i64 = c
                .prepare_cached("SELECT max_seq FROM conv WHERE conv_key = ?1")?
                .query_row([&key], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let mut stmt = c.prepare_cached(
                "SELECT body FROM msg WHERE conv_key = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![key, after as i64, up_to, limit as i64], |r| r.get::<_, String>(0))?;
            let mut msgs = Vec::new();
            for body in rows {
                msgs.push(parse_msg(&body?)?);
            }
            Ok((msgs, max_seq as u64))
        })
        .await
    }

    async fn close(&self) {
        // Dropping the sender ends the writer loop once the queue is drained.
        self.jobs.lock().expect("jobs lock").take();
        let handle = self.writer.lock().expect("writer lock").take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxim_proto::payload::Elem;

    fn text(id: &str, from: &str, to: &str) -> WireMessage {
        WireMessage {
            msg_id: id.into(),
            seq: 0,
            sender: from.into(),
            receiver: to.into(),
            group_id: String::new(),
            time_ms: 0,
            random: 0,
            priority: 0,
            online_only: false,
            elem: Elem::Text { text: format!("text of {id}") },
            cloud_custom_data: String::new(),
        }
    }

    #[tokio::test]
    async fn seqs_are_per_conversation_dedup_returns_the_original_and_restart_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            let a1 = store.append_c2c(text("m1", "alice", "bob")).await.unwrap();
            let a2 = store.append_c2c(text("m2", "bob", "alice")).await.unwrap();
            let c1 = store.append_c2c(text("m3", "alice", "carol")).await.unwrap();
            assert_eq!((a1.msg.seq, a2.msg.seq, c1.msg.seq), (1, 2, 1));
            let again = store.append_c2c(text("m1", "alice", "bob")).await.unwrap();
            assert!(again.duplicate);
            assert_eq!((again.msg.seq, again.msg.time_ms), (1, a1.msg.time_ms));
            // The same id from someone else is refused, not merged.
            assert!(matches!(store.append_c2c(text("m1", "mallory", "bob")).await, Err(StoreError::MsgIdTaken(_))));
            store.close().await;
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let next = store.append_c2c(text("m4", "bob", "alice")).await.unwrap();
        assert_eq!(next.msg.seq, 3, "seq continues after a restart");
        let (msgs, max) = store.messages_after("bob", &ConvId::C2C("alice".into()), 0, 0, 10).await.unwrap();
        assert_eq!(max, 3);
        assert_eq!(msgs.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["m1", "m2", "m4"]);
        let (page, _) = store.messages_after("alice", &ConvId::C2C("bob".into()), 1, 2, 10).await.unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].msg_id, "m2");
        store.close().await;
    }

    #[tokio::test]
    async fn changed_conversations_are_incremental() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.append_c2c(text("x1", "alice", "bob")).await.unwrap();
        store.append_c2c(text("x2", "carol", "alice")).await.unwrap();
        let all = store.changed_conversations("alice", 0, 100).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].version < all[1].version);
        let since = all[1].version;
        assert!(store.changed_conversations("alice", since, 100).await.unwrap().is_empty());
        store.append_c2c(text("x3", "bob", "alice")).await.unwrap();
        let changed = store.changed_conversations("alice", since, 100).await.unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!((changed[0].conv_id.to_string(), changed[0].max_seq), ("c2c_bob".to_string(), 2));
        // Bob sees the same conversation from his side; carol is not in it.
        assert_eq!(store.changed_conversations("bob", 0, 100).await.unwrap()[0].conv_id.to_string(), "c2c_alice");
        assert_eq!(store.changed_conversations("carol", 0, 100).await.unwrap().len(), 1);
        store.close().await;
    }

    #[tokio::test]
    async fn concurrent_appends_get_distinct_gapless_seqs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let mut tasks = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.append_c2c(text(&format!("c{i}"), "alice", "bob")).await.unwrap().msg.seq
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
        store.close().await;
    }
}
