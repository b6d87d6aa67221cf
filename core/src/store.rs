//! The SDK's local store: one SQLite file per user (`<data_dir>/<sdkAppID>/<userID>/oxim.db`),
//! WAL mode, schema migrations from version 1, and ONE thread that does all database work, so
//! neither the caller's thread nor the event thread ever waits on disk.

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

use oxim_proto::payload::WireMessage;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::types::{ConvId, ElemType, Message, MessageStatus};

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
];

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Handle to the store thread.
pub struct Store {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(oxim_proto::code::IO_OPERATION_FAILED, format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Android cannot always create temp files; keep temporaries in memory.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("oxim-store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                }
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            })
            .map_err(|e| Error::db(format!("cannot start the store thread: {e}")))?;
        Ok(Store { jobs: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Runs `f` on the store thread and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        {
            let jobs = self.jobs.lock().expect("store lock");
            let jobs = jobs.as_ref().ok_or_else(|| Error::db("the store is closed"))?;
            jobs.send(job).map_err(|_| Error::db("the store is closed"))?;
        }
        rx.await.map_err(|_| Error::db("the store thread stopped"))?
    }

    /// Finishes queued work and closes the database.
    pub fn close(&self) {
        self.jobs.lock().expect("store lock").take();
        if let Some(thread) = self.thread.lock().expect("store lock").take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let done = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if done > MIGRATIONS.len() {
        return Err(Error::db(format!("the database has schema version {done}, newer than this SDK")));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

// ---- queries (run on the store thread through `Store::call`) ------------------------------------

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

/// The sync cursor of a conversation, `None` if this device has never seen it.
pub fn synced_seq(conn: &Connection, conv: &ConvId) -> Result<Option<u64>> {
    Ok(conn
        .prepare_cached("SELECT synced_seq FROM conversation WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| r.get::<_, i64>(0))
        .optional()?
        .map(|v| v as u64))
}

/// Sets a conversation's sync cursor (it only moves forward).
pub fn set_synced_seq(conn: &Connection, conv: &ConvId, seq: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversation (conv_id, synced_seq) VALUES (?1, ?2)
         ON CONFLICT (conv_id) DO UPDATE SET synced_seq = max(synced_seq, excluded.synced_seq)",
    )?
    .execute(params![conv.to_string(), seq as i64])?;
    Ok(())
}

/// Stores an outgoing message as SENDING, before it goes to the network.
pub fn insert_outgoing(conn: &Connection, conv: &ConvId, wire: &WireMessage) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO message (msg_id, conv_id, seq, sender, time_ms, status, is_self, elem_type, wire)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, 1, ?6, ?7)",
    )?
    .execute(params![
        wire.msg_id,
        conv.to_string(),
        wire.sender,
        wire.time_ms,
        MessageStatus::Sending as i32,
        ElemType::of(&wire.elem) as i32,
        serde_json::to_string(wire).expect("message serialisation"),
    ])?;
    Ok(())
}

/// Records the server's acceptance of an outgoing message.
pub fn mark_sent(conn: &Connection, msg_id: &str, seq: u64, time_ms: i64) -> Result<()> {
    let wire: Option<String> = conn
        .prepare_cached("SELECT wire FROM message WHERE msg_id = ?1")?
        .query_row([msg_id], |r| r.get(0))
        .optional()?;
    let Some(wire) = wire else { return Ok(()) };
    let mut wire: WireMessage = serde_json::from_str(&wire).map_err(Error::db)?;
    wire.seq = seq;
    wire.time_ms = time_ms;
    conn.prepare_cached(
        "UPDATE message SET seq = ?2, time_ms = ?3, status = ?4, error_code = 0, error_desc = '', wire = ?5
         WHERE msg_id = ?1",
    )?
    .execute(params![
        msg_id,
        seq as i64,
        time_ms,
        MessageStatus::SendSucc as i32,
        serde_json::to_string(&wire).expect("message serialisation")
    ])?;
    Ok(())
}

/// Records that an outgoing message failed, and why.
pub fn mark_failed(conn: &Connection, msg_id: &str, error: &Error) -> Result<()> {
    conn.prepare_cached(
        "UPDATE message SET status = ?2, error_code = ?3, error_desc = ?4 WHERE msg_id = ?1 AND status = ?5",
    )?
    .execute(params![
        msg_id,
        MessageStatus::SendFail as i32,
        error.code,
        error.desc,
        MessageStatus::Sending as i32
    ])?;
    Ok(())
}

/// Outgoing messages still SENDING (after a restart or a long disconnection), oldest first.
pub fn pending_outgoing(conn: &Connection) -> Result<Vec<(ConvId, WireMessage)>> {
    let mut stmt = conn.prepare_cached("SELECT conv_id, wire FROM message WHERE status = 1 ORDER BY rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (conv, wire) = row?;
        let conv = ConvId::parse(&conv).ok_or_else(|| Error::db(format!("bad conversation id {conv}")))?;
        out.push((conv, serde_json::from_str(&wire).map_err(Error::db)?));
    }
    Ok(out)
}

/// Stores messages received for `conv` and moves its cursor to `cursor`, in one transaction.
/// Returns the messages to announce: those not stored before (by msg_id) that the server
/// accepted at or after `news_since_ms`. A message that is our own outgoing copy (same msg_id,
/// still SENDING or FAILED) becomes sent.
pub fn store_received(
    conn: &mut Connection,
    me: &str,
    conv: &ConvId,
    msgs: &[WireMessage],
    cursor: u64,
    news_since_ms: i64,
) -> Result<Vec<Message>> {
    let tx = conn.transaction()?;
    let mut fresh = Vec::new();
    {
        let conv_text = conv.to_string();
        let mut insert = tx.prepare_cached(
            "INSERT INTO message (msg_id, conv_id, seq, sender, time_ms, status, is_self, elem_type, wire)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (msg_id) DO NOTHING",
        )?;
        let mut settle = tx.prepare_cached(
            "UPDATE message SET seq = ?2, time_ms = ?3, status = ?4, wire = ?5, error_code = 0, error_desc = ''
             WHERE msg_id = ?1 AND status IN (1, 3)",
        )?;
        for wire in msgs {
            let json = serde_json::to_string(wire).expect("message serialisation");
            let inserted = insert.execute(params![
                wire.msg_id,
                conv_text,
                wire.seq as i64,
                wire.sender,
                wire.time_ms,
                MessageStatus::SendSucc as i32,
                wire.sender == me,
                ElemType::of(&wire.elem) as i32,
                json,
            ])?;
            if inserted == 1 && wire.time_ms >= news_since_ms {
                fresh.push(Message::from_wire(wire, me, MessageStatus::SendSucc));
            } else {
                settle.execute(params![
                    wire.msg_id,
                    wire.seq as i64,
                    wire.time_ms,
                    MessageStatus::SendSucc as i32,
                    json
                ])?;
            }
        }
    }
    set_synced_seq(&tx, conv, cursor)?;
    tx.commit()?;
    Ok(fresh)
}

/// A stored message by id.
pub fn find_message(conn: &Connection, me: &str, msg_id: &str) -> Result<Option<Message>> {
    let row: Option<(String, i32)> = conn
        .prepare_cached("SELECT wire, status FROM message WHERE msg_id = ?1")?
        .query_row([msg_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(wire, status)| {
        let wire: WireMessage = serde_json::from_str(&wire).map_err(Error::db)?;
        Ok(Message::from_wire(&wire, me, MessageStatus::from_i32(status)))
    })
    .transpose()
}

/// Number of stored messages of a conversation (for tests and diagnostics).
pub fn count_messages(conn: &Connection, conv: &ConvId) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM message WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| r.get::<_, i64>(0))? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Elem;

    fn wire(id: &str, seq: u64, from: &str, to: &str) -> WireMessage {
        WireMessage {
            msg_id: id.into(),
            seq,
            sender: from.into(),
            receiver: to.into(),
            group_id: String::new(),
            time_ms: 1000 * seq as i64,
            random: 0,
            priority: 0,
            online_only: false,
            elem: Elem::Text { text: id.into() },
            cloud_custom_data: String::new(),
        }
    }

    #[tokio::test]
    async fn received_messages_are_stored_once_and_settle_own_copies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("u/oxim.db")).unwrap();
        let conv = ConvId::C2C("bob".into());
        let mine = wire("mine", 0, "alice", "bob");
        let c = conv.clone();
        store.call(move |db| insert_outgoing(db, &c, &mine)).await.unwrap();
        let c = conv.clone();
        let fresh = store
            .call(move |db| {
                store_received(
                    db,
                    "alice",
                    &c,
                    &[wire("old", 1, "bob", "alice"), wire("b1", 2, "bob", "alice"), wire("mine", 3, "alice", "bob")],
                    3,
                    2000,
                )
            })
            .await
            .unwrap();
        // "old" is stored but is history (before news_since); our own copy is settled, not news.
        assert_eq!(fresh.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["b1"]);
        assert_eq!(store.call(|db| count_messages(db, &ConvId::C2C("bob".into()))).await.unwrap(), 3);
        let c = conv.clone();
        let again = store
            .call(move |db| store_received(db, "alice", &c, &[wire("b1", 2, "bob", "alice")], 2, 0))
            .await
            .unwrap();
        assert!(again.is_empty());
        let own = store.call(|db| find_message(db, "alice", "mine")).await.unwrap().unwrap();
        assert_eq!((own.status, own.seq, own.is_self), (MessageStatus::SendSucc, 3, true));
        let c = conv.clone();
        assert_eq!(store.call(move |db| synced_seq(db, &c)).await.unwrap(), Some(3), "cursor never moves back");
        assert!(store.call(|db| pending_outgoing(db)).await.unwrap().is_empty());
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
}
