//! The embedded SQLite store.
//!
//! - One writer thread owns the write connection. Callers queue jobs; the writer takes every
//!   job that is waiting (up to [`MAX_BATCH`]), runs them in one transaction (a savepoint each,
//!   so one failing job does not fail its neighbours) and answers after the commit. Under load
//!   this is group commit: one fsync for many messages.
//! - Seqs, stream times and the change version are allocated in the writer, in memory, so they
//!   are gapless and never go backwards; the database is what they are reloaded from.
//! - Reads run on a small pool of read connections (WAL lets them run beside the writer).
//! - Checkpoints (folding the WAL into the database file, with an fsync) run on their own
//!   thread, never in the writer: an automatic checkpoint inside a commit stalled that commit,
//!   and every message waiting behind it, for the duration of an fsync.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use oxim_proto::code;
use oxim_proto::ids::ConvId;
use oxim_proto::message::{Elem, UserEvent};
use oxim_proto::payload::{ConvGroup, ConvState, RecvOptInfo, SeqRange, WireMessage};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};

use super::{
    Appended, GroupOutcome, HistoryPage, Queued, SignalAct, Signaled, Store, StoreError, StoreResult, Written,
};
use crate::domain::group_rules::MemberLimits;
use crate::domain::groups::{GroupOp, GroupRow};
use crate::domain::keys::{Target, conv_key, group_of_key, sys_target};
use crate::domain::signaling::Invitation;
use oxim_proto::group::{GroupApplication, GroupInfo, MemberInfo};

mod conversations;
mod groups;
mod signaling;

/// Most jobs the writer puts into one transaction.
const MAX_BATCH: usize = 1024;

/// How often the checkpointer folds the WAL into the database file.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: users, conversations, messages.
    "CREATE TABLE user (
        user_id    TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- conv_key: 'c2c:<a> <b>' with a < b (user ids never contain spaces), 'group:<id>',
    -- 'sys:<user>' (the user's own event stream).
    CREATE TABLE conv (
        conv_key TEXT PRIMARY KEY,
        max_seq  INTEGER NOT NULL,
        version  INTEGER NOT NULL   -- change stamp for incremental sync
    ) WITHOUT ROWID;
    -- One row per user and stream they take part in; conv_id is the user's view of it.
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
    // 2: revoke, read positions, per-user deletion and clearing, file references.
    "ALTER TABLE conv ADD COLUMN last_time_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE msg ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;       -- 0 message, 1 notice/event
    ALTER TABLE msg ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE user_conv ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE user_conv ADD COLUMN cleared_seq INTEGER NOT NULL DEFAULT 0;
    -- Messages a user deleted: hidden from that user's pulls only.
    CREATE TABLE msg_hidden (
        user_id  TEXT NOT NULL,
        conv_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (user_id, conv_key, seq)
    ) WITHOUT ROWID;
    -- Which streams a stored file was sent into (its readers are their participants).
    CREATE TABLE file_ref (
        uuid     TEXT NOT NULL,
        conv_key TEXT NOT NULL,
        PRIMARY KEY (uuid, conv_key)
    ) WITHOUT ROWID;",
    // 3: groups.
    groups::MIGRATION,
    // 4: signaling invitations (the state machine is crate::domain::signaling).
    "CREATE TABLE invitation (
        invite_id   TEXT PRIMARY KEY,
        inviter     TEXT NOT NULL,
        state       TEXT NOT NULL,      -- 'active', 'ended', 'cancelled'
        deadline_ms INTEGER NOT NULL,   -- unanswered invitees time out then; 0 = never
        body        TEXT NOT NULL       -- the Invitation as JSON
    ) WITHOUT ROWID;
    CREATE INDEX invitation_deadline ON invitation(deadline_ms) WHERE state = 'active' AND deadline_ms > 0;",
    // 5: conversation pins and deletion.
    conversations::MIGRATION,
];

pub(crate) use oxim_proto::clock::now_ms;

/// Every connection of the store: 256 cached statements (a message send alone uses a dozen), and
/// a 10 s wait for locks (the writer, the readers and the checkpointer share one file).
const SETTINGS: oxim_sqlite::Settings =
    oxim_sqlite::Settings { statement_cache: 256, busy_timeout: Some(std::time::Duration::from_secs(10)) };

fn open(path: &Path) -> rusqlite::Result<Connection> {
    oxim_sqlite::open(path, &SETTINGS)
}

/// Called once the batch's transaction committed (`None`) or failed (`Some(reason)`).
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// A write: runs inside the batch transaction, returns how to answer its caller.
type Job = Box<dyn FnOnce(&mut Transaction<'_>, &mut WriterState) -> Finish + Send>;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<Checkpointer>>,
    readers: Arc<ReaderPool>,
}

/// The thread that checkpoints the WAL (PASSIVE: it never blocks the writer or readers).
struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = open(path)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("oxim-store-checkpoint".into())
            .spawn(move || {
                // Runs until `stop` is sent or dropped.
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!("WAL checkpoint failed: {e}");
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) `dir/oxim.db`, with V2TIM's default member
    /// limits.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(dir, MemberLimits::default())
    }

    /// Opens `dir/oxim.db` with the given group member limits.
    pub fn open_with(dir: &Path, member_limits: MemberLimits) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("oxim.db");
        let mut conn = open(&path)?;
        oxim_sqlite::migrate(&mut conn, MIGRATIONS)?;
        // The checkpointer thread checkpoints; commits never do.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = Checkpointer::start(&path)?;
        let mut writer_state = WriterState::load(&conn)?;
        writer_state.member_limits = member_limits;
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = std::thread::Builder::new()
            .name("oxim-store-writer".into())
            .spawn(move || writer_loop(conn, writer_state, rx))
            .map_err(|e| StoreError::Corrupt(format!("cannot start writer thread: {e}")))?;
        Ok(SqliteStore {
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Arc::new(ReaderPool { path, idle: Mutex::new(Vec::new()) }),
        })
    }

    /// Queues `f` for the writer (now, in call order); the result arrives after the commit.
    fn write<T: Send + 'static>(
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
        Ok(oxim_sqlite::open_reader(&self.path, &SETTINGS)?)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < 8 {
            idle.push(conn);
        }
    }
}

/// Per-stream state the writer keeps in memory.
#[derive(Clone, Copy, Default)]
struct StreamHead {
    max_seq: u64,
    last_time_ms: i64,
}

/// What the writer keeps in memory between batches.
struct WriterState {
    /// Head of each stream, filled on first use.
    heads: HashMap<String, StreamHead>,
    /// Last change version handed out.
    version: u64,
    /// Member ids of groups (the fan-out list of group messages), filled on first use.
    group_members: HashMap<String, Arc<Vec<String>>>,
    /// Member limits per group type.
    member_limits: MemberLimits,
    /// Recent attribute writes per group (the server's rate limit).
    attr_writes: HashMap<String, std::collections::VecDeque<std::time::Instant>>,
}

fn parse_msg(body: &str) -> StoreResult<WireMessage> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored message: {e}")))
}

impl WriterState {
    fn load(conn: &Connection) -> rusqlite::Result<WriterState> {
        let version: Option<i64> =
            conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| r.get(0)).optional()?;
        Ok(WriterState {
            heads: HashMap::new(),
            version: version.unwrap_or(0) as u64,
            group_members: HashMap::new(),
            member_limits: MemberLimits::default(),
            attr_writes: HashMap::new(),
        })
    }

    /// The next change version (gaps are harmless; it only has to grow).
    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Drops the caches (after a rollback they may be ahead of the database).
    fn forget_cached(&mut self) {
        self.heads.clear();
        self.group_members.clear();
    }

    fn head(&mut self, tx: &Connection, key: &str) -> rusqlite::Result<StreamHead> {
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

    fn register_user(&mut self, tx: &Connection, user: &str) -> StoreResult<()> {
        tx.prepare_cached("INSERT OR IGNORE INTO user (user_id, created_ms) VALUES (?1, ?2)")?
            .execute(params![user, now_ms()])?;
        Ok(())
    }

    /// Appends `msg` to `target`'s stream (deduplicating on msg_id).
    fn append(&mut self, tx: &Connection, target: &Target, mut msg: WireMessage) -> StoreResult<Appended> {
        // Members who chose to receive nothing of this conversation are not pushed to (their
        // sync skips it too); the sender's own devices always are.
        let mut recipients = Vec::with_capacity(target.members.len());
        for (user, view) in &target.members {
            if *user == msg.sender || !self.receives_nothing(tx, user, view)? {
                recipients.push(user.clone());
            }
        }
        // A resend gets the original back.
        let existing: Option<(String, String)> = tx
            .prepare_cached("SELECT sender, body FROM msg WHERE msg_id = ?1")?
            .query_row([&msg.msg_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((sender, body)) = existing {
            if sender != msg.sender {
                return Err(StoreError::MsgIdTaken(msg.msg_id));
            }
            return Ok(Appended { msg: parse_msg(&body)?, duplicate: true, recipients });
        }

        let head = self.head(tx, &target.key)?;
        let seq = head.max_seq + 1;
        let time_ms = now_ms().max(head.last_time_ms);
        let version = self.version + 1;
        if msg.msg_id.is_empty() {
            // Server-made notices and events: ids that no client id (hex) can collide with.
            msg.msg_id = format!("{}#{seq}", target.key);
        }
        msg.seq = seq;
        msg.time_ms = time_ms;
        let body = serde_json::to_string(&msg).expect("message serialisation");
        let kind = match &msg.elem {
            e if e.is_notice() => conversations::KIND_NOTICE,
            Elem::GroupTips { .. } => conversations::KIND_TIPS,
            _ => conversations::KIND_MESSAGE,
        };
        if kind != conversations::KIND_NOTICE {
            // Something new: a conversation its users deleted is back in their lists.
            tx.prepare_cached("UPDATE user_conv SET deleted = 0 WHERE conv_key = ?1 AND deleted = 1")?
                .execute([&target.key])?;
        }
        tx.prepare_cached(
            "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![target.key, seq as i64, msg.msg_id, msg.sender, time_ms, body, kind])?;
        tx.prepare_cached(
            "INSERT INTO conv (conv_key, max_seq, version, last_time_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conv_key) DO UPDATE SET max_seq = excluded.max_seq, version = excluded.version,
                                                  last_time_ms = excluded.last_time_ms",
        )?
        .execute(params![target.key, seq as i64, version as i64, time_ms])?;
        if seq == 1 {
            let mut add = tx.prepare_cached(
                "INSERT OR IGNORE INTO user_conv (user_id, conv_id, conv_key, version) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (user, view) in &target.members {
                add.execute(params![user, view.to_string(), target.key, version as i64])?;
            }
        }
        let files = msg.elem.file_uuids();
        if !files.is_empty() {
            let mut add = tx.prepare_cached("INSERT OR IGNORE INTO file_ref (uuid, conv_key) VALUES (?1, ?2)")?;
            for uuid in files {
                add.execute(params![uuid, target.key])?;
            }
        }
        // Only now, with every statement done, does the in-memory state move on.
        self.heads.insert(target.key.clone(), StreamHead { max_seq: seq, last_time_ms: time_ms });
        self.version = version;
        Ok(Appended { msg, duplicate: false, recipients })
    }

    /// Appends `event` to `user`'s own stream.
    fn user_event(&mut self, tx: &Connection, user: &str, event: UserEvent) -> StoreResult<Appended> {
        let mut msg = WireMessage::new("", Elem::Event { event });
        msg.sender = user.to_owned();
        msg.receiver = user.to_owned();
        self.append(tx, &sys_target(user), msg)
    }

    fn revoke(
        &mut self,
        tx: &Connection,
        user: &str,
        target: &Target,
        msg_id: &str,
        window_ms: i64,
    ) -> StoreResult<Written> {
        let row: Option<(i64, String, i64, String, i64)> = tx
            .prepare_cached(
                "SELECT seq, sender, time_ms, body, revoked FROM msg WHERE msg_id = ?1 AND conv_key = ?2 AND kind = 0",
            )?
            .query_row(params![msg_id, target.key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let Some((seq, sender, time_ms, body, revoked)) = row else {
            return Err(StoreError::refused(code::SVR_REVOKE_MSG_NOT_FOUND, format!("message {msg_id} not found")));
        };
        if sender != user {
            return Err(StoreError::refused(code::SVR_REVOKE_MSG_DENY, "only the sender may revoke a message"));
        }
        if revoked != 0 {
            return Ok(Written { appended: Vec::new(), seq: seq as u64 });
        }
        if now_ms() - time_ms > window_ms {
            let code = if group_of_key(&target.key).is_some() {
                code::SVR_GROUP_REVOKE_MSG_TIME_LIMIT
            } else {
                code::SVR_MSG_REVOKE_TIME_LIMIT
            };
            return Err(StoreError::refused(code, format!("messages can be revoked for {} s", window_ms / 1000)));
        }
        let mut original = parse_msg(&body)?;
        original.revoked = true;
        tx.prepare_cached("UPDATE msg SET revoked = 1, body = ?3 WHERE conv_key = ?1 AND seq = ?2")?
            .execute(params![target.key, seq, serde_json::to_string(&original).expect("message serialisation")])?;
        let mut notice = WireMessage::new("", Elem::Revoke { msg_id: msg_id.to_owned() });
        notice.sender = user.to_owned();
        notice.receiver = original.receiver.clone();
        notice.group_id = original.group_id.clone();
        let appended = self.append(tx, target, notice)?;
        let seq = appended.msg.seq;
        Ok(Written { appended: vec![appended], seq })
    }

    /// The user's row for a stream, creating it (the user may read or clear a conversation that
    /// has no message for them yet: nothing to do then).
    fn user_row(&mut self, tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<Option<(String, u64, u64)>> {
        Ok(tx
            .prepare_cached(
                "SELECT conv_key, read_seq, cleared_seq FROM user_conv WHERE user_id = ?1 AND conv_id = ?2",
            )?
            .query_row(params![user, conv.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64))
            })
            .optional()?)
    }

    fn mark_read(&mut self, tx: &Connection, user: &str, conv: &ConvId, seq: u64) -> StoreResult<Written> {
        let Some((key, read_seq, _)) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        let max_seq = self.head(tx, &key)?.max_seq;
        let wanted = if seq == 0 { max_seq } else { seq.min(max_seq) };
        if wanted <= read_seq {
            return Ok(Written { appended: Vec::new(), seq: read_seq });
        }
        tx.prepare_cached("UPDATE user_conv SET read_seq = ?3 WHERE user_id = ?1 AND conv_id = ?2")?
            .execute(params![user, conv.to_string(), wanted as i64])?;
        let mut appended = vec![self.user_event(tx, user, UserEvent::Read { conv_id: conv.clone(), seq: wanted })?];
        // A receipt only when something the peer wrote was newly read.
        let peer_wrote = |peer: &str| -> StoreResult<bool> {
            Ok(tx
                .prepare_cached(
                    "SELECT 1 FROM msg WHERE conv_key = ?1 AND seq > ?2 AND seq <= ?3 AND sender = ?4 AND kind = 0 LIMIT 1",
                )?
                .query_row(params![key, read_seq as i64, wanted as i64, peer], |_| Ok(()))
                .optional()?
                .is_some())
        };
        if let ConvId::C2C(peer) = conv
            && peer != user
            && peer_wrote(peer)?
        {
            let receipt = UserEvent::PeerRead { conv_id: ConvId::C2C(user.to_owned()), seq: wanted, time_ms: now_ms() };
            appended.push(self.user_event(tx, peer, receipt)?);
        }
        Ok(Written { appended, seq: wanted })
    }

    fn delete_for_user(
        &mut self,
        tx: &Connection,
        user: &str,
        conv: &ConvId,
        msg_ids: &[String],
    ) -> StoreResult<Written> {
        let Some((key, _, _)) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        let mut hidden = Vec::new();
        for id in msg_ids {
            let seq: Option<i64> = tx
                .prepare_cached("SELECT seq FROM msg WHERE msg_id = ?1 AND conv_key = ?2")?
                .query_row(params![id, key], |r| r.get(0))
                .optional()?;
            if let Some(seq) = seq {
                tx.prepare_cached("INSERT OR IGNORE INTO msg_hidden (user_id, conv_key, seq) VALUES (?1, ?2, ?3)")?
                    .execute(params![user, key, seq])?;
                hidden.push(id.clone());
            }
        }
        if hidden.is_empty() {
            return Ok(Written::default());
        }
        let event = UserEvent::Deleted { conv_id: conv.clone(), msg_ids: hidden };
        Ok(Written { appended: vec![self.user_event(tx, user, event)?], seq: 0 })
    }

    fn clear_for_user(&mut self, tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<Written> {
        let Some((key, _, cleared)) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        let max_seq = self.head(tx, &key)?.max_seq;
        if max_seq <= cleared {
            return Ok(Written { appended: Vec::new(), seq: cleared });
        }
        // Clearing also reads everything: nothing cleared can stay unread.
        tx.prepare_cached(
            "UPDATE user_conv SET cleared_seq = ?3, read_seq = max(read_seq, ?3) WHERE user_id = ?1 AND conv_id = ?2",
        )?
        .execute(params![user, conv.to_string(), max_seq as i64])?;
        let event = UserEvent::Cleared { conv_id: conv.clone(), seq: max_seq };
        Ok(Written { appended: vec![self.user_event(tx, user, event)?], seq: max_seq })
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
                state.version = WriterState::load(&conn).map(|s| s.version).unwrap_or(snapshot_version);
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

/// The part of a stream a user sees: after `from` (cleared, or joined later), up to `until`
/// (a former group member's last seq; `i64::MAX` = no bound).
struct View {
    from: i64,
    until: i64,
}

/// `user`'s view of stream `key`. A group the user never belonged to has none (they see
/// nothing of it); other streams start empty.
fn view_of(c: &Connection, user: &str, key: &str) -> StoreResult<Option<View>> {
    let row: Option<(i64, i64)> = c
        .prepare_cached("SELECT cleared_seq, until_seq FROM user_conv WHERE user_id = ?1 AND conv_key = ?2")?
        .query_row(params![user, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((from, until)) => Some(View { from, until: if until > 0 { until } else { i64::MAX } }),
        None if group_of_key(key).is_some() => None,
        None => Some(View { from: 0, until: i64::MAX }),
    })
}

fn not_a_member(key: &str) -> StoreError {
    let group = group_of_key(key).unwrap_or(key);
    StoreError::refused(code::SVR_GROUP_PERMISSION_DENY, format!("you are not a member of group {group}"))
}

#[async_trait]
impl Store for SqliteStore {
    async fn register_user(&self, user_id: &str) -> StoreResult<()> {
        let user = user_id.to_owned();
        self.write(move |tx, state| state.register_user(tx, &user)).await
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

    fn append(&self, target: Target, msg: WireMessage) -> Queued<Appended> {
        self.write(move |tx, state| state.append(tx, &target, msg))
    }

    fn revoke(&self, user: &str, target: Target, msg_id: &str, window_ms: i64) -> Queued<Written> {
        let (user, msg_id) = (user.to_owned(), msg_id.to_owned());
        self.write(move |tx, state| state.revoke(tx, &user, &target, &msg_id, window_ms))
    }

    fn mark_read(&self, user: &str, conv: &ConvId, seq: u64) -> Queued<Written> {
        let (user, conv) = (user.to_owned(), conv.clone());
        self.write(move |tx, state| state.mark_read(tx, &user, &conv, seq))
    }

    fn delete_for_user(&self, user: &str, conv: &ConvId, msg_ids: Vec<String>) -> Queued<Written> {
        let (user, conv) = (user.to_owned(), conv.clone());
        self.write(move |tx, state| state.delete_for_user(tx, &user, &conv, &msg_ids))
    }

    fn clear_for_user(&self, user: &str, conv: &ConvId) -> Queued<Written> {
        let (user, conv) = (user.to_owned(), conv.clone());
        self.write(move |tx, state| state.clear_for_user(tx, &user, &conv))
    }

    async fn changed_conversations(&self, user_id: &str, since: u64, limit: u32) -> StoreResult<Vec<ConvState>> {
        let user = user_id.to_owned();
        self.read(move |c| {
            // A former member's group ends at until_seq and no longer changes for them; a group
            // the user does not receive (recv_opt 1) changes only by the user's own doing.
            let mut stmt = c.prepare_cached(
                "SELECT uc.conv_id,
                        CASE WHEN uc.until_seq > 0 THEN min(c.max_seq, uc.until_seq) ELSE c.max_seq END,
                        CASE WHEN uc.until_seq > 0 OR uc.recv_opt = 1 THEN uc.version
                             ELSE max(c.version, uc.version) END AS v,
                        uc.read_seq, uc.recv_opt, uc.pinned, uc.deleted,
                        g.group_type, g.name, g.face_url
                   FROM user_conv uc JOIN conv c ON c.conv_key = uc.conv_key
                   LEFT JOIN grp g ON uc.conv_key LIKE 'group:%' AND g.group_id = substr(uc.conv_key, 7)
                  WHERE uc.user_id = ?1 AND v > ?2
                  ORDER BY v LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![user, since as i64, limit as i64], |r| {
                let group = match r.get::<_, Option<String>>(7)? {
                    Some(group_type) => Some(ConvGroup { group_type, name: r.get(8)?, face_url: r.get(9)? }),
                    None => None,
                };
                Ok((
                    r.get::<_, String>(0)?,
                    ConvState {
                        conv_id: ConvId::System,
                        max_seq: r.get::<_, i64>(1)? as u64,
                        version: r.get::<_, i64>(2)? as u64,
                        read_seq: r.get::<_, i64>(3)? as u64,
                        recv_opt: r.get(4)?,
                        pinned: r.get(5)?,
                        deleted: r.get(6)?,
                        group,
                    },
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (conv_id, mut state) = row?;
                state.conv_id =
                    ConvId::parse(&conv_id).ok_or_else(|| StoreError::Corrupt(format!("conversation id {conv_id}")))?;
                out.push(state);
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
        let user = user_id.to_owned();
        let key = conv_key(user_id, conv);
        let up_to = if up_to == 0 { i64::MAX } else { up_to as i64 };
        self.read(move |c| {
            let max_seq: i64 = c
                .prepare_cached("SELECT max_seq FROM conv WHERE conv_key = ?1")?
                .query_row([&key], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let view = view_of(c, &user, &key)?.ok_or_else(|| not_a_member(&key))?;
            let max_seq = max_seq.min(view.until);
            let from = (after as i64).max(view.from);
            let up_to = up_to.min(view.until);
            let mut stmt = c.prepare_cached(
                "SELECT m.body FROM msg m
                  WHERE m.conv_key = ?1 AND m.seq > ?2 AND m.seq <= ?3
                    AND NOT EXISTS (SELECT 1 FROM msg_hidden h WHERE h.user_id = ?5 AND h.conv_key = ?1 AND h.seq = m.seq)
                  ORDER BY m.seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![key, from, up_to, limit as i64, user], |r| r.get::<_, String>(0))?;
            let mut msgs = Vec::new();
            for body in rows {
                msgs.push(parse_msg(&body?)?);
            }
            Ok((msgs, max_seq as u64))
        })
        .await
    }

    async fn history(&self, user_id: &str, conv: &ConvId, before: u64, limit: u32) -> StoreResult<HistoryPage> {
        let user = user_id.to_owned();
        let key = conv_key(user_id, conv);
        let before = if before == 0 { i64::MAX } else { before as i64 };
        self.read(move |c| {
            let view = view_of(c, &user, &key)?.ok_or_else(|| not_a_member(&key))?;
            let floor = view.from;
            let before = before.min(view.until.saturating_add(1));
            let mut stmt = c.prepare_cached(
                "SELECT m.seq, m.body FROM msg m
                  WHERE m.conv_key = ?1 AND m.seq < ?2 AND m.seq > ?3
                    AND NOT EXISTS (SELECT 1 FROM msg_hidden h WHERE h.user_id = ?5 AND h.conv_key = ?1 AND h.seq = m.seq)
                  ORDER BY m.seq DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![key, before, floor, limit as i64, user], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut msgs = Vec::new();
            let mut lowest = None;
            for row in rows {
                let (seq, body) = row?;
                lowest = Some(seq);
                msgs.push(parse_msg(&body)?);
            }
            let reached_start = (msgs.len() as u32) < limit;
            let covered_from = if reached_start { floor + 1 } else { lowest.unwrap_or(floor + 1) };
            Ok(HistoryPage { msgs, covered_from: covered_from as u64, reached_start })
        })
        .await
    }

    async fn file_shared_with(&self, user_id: &str, uuid: &str) -> StoreResult<bool> {
        let (user, uuid) = (user_id.to_owned(), uuid.to_owned());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM file_ref f JOIN user_conv uc ON uc.conv_key = f.conv_key
                  WHERE f.uuid = ?1 AND uc.user_id = ?2 LIMIT 1",
            )?
            .query_row(params![uuid, user], |_| Ok(()))
            .optional()?
            .is_some())
        })
        .await
    }

    async fn unread_counts(&self, user: &str, ranges: Vec<SeqRange>) -> StoreResult<Vec<u64>> {
        let user = user.to_owned();
        self.read(move |c| {
            ranges
                .iter()
                .map(|r| conversations::unread_count(c, &user, &conv_key(&user, &r.conv_id), r.after_seq, r.up_to_seq))
                .collect()
        })
        .await
    }

    fn delete_conversation(&self, user: &str, conv: &ConvId) -> Queued<Written> {
        let (user, conv) = (user.to_owned(), conv.clone());
        self.write(move |tx, state| state.delete_conversation(tx, &user, &conv))
    }

    fn pin_conversation(&self, user: &str, conv: &ConvId, pinned: bool) -> Queued<Written> {
        let (user, conv) = (user.to_owned(), conv.clone());
        self.write(move |tx, state| state.pin_conversation(tx, &user, &conv, pinned))
    }

    fn set_c2c_recv_opt(&self, user: &str, peers: Vec<String>, opt: i32) -> Queued<Written> {
        let user = user.to_owned();
        self.write(move |tx, state| state.set_c2c_recv_opt(tx, &user, &peers, opt))
    }

    async fn c2c_recv_opts(&self, user: &str, peers: Vec<String>) -> StoreResult<Vec<RecvOptInfo>> {
        let user = user.to_owned();
        self.read(move |c| conversations::c2c_recv_opts(c, &user, &peers)).await
    }

    fn group_write(&self, user: &str, op: GroupOp) -> Queued<GroupOutcome> {
        let user = user.to_owned();
        self.write(move |tx, state| state.group_op(tx, &user, op))
    }

    fn group_send(&self, msg: WireMessage) -> Queued<Appended> {
        self.write(move |tx, state| state.group_send(tx, msg))
    }

    async fn group(&self, group_id: &str) -> StoreResult<Option<GroupRow>> {
        let id = group_id.to_owned();
        self.read(move |c| groups::load_group(c, &id)).await
    }

    async fn groups_info(&self, user: &str, group_ids: Vec<String>) -> StoreResult<Vec<Option<GroupInfo>>> {
        let user = user.to_owned();
        self.read(move |c| group_ids.iter().map(|id| groups::group_info_for(c, id, &user)).collect()).await
    }

    async fn joined_groups(&self, user: &str) -> StoreResult<Vec<GroupInfo>> {
        let user = user.to_owned();
        self.read(move |c| groups::joined_groups(c, &user)).await
    }

    async fn group_member_page(
        &self,
        group_id: &str,
        filter: i32,
        next_seq: u64,
        limit: u32,
    ) -> StoreResult<(Vec<MemberInfo>, u64)> {
        let id = group_id.to_owned();
        self.read(move |c| groups::member_page(c, &id, filter, next_seq, limit)).await
    }

    async fn group_members_info(&self, group_id: &str, users: Vec<String>) -> StoreResult<Vec<MemberInfo>> {
        let id = group_id.to_owned();
        self.read(move |c| {
            let mut out = Vec::new();
            for u in &users {
                out.extend(groups::load_member(c, &id, u)?);
            }
            Ok(out)
        })
        .await
    }

    async fn group_members(&self, group_id: &str) -> StoreResult<Option<Vec<String>>> {
        let id = group_id.to_owned();
        self.read(move |c| match groups::load_group(c, &id)? {
            Some(g) if g.rules().persistent_members => Ok(Some(groups::member_ids(c, &id)?)),
            _ => Ok(None),
        })
        .await
    }

    async fn group_applications(&self, user: &str) -> StoreResult<(u32, Vec<GroupApplication>)> {
        let user = user.to_owned();
        self.read(move |c| groups::applications_for(c, &user)).await
    }

    fn signal_invite(&self, invitation: Invitation, members: Option<Vec<String>>) -> Queued<Signaled> {
        self.write(move |tx, state| state.signal_invite(tx, invitation, members))
    }

    fn signal_act(
        &self,
        invite_id: &str,
        user: &str,
        act: SignalAct,
        action_id: &str,
        data: &str,
        members: Option<Vec<String>>,
    ) -> Queued<Signaled> {
        let (id, user, action_id, data) =
            (invite_id.to_owned(), user.to_owned(), action_id.to_owned(), data.to_owned());
        self.write(move |tx, state| state.signal_act(tx, &id, &user, act, &action_id, &data, members))
    }

    fn signal_expire(&self, invite_id: &str, members: Option<Vec<String>>) -> Queued<Signaled> {
        let id = invite_id.to_owned();
        self.write(move |tx, state| state.signal_expire(tx, &id, members))
    }

    async fn invitation(&self, invite_id: &str) -> StoreResult<Option<Invitation>> {
        let id = invite_id.to_owned();
        self.read(move |c| signaling::load(c, &id)).await
    }

    async fn invitation_deadlines(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(signaling::deadlines).await
    }

    async fn close(&self) {
        // The checkpointer first: the writer's last act is a full (TRUNCATE) checkpoint.
        let checkpointer = self.checkpointer.lock().expect("checkpointer lock").take();
        if let Some(c) = checkpointer {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
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
    use crate::domain::keys::c2c_target;

    fn text(id: &str, from: &str, to: &str) -> WireMessage {
        let mut m = WireMessage::new(id, Elem::Text { text: format!("text of {id}") });
        m.sender = from.into();
        m.receiver = to.into();
        m
    }

    async fn send(store: &SqliteStore, id: &str, from: &str, to: &str) -> Appended {
        store.append(c2c_target(from, to), text(id, from, to)).await.unwrap()
    }

    #[tokio::test]
    async fn seqs_are_per_conversation_dedup_returns_the_original_and_restart_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            let a1 = send(&store, "m1", "alice", "bob").await;
            let a2 = send(&store, "m2", "bob", "alice").await;
            let c1 = send(&store, "m3", "alice", "carol").await;
            assert_eq!((a1.msg.seq, a2.msg.seq, c1.msg.seq), (1, 2, 1));
            assert!(a2.msg.time_ms >= a1.msg.time_ms, "time never goes back along a stream");
            let again = send(&store, "m1", "alice", "bob").await;
            assert!(again.duplicate);
            assert_eq!((again.msg.seq, again.msg.time_ms), (1, a1.msg.time_ms));
            // The same id from someone else is refused, not merged.
            let stolen = store.append(c2c_target("mallory", "bob"), text("m1", "mallory", "bob")).await;
            assert!(matches!(stolen, Err(StoreError::MsgIdTaken(_))));
            store.close().await;
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let next = send(&store, "m4", "bob", "alice").await;
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
    async fn a_database_written_by_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path()).unwrap().close().await;
        let newer = MIGRATIONS.len() as i64 + 1;
        Connection::open(dir.path().join("oxim.db")).unwrap().pragma_update(None, "user_version", newer).unwrap();
        let err = SqliteStore::open(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::Schema(oxim_sqlite::MigrateError::TooNew { .. })), "{err}");
    }

    #[tokio::test]
    async fn changed_conversations_are_incremental() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        send(&store, "x1", "alice", "bob").await;
        send(&store, "x2", "carol", "alice").await;
        let all = store.changed_conversations("alice", 0, 100).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].version < all[1].version);
        let since = all[1].version;
        assert!(store.changed_conversations("alice", since, 100).await.unwrap().is_empty());
        send(&store, "x3", "bob", "alice").await;
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
            tasks.push(tokio::spawn(async move { send(&store, &format!("c{i}"), "alice", "bob").await.msg.seq }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
        store.close().await;
    }

    #[tokio::test]
    async fn revoke_marks_the_message_and_appends_a_notice_only_for_the_sender_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        send(&store, "r1", "alice", "bob").await;
        let deny = store.revoke("bob", c2c_target("bob", "alice"), "r1", 120_000).await.unwrap_err();
        assert!(matches!(deny, StoreError::Refused { code: 10032, .. }));
        let missing = store.revoke("alice", c2c_target("alice", "bob"), "nope", 120_000).await.unwrap_err();
        assert!(matches!(missing, StoreError::Refused { code: 10030, .. }));
        let late = store.revoke("alice", c2c_target("alice", "bob"), "r1", -1).await.unwrap_err();
        assert!(matches!(late, StoreError::Refused { code: 20016, .. }));
        let done = store.revoke("alice", c2c_target("alice", "bob"), "r1", 120_000).await.unwrap();
        assert_eq!(done.seq, 2);
        assert!(matches!(&done.appended[0].msg.elem, Elem::Revoke { msg_id } if msg_id == "r1"));
        let again = store.revoke("alice", c2c_target("alice", "bob"), "r1", 120_000).await.unwrap();
        assert!(again.appended.is_empty(), "a second revoke adds no notice");
        let (msgs, _) = store.messages_after("bob", &ConvId::C2C("alice".into()), 0, 0, 10).await.unwrap();
        assert!(msgs[0].revoked);
        store.close().await;
    }

    #[tokio::test]
    async fn read_delete_and_clear_are_per_user_and_become_stream_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        for i in 0..4 {
            send(&store, &format!("d{i}"), "alice", "bob").await;
        }
        let bob_view = ConvId::C2C("alice".into());
        let read = store.mark_read("bob", &bob_view, 0).await.unwrap();
        assert_eq!(read.seq, 4);
        // An event on bob's stream, a receipt on alice's.
        assert_eq!(read.appended.len(), 2);
        assert_eq!(read.appended[0].recipients, ["bob"]);
        assert!(matches!(read.appended[1].msg.elem, Elem::Event { event: UserEvent::PeerRead { seq: 4, .. } }));
        assert_eq!(read.appended[1].recipients, ["alice"]);
        assert!(store.mark_read("bob", &bob_view, 2).await.unwrap().appended.is_empty(), "never moves back");

        store.delete_for_user("bob", &bob_view, vec!["d1".into(), "unknown".into()]).await.unwrap();
        let (msgs, _) = store.messages_after("bob", &bob_view, 0, 0, 10).await.unwrap();
        assert_eq!(msgs.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["d0", "d2", "d3"]);
        let (alices, _) = store.messages_after("alice", &ConvId::C2C("bob".into()), 0, 0, 10).await.unwrap();
        assert_eq!(alices.len(), 4, "deleting is for the deleting user only");

        let page = store.history("bob", &bob_view, 0, 2).await.unwrap();
        assert_eq!(page.msgs.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["d3", "d2"]);
        assert!(!page.reached_start);
        let page = store.history("bob", &bob_view, page.covered_from, 2).await.unwrap();
        assert_eq!(page.msgs.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["d0"]);
        assert!(page.reached_start);

        let cleared = store.clear_for_user("bob", &bob_view).await.unwrap();
        assert_eq!(cleared.seq, 4);
        assert!(store.messages_after("bob", &bob_view, 0, 0, 10).await.unwrap().0.is_empty());
        assert!(store.history("bob", &bob_view, 0, 10).await.unwrap().msgs.is_empty());
        let (bob_stream, _) = store.messages_after("bob", &ConvId::System, 0, 0, 10).await.unwrap();
        assert_eq!(bob_stream.len(), 3, "read, deleted, cleared");
        store.close().await;
    }

    fn invitation(id: &str, group: &str, invitees: &[&str], timeout: u32, online_only: bool, at_ms: i64) -> Invitation {
        let req = oxim_proto::signaling::InviteReq {
            invite_id: id.into(),
            group_id: group.into(),
            invitees: invitees.iter().map(|u| u.to_string()).collect(),
            data: "d".into(),
            online_only,
            timeout,
            offline_push: None,
        };
        Invitation::new("alice".into(), req, at_ms)
    }

    #[tokio::test]
    async fn invitations_change_state_with_their_messages_and_survive_a_restart() {
        use crate::domain::signaling::{InvitationState, InviteeState};
        let dir = tempfile::tempdir().unwrap();
        let members = vec!["alice".to_string(), "bob".into(), "carol".into(), "dave".into()];
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            // A group invitation: one message in the group conversation, for every member.
            let inv = invitation("g-inv", "g1", &["bob", "carol"], 0, false, now_ms());
            let done = store.signal_invite(inv.clone(), Some(members.clone())).await.unwrap();
            assert_eq!(done.appended.len(), 1);
            let a = &done.appended[0];
            assert_eq!((a.msg.seq, a.msg.group_id.as_str(), a.msg.msg_id.as_str()), (1, "g1", "g-inv#1#group"));
            assert_eq!(a.recipients, members);
            // A retry gets the original back; another inviter cannot take the id.
            let again = store.signal_invite(inv.clone(), Some(members.clone())).await.unwrap();
            assert!(again.appended[0].duplicate);
            assert_eq!(again.appended[0].msg.seq, 1);
            let mut stolen = inv.clone();
            stolen.inviter = "mallory".into();
            let err = store.signal_invite(stolen, Some(members.clone())).await.unwrap_err();
            assert!(matches!(err, StoreError::Refused { code: 6017, .. }));

            // Answers: refusals change nothing, an accept appends one message.
            let refused = store.signal_act("g-inv", "dave", SignalAct::Accept, "x1", "", Some(members.clone())).await;
            assert!(matches!(refused.unwrap_err(), StoreError::Refused { code: 8011, .. }));
            let ok = store.signal_act("g-inv", "bob", SignalAct::Accept, "x2", "yes", Some(members.clone())).await;
            assert_eq!(ok.unwrap().appended[0].msg.seq, 2);
            let (msgs, max) = store.messages_after("dave", &ConvId::Group("g1".into()), 0, 0, 10).await.unwrap();
            assert_eq!((msgs.len(), max), (2, 2));

            // An overdue C2C invitation (made 5 s ago with a 1 s timeout) and an online-only one.
            let old = invitation("c-inv", "", &["carol"], 1, false, now_ms() - 5_000);
            store.signal_invite(old, None).await.unwrap();
            let live = invitation("o-inv", "", &["bob"], 0, true, now_ms());
            let pushed = store.signal_invite(live, None).await.unwrap();
            assert_eq!((pushed.appended[0].msg.seq, pushed.appended[0].recipients.len()), (0, 2));
            assert!(store.messages_after("bob", &ConvId::C2C("alice".into()), 0, 0, 10).await.unwrap().0.is_empty());
            store.close().await;
        }
        // After a restart: the states and the deadline are still there.
        let store = SqliteStore::open(dir.path()).unwrap();
        let g = store.invitation("g-inv").await.unwrap().unwrap();
        assert_eq!(
            (g.state, g.invitees[0].state, g.invitees[1].state),
            (InvitationState::Active, InviteeState::Accepted, InviteeState::Pending)
        );
        let deadlines = store.invitation_deadlines().await.unwrap();
        assert_eq!(deadlines.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["c-inv"]);
        let expired = store.signal_expire("c-inv", None).await.unwrap();
        assert_eq!(expired.invitation.state, InvitationState::Ended);
        let msg = &expired.appended[0].msg;
        assert_eq!(
            (msg.msg_id.as_str(), msg.sender.as_str(), msg.receiver.as_str(), msg.seq),
            ("c-inv#5#carol", "alice", "carol", 2)
        );
        assert!(store.signal_expire("c-inv", None).await.unwrap().appended.is_empty(), "times out once");
        assert!(store.invitation_deadlines().await.unwrap().is_empty());
        store.close().await;
    }

    #[tokio::test]
    async fn files_are_shared_with_the_participants_of_conversations_they_were_sent_into() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut m = WireMessage::new(
            "f1",
            Elem::File {
                path: String::new(),
                file_name: "a.txt".into(),
                file: oxim_proto::message::FileRef { uuid: "u-1".into(), url: "/v1/files/u-1".into(), size: 1 },
            },
        );
        m.sender = "alice".into();
        m.receiver = "bob".into();
        store.append(c2c_target("alice", "bob"), m).await.unwrap();
        assert!(store.file_shared_with("bob", "u-1").await.unwrap());
        assert!(store.file_shared_with("alice", "u-1").await.unwrap());
        assert!(!store.file_shared_with("carol", "u-1").await.unwrap());
        assert!(!store.file_shared_with("bob", "u-2").await.unwrap());
        store.close().await;
    }
}
