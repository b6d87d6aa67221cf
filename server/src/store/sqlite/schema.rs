//! The database: its schema migrations and how every connection to it is opened.

use std::path::Path;

use rusqlite::Connection;

use crate::config::Durability;

/// Every connection of the store: 256 cached statements (a message send alone uses a dozen), and
/// a 10 s wait for locks (the writer, the readers and the checkpointer share one file).
pub(super) const SETTINGS: oxim_sqlite::Settings =
    oxim_sqlite::Settings { statement_cache: 256, busy_timeout: Some(std::time::Duration::from_secs(10)) };

/// Opens a read-write connection to the database at `path`.
pub(super) fn open(path: &Path) -> rusqlite::Result<Connection> {
    oxim_sqlite::open(path, &SETTINGS)
}

/// Opens the writer's connection. When every commit is fsynced before anyone is answered, its
/// WAL writes are gathered into writes of up to 124 KiB ([`oxim_sqlite::open_buffered`], which
/// needs that fsync): two `pwrite`s per page cost the writer more than its B-trees did
/// (docs/benchmarks.md, eighth round).
pub(super) fn open_writer(path: &Path, durability: Durability) -> rusqlite::Result<Connection> {
    match durability {
        Durability::Full => oxim_sqlite::open_buffered(path, &SETTINGS),
        Durability::Relaxed => open(path),
    }
}

/// Schema migrations, applied in order by [`oxim_sqlite::migrate`]; `PRAGMA user_version`
/// records how many ran. Only ever appended to.
pub(super) const MIGRATIONS: &[&str] = &[
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
    super::groups::MIGRATION,
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
    super::conversations::MIGRATION,
    // 6: profiles.
    super::profiles::MIGRATION,
    // 7: friends, friend applications, blacklists, friend groups.
    super::friendship::MIGRATION,
    // 8: devices registered for offline push.
    super::push::MIGRATION,
    // 9: which message (seq) of a stream carried a file, so that a file is served only to users
    // whose view of the stream includes that message (a group member who joined later or was
    // kicked does not get files sent outside their membership). Filled from the stored messages.
    "CREATE TABLE file_seq (
        uuid     TEXT NOT NULL,
        conv_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (uuid, conv_key, seq)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO file_seq (uuid, conv_key, seq)
        SELECT f.uuid, f.conv_key, m.seq FROM file_ref f
          JOIN msg m ON m.conv_key = f.conv_key AND m.kind = 0 AND m.revoked = 0 AND instr(m.body, f.uuid) > 0;",
    // 10: `file_seq` answers every question `file_ref` answered (a file's streams), exactly.
    "DROP TABLE file_ref;",
    // 11: who chose to receive nothing of a stream, which every append asks: one probe of a
    // small index (was one lookup per member).
    "CREATE INDEX user_conv_muted ON user_conv(conv_key, user_id) WHERE recv_opt = 1;",
    // 12: which count of a device's pushes a badge step belongs to (a push that fails for good
    // gives its step back to that count only).
    super::push::BADGE_EPOCH_MIGRATION,
    // 13: a stream's head (last seq, its time, the change version of its last append) is read
    // from its last message, not kept in a `conv` row rewritten by every append: one random page
    // fewer written (and checkpointed) per message (docs/benchmarks.md, fifth round). Messages
    // stored before keep version 0, except each stream's last, which takes its stream's version
    // (driven from `conv`: one probe of `msg` per stream, not a pass over every message).
    "ALTER TABLE msg ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    UPDATE msg SET version = (SELECT c.version FROM conv c WHERE c.conv_key = msg.conv_key)
     WHERE (conv_key, seq) IN (SELECT conv_key, max_seq FROM conv);
    DROP TABLE conv;",
    // 14: a user's row of a stream is found by its primary key (the user's conversation id
    // follows from the stream's key, `keys::conv_id_of`); the index on conv_key cost every new
    // conversation a random page per member (docs/benchmarks.md, sixth round).
    "DROP INDEX user_conv_by_key;",
    // 15: messages are stored in the order they arrive (a rowid table), found through a small
    // index on (conv_key, seq). Clustered by stream, every message went into a random page of
    // rows of ~300 bytes, which split often (a WITHOUT ROWID table suits rows under ~200);
    // now a batch's messages share the table's last page, and the random page is the
    // index's, whose entries are a tenth of that size (docs/benchmarks.md, sixth round).
    // The stored messages are copied once, as they lie (by stream): no sort, no temporary
    // table; only messages stored from now on go in arrival order.
    "CREATE TABLE msg_by_arrival (
        conv_key TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        msg_id   TEXT NOT NULL,
        sender   TEXT NOT NULL,
        time_ms  INTEGER NOT NULL,
        body     TEXT NOT NULL,
        kind     INTEGER NOT NULL DEFAULT 0,
        revoked  INTEGER NOT NULL DEFAULT 0,
        version  INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO msg_by_arrival (conv_key, seq, msg_id, sender, time_ms, body, kind, revoked, version)
        SELECT conv_key, seq, msg_id, sender, time_ms, body, kind, revoked, version FROM msg;
    DROP TABLE msg;
    ALTER TABLE msg_by_arrival RENAME TO msg;
    CREATE UNIQUE INDEX msg_by_stream ON msg(conv_key, seq);
    CREATE UNIQUE INDEX msg_by_id ON msg(msg_id);",
    // 16: one latest message time for all streams (the writer's `last_time_ms`, kept in `meta`
    // with each commit), not each stream's own: a stream's head is then its last seq alone,
    // which the stream index answers without reading the message (docs/benchmarks.md, seventh
    // round). Taken once from the messages stored.
    "INSERT OR REPLACE INTO meta (key, value) SELECT 'last_time_ms', coalesce(max(time_ms), 0) FROM msg;",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_seq_migration_fills_in_the_messages_already_stored() {
        let mut conn = Connection::open_in_memory().unwrap();
        oxim_sqlite::migrate(&mut conn, &MIGRATIONS[..8]).unwrap();
        let file = "0123456789abcdef0123456789abcdef";
        let body = format!(r#"{{"elem":{{"type":"file","file":{{"uuid":"{file}"}}}}}}"#);
        for (seq, revoked) in [(3, 0), (5, 1), (7, 0)] {
            conn.execute(
                "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body, kind, revoked)
                 VALUES ('group:w', ?1, ?2, 'olga', 0, ?3, 0, ?4)",
                rusqlite::params![seq, format!("m{seq}"), body, revoked],
            )
            .unwrap();
        }
        conn.execute("INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body, kind) VALUES ('group:w', 4, 'm4', 'olga', 0, '{}', 0)", []).unwrap();
        conn.execute("INSERT INTO file_ref (uuid, conv_key) VALUES (?1, 'group:w')", [file]).unwrap();
        oxim_sqlite::migrate(&mut conn, MIGRATIONS).unwrap();
        let seqs: Vec<i64> = conn
            .prepare("SELECT seq FROM file_seq WHERE uuid = ?1 AND conv_key = 'group:w' ORDER BY seq")
            .unwrap()
            .query_map([file], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(seqs, [3, 7], "the messages that carry the file, not the revoked one");
        let old_table: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'file_ref'", [], |r| r.get(0)).unwrap();
        assert_eq!(old_table, 0, "file_ref is gone once file_seq is filled from it");
    }

    #[tokio::test]
    async fn the_latest_message_time_is_taken_from_the_messages_stored() {
        use std::sync::Arc;

        use crate::domain::clock::ManualClock;
        use crate::store::Store;
        use crate::store::sqlite::testing::send;
        use crate::store::sqlite::{Options, SqliteStore};

        let dir = tempfile::tempdir().unwrap();
        {
            // A database as the server before migration 16 left it: each stream's time in its
            // last message only.
            let mut conn = open(&dir.path().join("oxim.db")).unwrap();
            oxim_sqlite::migrate(&mut conn, &MIGRATIONS[..15]).unwrap();
            for (key, id, time) in [("c2c:alice bob", "ab1", 9_000), ("c2c:alice carol", "ac1", 5_000)] {
                conn.execute(
                    "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body) VALUES (?1, 1, ?2, 'alice', ?3, '{}')",
                    rusqlite::params![key, id, time],
                )
                .unwrap();
            }
        }
        // The wall clock now reads earlier than the messages stored.
        let clock = Arc::new(ManualClock::new(1_000));
        let store = SqliteStore::open_with(dir.path(), Options { clock, ..Options::default() }).unwrap();
        let next = send(&store, "de1", "dave", "erin").await;
        assert_eq!(next.msg.time_ms, 9_000, "a new stream's first message is not dated before the latest stored");
        store.close().await;
    }

    #[tokio::test]
    async fn streams_stored_before_the_conv_table_went_keep_their_heads_and_versions() {
        use oxim_proto::ids::ConvId;

        use crate::domain::keys::c2c_target;
        use crate::store::sqlite::SqliteStore;
        use crate::store::sqlite::testing::text;
        use crate::store::{ConversationStore, MessageStore, Store};

        let dir = tempfile::tempdir().unwrap();
        {
            // A database as the server before migration 13 left it: heads and versions in `conv`.
            let mut conn = open(&dir.path().join("oxim.db")).unwrap();
            oxim_sqlite::migrate(&mut conn, &MIGRATIONS[..12]).unwrap();
            let streams = [("c2c:alice bob", "bob", 3, 7), ("c2c:alice carol", "carol", 1, 9)];
            for (key, peer, last, version) in streams {
                for seq in 1..=last {
                    let mut m = text(&format!("{peer}{seq}"), "alice", peer);
                    (m.seq, m.time_ms) = (seq as u64, 1000 * seq);
                    conn.execute(
                        "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body, kind) VALUES (?1, ?2, ?3, 'alice', ?4, ?5, 0)",
                        rusqlite::params![key, seq, m.msg_id, m.time_ms, serde_json::to_string(&m).unwrap()],
                    )
                    .unwrap();
                }
                conn.execute(
                    "INSERT INTO conv (conv_key, max_seq, version, last_time_ms) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![key, last, version, 1000 * last],
                )
                .unwrap();
                for (user, view) in [("alice", ConvId::C2C(peer.into())), (peer, ConvId::C2C("alice".into()))] {
                    conn.execute(
                        "INSERT INTO user_conv (user_id, conv_id, conv_key, version) VALUES (?1, ?2, ?3, 5)",
                        rusqlite::params![user, view.to_string(), key],
                    )
                    .unwrap();
                }
            }
            conn.execute("INSERT INTO meta (key, value) VALUES ('version', 9)", []).unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let heads = |list: Vec<oxim_proto::payload::ConvState>| {
            let mut heads: Vec<_> = list.into_iter().map(|c| (c.conv_id.to_string(), c.max_seq, c.version)).collect();
            heads.sort();
            heads
        };
        let bob = ConvId::C2C("bob".into()).to_string();
        let carol = ConvId::C2C("carol".into()).to_string();
        assert_eq!(
            heads(store.changed_conversations("alice", 0, 10).await.unwrap()),
            [(bob.clone(), 3, 7), (carol.clone(), 1, 9)],
            "each stream's head and version, as `conv` had them"
        );
        let next = store.append(c2c_target("alice", "bob"), text("bob4", "alice", "bob")).await.unwrap();
        assert_eq!(next.msg.seq, 4, "seqs go on from the stored head");
        let resent = store.append(c2c_target("alice", "bob"), text("bob2", "alice", "bob")).await.unwrap();
        assert!(resent.duplicate && resent.msg.seq == 2, "a message stored before is still found by its id");
        assert!(next.msg.time_ms >= 3000, "times never go back");
        assert_eq!(heads(store.changed_conversations("alice", 9, 10).await.unwrap()), [(bob, 4, 10)]);
        let (msgs, max_seq) = store.messages_after("bob", &ConvId::C2C("alice".into()), 0, 0, 10).await.unwrap();
        assert_eq!((msgs.len(), max_seq), (4, 4));
        let conv_table: i64 = Connection::open(dir.path().join("oxim.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'conv'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(conv_table, 0, "conv is gone");
        store.close().await;
    }
}
