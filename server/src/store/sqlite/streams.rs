//! Message streams: appending (dedup on msgID, gapless seqs, times that never go back), revoke,
//! read positions, per-user deletion and clearing, and the pulls that respect them; users.

use async_trait::async_trait;
use oxim_proto::code;
use oxim_proto::ids::ConvId;
use oxim_proto::message::{Elem, UserEvent};
use oxim_proto::payload::WireMessage;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::conversations::{KIND_MESSAGE, KIND_NOTICE, KIND_TIPS};
use super::views::{not_a_member, view_of};
use super::writer::{StreamHead, WriterState, stream_head};
use crate::domain::keys::{Target, conv_key, group_of_key, sys_target};
use crate::store::{Appended, HistoryPage, MessageStore, Queued, StoreError, StoreResult, UserStore, Written};

/// A stored message body.
pub(super) fn parse_msg(body: &str) -> StoreResult<WireMessage> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored message: {e}")))
}

impl WriterState {
    /// Records that `user` exists.
    pub(super) fn register_user(&mut self, tx: &Connection, user: &str) -> StoreResult<()> {
        tx.prepare_cached("INSERT OR IGNORE INTO user (user_id, created_ms) VALUES (?1, ?2)")?
            .execute(params![user, self.now_ms()])?;
        Ok(())
    }

    /// Appends `msg` to `target`'s stream (deduplicating on msg_id).
    pub(super) fn append(&mut self, tx: &Connection, target: &Target, mut msg: WireMessage) -> StoreResult<Appended> {
        // Members who chose to receive nothing of this conversation are not pushed to (their
        // sync skips it too); the sender's own devices always are. A group's target names no
        // members (its send finds its receivers itself, with the same probe): nothing to filter.
        let muted = if target.members.is_empty() { Vec::new() } else { self.receiving_nothing(tx, &target.key)? };
        let recipients: Vec<String> = target
            .members
            .iter()
            .filter(|(user, _)| *user == msg.sender || !muted.contains(user))
            .map(|(user, _)| user.clone())
            .collect();
        let head = self.head(tx, &target.key)?;
        let seq = head.max_seq + 1;
        let time_ms = self.now_ms().max(self.last_time_ms);
        let version = self.version + 1;
        if msg.msg_id.is_empty() {
            // Server-made notices and events: ids that no client id (hex) can collide with.
            msg.msg_id = format!("{}#{seq}", target.key);
        }
        msg.seq = seq;
        msg.time_ms = time_ms;
        let body = serde_json::to_string(&msg).expect("message serialisation");
        let kind = match &msg.elem {
            e if e.is_notice() => KIND_NOTICE,
            Elem::GroupTips { .. } => KIND_TIPS,
            _ => KIND_MESSAGE,
        };
        // The message row is also the stream's head (its seq, time and version): no row of the
        // stream is rewritten by an append. An id stored before inserts nothing (the unique
        // index finds it; no probe of its own first): a resend gets the original back.
        let inserted = tx
            .prepare_cached(
                "INSERT INTO msg (conv_key, seq, msg_id, sender, time_ms, body, kind, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (msg_id) DO NOTHING",
            )?
            .execute(params![target.key, seq as i64, msg.msg_id, msg.sender, time_ms, body, kind, version as i64])?;
        if inserted == 0 {
            let (sender, body): (String, String) = tx
                .prepare_cached("SELECT sender, body FROM msg WHERE msg_id = ?1")?
                .query_row([&msg.msg_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if sender != msg.sender {
                return Err(StoreError::MsgIdTaken(msg.msg_id));
            }
            return Ok(Appended { msg: parse_msg(&body)?, duplicate: true, recipients });
        }
        if kind != KIND_NOTICE && self.deleted_by_someone(tx, &target.key)? {
            // Something new: a conversation its users deleted is back in their lists.
            tx.prepare_cached("UPDATE user_conv SET deleted = 0 WHERE conv_key = ?1 AND deleted = 1")?
                .execute([&target.key])?;
        }
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
            let mut at =
                tx.prepare_cached("INSERT OR IGNORE INTO file_seq (uuid, conv_key, seq) VALUES (?1, ?2, ?3)")?;
            for uuid in files {
                at.execute(params![uuid, target.key, seq as i64])?;
            }
        }
        // Only now, with every statement done, does the in-memory state move on.
        self.advance(&target.key, StreamHead { max_seq: seq });
        self.version = version;
        self.last_time_ms = time_ms;
        Ok(Appended { msg, duplicate: false, recipients })
    }

    /// Appends `event` to `user`'s own stream.
    pub(super) fn user_event(&mut self, tx: &Connection, user: &str, event: UserEvent) -> StoreResult<Appended> {
        let mut msg = WireMessage::new("", Elem::Event { event });
        msg.sender = user.to_owned();
        msg.receiver = user.to_owned();
        self.append(tx, &sys_target(user), msg)
    }

    pub(super) fn revoke(
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
        if self.now_ms() - time_ms > window_ms {
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
        // Its files are no longer served through this message (other messages carrying them
        // keep their own rows).
        for uuid in original.elem.file_uuids() {
            tx.prepare_cached("DELETE FROM file_seq WHERE uuid = ?1 AND conv_key = ?2 AND seq = ?3")?
                .execute(params![uuid, target.key, seq])?;
        }
        let mut notice = WireMessage::new("", Elem::Revoke { msg_id: msg_id.to_owned() });
        notice.sender = user.to_owned();
        notice.receiver = original.receiver.clone();
        notice.group_id = original.group_id.clone();
        let appended = self.append(tx, target, notice)?;
        let seq = appended.msg.seq;
        Ok(Written { appended: vec![appended], seq })
    }

    /// The user's row for a stream: its key, read and cleared positions, and the last seq the
    /// user sees (a former group member's; `u64::MAX` otherwise). `None` for a conversation
    /// without messages for the user yet (nothing to do then); a group the user never belonged
    /// to is refused (10007), as pulls are.
    pub(super) fn user_row(&mut self, tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<Option<UserRow>> {
        let row = tx
            .prepare_cached(
                "SELECT conv_key, read_seq, cleared_seq, until_seq FROM user_conv WHERE user_id = ?1 AND conv_id = ?2",
            )?
            .query_row(params![user, conv.to_string()], |r| {
                Ok(UserRow {
                    key: r.get(0)?,
                    read_seq: r.get::<_, i64>(1)? as u64,
                    cleared_seq: r.get::<_, i64>(2)? as u64,
                    until_seq: match r.get::<_, i64>(3)? {
                        0 => u64::MAX,
                        until => until as u64,
                    },
                })
            })
            .optional()?;
        match (row, conv) {
            (None, ConvId::Group(_)) => Err(not_a_member(&conv_key(user, conv))),
            (row, _) => Ok(row),
        }
    }

    pub(super) fn mark_read(&mut self, tx: &Connection, user: &str, conv: &ConvId, seq: u64) -> StoreResult<Written> {
        let Some(UserRow { key, read_seq, until_seq, .. }) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        // A former member reads up to the end of what they saw, never past it.
        let max_seq = self.head(tx, &key)?.max_seq.min(until_seq);
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
            let receipt =
                UserEvent::PeerRead { conv_id: ConvId::C2C(user.to_owned()), seq: wanted, time_ms: self.now_ms() };
            appended.push(self.user_event(tx, peer, receipt)?);
        }
        Ok(Written { appended, seq: wanted })
    }

    pub(super) fn delete_for_user(
        &mut self,
        tx: &Connection,
        user: &str,
        conv: &ConvId,
        msg_ids: &[String],
    ) -> StoreResult<Written> {
        let Some(UserRow { key, until_seq, .. }) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        let until = until_seq.min(i64::MAX as u64) as i64;
        let mut hidden = Vec::new();
        for id in msg_ids {
            // Only messages the user sees (a former member's end at their view's end).
            let seq: Option<i64> = tx
                .prepare_cached("SELECT seq FROM msg WHERE msg_id = ?1 AND conv_key = ?2 AND seq <= ?3")?
                .query_row(params![id, key, until], |r| r.get(0))
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

    pub(super) fn clear_for_user(&mut self, tx: &Connection, user: &str, conv: &ConvId) -> StoreResult<Written> {
        let Some(UserRow { key, cleared_seq: cleared, until_seq, .. }) = self.user_row(tx, user, conv)? else {
            return Ok(Written::default());
        };
        let max_seq = self.head(tx, &key)?.max_seq.min(until_seq);
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

/// A user's row for a stream ([`WriterState::user_row`]).
pub(super) struct UserRow {
    /// The stream.
    pub(super) key: String,
    /// Read up to here.
    pub(super) read_seq: u64,
    /// Cleared up to here.
    pub(super) cleared_seq: u64,
    /// The last seq the user sees (`u64::MAX`: no bound).
    pub(super) until_seq: u64,
}

#[async_trait]
impl UserStore for SqliteStore {
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
}

#[async_trait]
impl MessageStore for SqliteStore {
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
            let max_seq = stream_head(c, &key)?.max_seq as i64;
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
                // A message carrying the file within the user's view of the stream: after what
                // they cannot see (joined later, cleared) and up to the end of a former member's.
                "SELECT 1 FROM file_seq f JOIN user_conv uc ON uc.conv_key = f.conv_key
                  WHERE f.uuid = ?1 AND uc.user_id = ?2
                    AND f.seq > uc.cleared_seq AND (uc.until_seq = 0 OR f.seq <= uc.until_seq) LIMIT 1",
            )?
            .query_row(params![uuid, user], |_| Ok(()))
            .optional()?
            .is_some())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::keys::c2c_target;
    use crate::store::Store;
    use crate::store::sqlite::testing::{send, text};

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
    async fn no_message_is_dated_before_one_sent_earlier_even_after_the_clock_went_back_and_a_restart() {
        use std::sync::Arc;

        use crate::domain::clock::ManualClock;
        use crate::store::sqlite::Options;

        let dir = tempfile::tempdir().unwrap();
        let at = |ms: i64| Options { clock: Arc::new(ManualClock::new(ms)), ..Options::default() };
        let t = 1_700_000_000_000;
        {
            let store = SqliteStore::open_with(dir.path(), at(t)).unwrap();
            assert_eq!(send(&store, "m1", "alice", "bob").await.msg.time_ms, t);
            store.close().await;
        }
        // The wall clock went back an hour (as a time sync may move it) before the restart.
        let store = SqliteStore::open_with(dir.path(), at(t - 3_600_000)).unwrap();
        let same_stream = send(&store, "m2", "bob", "alice").await;
        let new_stream = send(&store, "m3", "carol", "dave").await;
        assert_eq!((same_stream.msg.time_ms, new_stream.msg.time_ms), (t, t));
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
