//! The SDK's local store: one SQLite file per user (`<data_dir>/<sdkAppID>/<userID>/oxim.db`),
//! WAL mode, schema migrations from version 1. All database work runs on the process's store
//! executor ([`executor`]: the SDK runtime's blocking pool, shared by every store of every
//! instance; each store's jobs in order), so neither the caller's thread nor the event thread
//! ever waits on disk.

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

mod apply;
pub mod conversations;
mod cursor;
mod executor;
mod messages;
mod read;
mod signaling;

pub use apply::{Effect, store_received};
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
];

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
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(oxim_proto::code::IO_OPERATION_FAILED, format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        // WAL, synchronous=NORMAL, temporaries in memory (Android cannot always create temporary
        // files), 128 cached statements (a message's way through the store uses more than
        // rusqlite's default 16) and plans that never depend on bound values
        // (`hot_statements_are_not_prepared_again...`): oxim-sqlite, shared with the server.
        let settings = oxim_sqlite::Settings { statement_cache: 128, busy_timeout: None };
        let mut conn = oxim_sqlite::open(path, &settings)?;
        oxim_sqlite::migrate(&mut conn, MIGRATIONS).map_err(|e| Error::db(e.to_string()))?;
        Ok(Store { conn: Arc::new(Mutex::new(Some(conn))), lane: Arc::default(), open: Mutex::new(true) })
    }

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

    /// Runs `f` on the store thread and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        self.queue(move |conn| {
            let _ = tx.send(f(conn));
        })?;
        rx.await.map_err(|_| Error::db("the store thread stopped"))?
    }

    /// Like [`call`](Self::call), then runs `then` on the store thread after the caller has its
    /// answer (and before any later job): follow-up work (announcing a change) that the
    /// caller must not wait for but that later jobs must see done.
    pub async fn call_then<R: Send + 'static, A: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<(R, A)> + Send + 'static,
        then: impl FnOnce(&mut Connection, A) + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        self.queue(move |conn| match f(conn) {
            Ok((answer, after)) => {
                let _ = tx.send(Ok(answer));
                then(conn, after);
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        })?;
        rx.await.map_err(|_| Error::db("the store thread stopped"))?
    }

    /// Finishes queued work and closes the database (checkpointing its WAL into the file).
    /// Waits for that, except inside a store job.
    pub fn close(&self) {
        let (done_tx, done) = mpsc::sync_channel::<()>(1);
        {
            let mut open = lock(&self.open);
            if !*open {
                return;
            }
            *open = false;
            let conn = self.conn.clone();
            self.lane.submit(Box::new(move || {
                if let Some(conn) = lock(&conn).take() {
                    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                }
                let _ = done_tx.send(());
            }));
        }
        if !executor::on_executor() {
            let _ = done.recv();
        }
    }
}

use executor::lock;

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
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

    fn ids(msgs: &[Message]) -> Vec<&str> {
        msgs.iter().map(|m| m.msg_id.as_str()).collect()
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
        let effects = store
            .call(move |db| store_received(db, "alice", &c, &batch, Some((0, 3)), 2000))
            .await
            .unwrap()
            .into_iter()
            .filter(not_list)
            .collect::<Vec<_>>();
        // "old" is stored but is history (before news_since); our own copy is settled, not news.
        assert_eq!(effects.len(), 1);
        assert!(matches!(&effects[0], Effect::NewMessage(m) if m.msg_id == "b1"));
        assert_eq!(store.call(|db| count_messages(db, &ConvId::C2C("bob".into()))).await.unwrap(), 3);
        let c = conv.clone();
        let again = store
            .call(move |db| store_received(db, "alice", &c, &[wire("b1", 2, "bob", "alice")], Some((0, 2)), 0))
            .await
            .unwrap()
            .into_iter()
            .filter(not_list)
            .collect::<Vec<_>>();
        assert!(again.is_empty());
        let own = store.call(|db| find_message(db, "alice", "mine")).await.unwrap().unwrap();
        assert_eq!((own.status, own.seq, own.is_self), (MessageStatus::SendSucc, 3, true));
        let c = conv.clone();
        assert_eq!(store.call(move |db| synced_seq(db, &c)).await.unwrap(), Some(3), "cursor never moves back");
        assert!(store.call(|db| pending_outgoing(db, "alice")).await.unwrap().is_empty());
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
        let effects = store
            .call(move |db| store_received(db, "alice", &c, &batch, Some((0, 3)), 0))
            .await
            .unwrap()
            .into_iter()
            .filter(not_list)
            .collect::<Vec<_>>();
        assert_eq!(effects.len(), 3);
        assert_eq!(effects[2], Effect::Revoked("b1".into()));
        let c = conv.clone();
        let again = store
            .call(move |db| store_received(db, "alice", &c, &[revoke], Some((0, 3)), 0))
            .await
            .unwrap()
            .into_iter()
            .filter(not_list)
            .collect::<Vec<_>>();
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
        let effects = store
            .call(move |db| store_received(db, "alice", &ConvId::System, &events, Some((0, 3)), 0))
            .await
            .unwrap()
            .into_iter()
            .filter(not_list)
            .collect::<Vec<_>>();
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
