//! The user's conversation state on the server: the list's changes since a version, deletion,
//! pins, receive options, and the unread count of a range (for devices that did not download a conversation's older messages).
//! Unread is always computed from the messages and the read position, never counted up.

use async_trait::async_trait;
use oxim_proto::code;
use oxim_proto::ids::ConvId;
use oxim_proto::message::UserEvent;
use oxim_proto::payload::{ConvGroup, ConvState, RecvOptInfo, SeqRange};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::views::{not_a_member, view_of};
use super::writer::WriterState;
use crate::domain::keys::conv_key;
use crate::store::{ConversationStore, Queued, StoreError, StoreResult, Written};

/// Migration 5: conversation pins and deletion; group tips get their own message kind.
pub(super) const MIGRATION: &str = "
    ALTER TABLE user_conv ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    -- 1 once the user deleted the conversation; a new message clears it.
    ALTER TABLE user_conv ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX user_conv_deleted ON user_conv(conv_key) WHERE deleted = 1;";

/// `msg.kind` of ordinary messages (the only ones unread counts).
pub(super) const KIND_MESSAGE: i64 = 0;
/// `msg.kind` of notices and user-stream events.
pub(super) const KIND_NOTICE: i64 = 1;
/// `msg.kind` of group tips: shown, never counted as unread.
pub(super) const KIND_TIPS: i64 = 2;

/// Unread-countable messages of `user` in `(after, up_to]` of stream `key`: not the user's own,
/// not revoked, not hidden (deleted) or cleared for the user, not notices or tips, and only what
/// the user sees of the stream (a former member's view ends at their leaving; a group the user
/// never belonged to is refused, as its pulls are).
fn unread_count(c: &Connection, user: &str, key: &str, after: u64, up_to: u64) -> StoreResult<u64> {
    let view = view_of(c, user, key)?.ok_or_else(|| not_a_member(key))?;
    let from = (after as i64).max(view.from);
    let up_to = (up_to.min(i64::MAX as u64) as i64).min(view.until);
    if up_to <= from {
        return Ok(0);
    }
    Ok(c.prepare_cached(
        "SELECT count(*) FROM msg m
          WHERE m.conv_key = ?1 AND m.seq > ?2 AND m.seq <= ?3 AND m.kind = 0 AND m.revoked = 0 AND m.sender != ?4
            AND NOT EXISTS (SELECT 1 FROM msg_hidden h WHERE h.user_id = ?4 AND h.conv_key = ?1 AND h.seq = m.seq)",
    )?
    .query_row(params![key, from, up_to, user], |r| r.get::<_, i64>(0))? as u64)
}

/// The receive options `user` set for C2C peers (0 where none was set).
fn recv_opts_of(c: &Connection, user: &str, peers: &[String]) -> StoreResult<Vec<RecvOptInfo>> {
    let mut stmt = c.prepare_cached("SELECT recv_opt FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?;
    let mut out = Vec::new();
    for peer in peers {
        let opt: Option<i32> =
            stmt.query_row(params![user, ConvId::C2C(peer.clone()).to_string()], |r| r.get(0)).optional()?;
        out.push(RecvOptInfo { user_id: peer.clone(), opt: opt.unwrap_or(0) });
    }
    Ok(out)
}

/// Stream key of `user`'s conversation with a row, or 6004.
fn known(tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<String> {
    tx.prepare_cached("SELECT conv_key FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?
        .query_row(params![user, conv.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::refused(code::INVALID_CONVERSATION, format!("no conversation {conv}")))
}

impl WriterState {
    /// Deletes `conv` for `user`: its messages are cleared for the user and it leaves the list
    /// until a new message arrives. The user's devices are told.
    pub(super) fn delete_conversation(&mut self, tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<Written> {
        let key = known(tx, user, conv)?;
        let max_seq = self.head(tx, &key)?.max_seq;
        let version = self.next_version();
        tx.prepare_cached(
            "UPDATE user_conv SET deleted = 1, pinned = 0, version = ?4,
                    cleared_seq = max(cleared_seq, ?3), read_seq = max(read_seq, ?3)
              WHERE user_id = ?1 AND conv_id = ?2",
        )?
        .execute(params![user, conv.to_string(), max_seq as i64, version as i64])?;
        let event = UserEvent::ConvDeleted { conv_id: conv.clone(), seq: max_seq };
        Ok(Written { appended: vec![self.user_event(tx, user, event)?], seq: max_seq })
    }

    /// Pins or unpins `conv` for `user` and tells the user's devices.
    pub(super) fn pin_conversation(
        &mut self,
        tx: &Connection,
        user: &str,
        conv: &ConvId,
        pinned: bool,
    ) -> StoreResult<Written> {
        known(tx, user, conv)?;
        let version = self.next_version();
        let changed = tx
            .prepare_cached(
                "UPDATE user_conv SET pinned = ?3, version = ?4 WHERE user_id = ?1 AND conv_id = ?2 AND pinned != ?3",
            )?
            .execute(params![user, conv.to_string(), pinned, version as i64])?;
        if changed == 0 {
            return Ok(Written::default());
        }
        let event = UserEvent::ConvPinned { conv_id: conv.clone(), pinned };
        Ok(Written { appended: vec![self.user_event(tx, user, event)?], seq: 0 })
    }

    /// Sets `user`'s receive option for C2C `peers` and tells the user's devices.
    pub(super) fn set_c2c_recv_opt(
        &mut self,
        tx: &Connection,
        user: &str,
        peers: &[String],
        opt: i32,
    ) -> StoreResult<Written> {
        let mut out = Written::default();
        for peer in peers {
            let conv = ConvId::C2C(peer.clone());
            let version = self.next_version();
            let changed = tx
                .prepare_cached(
                    "INSERT INTO user_conv (user_id, conv_id, conv_key, version, recv_opt) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (user_id, conv_id) DO UPDATE SET recv_opt = excluded.recv_opt, version = excluded.version
                     WHERE recv_opt != excluded.recv_opt",
                )?
                .execute(params![user, conv.to_string(), conv_key(user, &conv), version as i64, opt])?;
            if changed > 0 {
                out.appended.push(self.user_event(tx, user, UserEvent::ConvRecvOpt { conv_id: conv, opt })?);
            }
        }
        Ok(out)
    }

    /// The users of stream `key` who chose to receive nothing of it (one probe of the
    /// `user_conv_muted` index, however many members the stream has).
    pub(super) fn receiving_nothing(&self, tx: &Connection, key: &str) -> StoreResult<Vec<String>> {
        let mut stmt = tx.prepare_cached(
            "SELECT user_id FROM user_conv INDEXED BY user_conv_muted WHERE conv_key = ?1 AND recv_opt = 1",
        )?;
        let users = stmt.query_map([key], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(users)
    }

    /// Whether a user of stream `key` deleted it from their list (`user_conv_deleted`). Asked
    /// before every append's UPDATE, which SQLite runs in two passes through a temporary table
    /// even when no row matches: a tenth of the writer's time under load (docs/benchmarks.md).
    pub(super) fn deleted_by_someone(&self, tx: &Connection, key: &str) -> StoreResult<bool> {
        Ok(tx
            .prepare_cached("SELECT 1 FROM user_conv WHERE conv_key = ?1 AND deleted = 1 LIMIT 1")?
            .query_row([key], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn changed_conversations(&self, user_id: &str, since: u64, limit: u32) -> StoreResult<Vec<ConvState>> {
        let user = user_id.to_owned();
        self.read(move |c| {
            // A former member's group ends at until_seq and no longer changes for them; a group
            // the user does not receive (recv_opt 1) changes only by the user's own doing.
            let mut stmt = c.prepare_cached(
                "SELECT uc.conv_id,
                        CASE WHEN uc.until_seq > 0 THEN min(c.seq, uc.until_seq) ELSE c.seq END,
                        CASE WHEN uc.until_seq > 0 OR uc.recv_opt = 1 THEN uc.version
                             ELSE max(c.version, uc.version) END AS v,
                        uc.read_seq, uc.recv_opt, uc.pinned, uc.deleted,
                        g.group_type, g.name, g.face_url
                   FROM user_conv uc
                   JOIN msg c ON c.conv_key = uc.conv_key
                             AND c.seq = (SELECT max(h.seq) FROM msg h WHERE h.conv_key = uc.conv_key)
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

    async fn unread_counts(&self, user: &str, ranges: Vec<SeqRange>) -> StoreResult<Vec<u64>> {
        let user = user.to_owned();
        self.read(move |c| {
            ranges
                .iter()
                .map(|r| unread_count(c, &user, &conv_key(&user, &r.conv_id), r.after_seq, r.up_to_seq))
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
        self.read(move |c| recv_opts_of(c, &user, &peers)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::sqlite::testing::send;

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
}
