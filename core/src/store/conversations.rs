//! The conversation list, kept in the `conversation` table beside each conversation's sync
//! cursor. Every row is *recomputed* from the stored messages and the read position whenever
//! something that affects it changes; nothing is counted up or down, so nothing can drift.
//!
//! Unread = the server-counted unread messages below the part of the conversation this device
//! stored (a new device downloads only the latest messages: `gap_*`) + the unread messages
//! stored here after that point. A message counts when it is someone else's, not revoked, not a
//! notice or a group tip, and after the read position. Meeting groups and AVChatRooms have none.

use rusqlite::{Connection, OptionalExtension, params};

use oxim_proto::group::{GroupTips, info_change};
use oxim_proto::payload::{ConvGroup, ConvState};

use super::messages::message_from_json;
use crate::error::Result;
pub use crate::model::conversation::{ConvChange, Conversation, GroupAtInfo, at_type};
use crate::model::message::{ConvId, ElemType, MessageStatus};

/// Migration 4 of the local store.
pub(super) const MIGRATION: &str = "
    -- listed: shown in the conversation list (a message arrived and the user did not delete it).
    ALTER TABLE conversation ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN group_type TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN show_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN face_url TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN recv_opt INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN draft_text TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN draft_ms INTEGER NOT NULL DEFAULT 0;
    -- Unread messages in (gap_after, gap_until] as counted by the server: the part below what
    -- this device stored. Valid while gap_after equals the read position.
    ALTER TABLE conversation ADD COLUMN gap_until INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN gap_after INTEGER NOT NULL DEFAULT -1;
    ALTER TABLE conversation ADD COLUMN gap_unread INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN gap_stale INTEGER NOT NULL DEFAULT 0;
    -- Derived (recomputed together): unread, last message, @ info, order.
    ALTER TABLE conversation ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN last_msg_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN last_status INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN last_time_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversation ADD COLUMN at_info TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversation ADD COLUMN order_key INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX conversation_list ON conversation(order_key) WHERE listed = 1;
    CREATE INDEX conversation_unread ON conversation(recv_opt, unread) WHERE listed = 1;
    CREATE INDEX conversation_gap_stale ON conversation(conv_id) WHERE gap_stale = 1;
    -- @ mentions of a message: 1 me, 2 everyone.
    ALTER TABLE message ADD COLUMN at_flags INTEGER NOT NULL DEFAULT 0;";

/// Most conversations per `getConversationList` page.
pub const MAX_PAGE: u32 = 100;

/// The @ flags of a message for `me`.
pub fn at_flags(at_users: &[String], me: &str) -> i32 {
    let mut flags = 0;
    for u in at_users {
        if u == me {
            flags |= at_type::AT_ME;
        } else if u == oxim_proto::message::AT_ALL {
            flags |= at_type::AT_ALL;
        }
    }
    flags
}

/// The row state that the app sees, to tell a change from a no-op.
#[derive(Debug, Clone, PartialEq, Default)]
struct Derived {
    listed: bool,
    unread: u64,
    last_msg_id: String,
    last_status: i32,
    last_time_ms: i64,
    at_info: String,
    order_key: i64,
    gap_stale: bool,
}

/// Marks a conversation listed (a message arrived or was sent).
pub fn mark_listed(conn: &Connection, conv: &ConvId) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET listed = 1 WHERE conv_id = ?1")?.execute([conv.to_string()])?;
    Ok(())
}

/// Makes sure a conversation row exists (for outgoing messages, local imports and server
/// state of a conversation the sync has not seen yet). Its cursor stays unknown (-1) until the
/// sync starts it.
pub fn ensure_row(conn: &Connection, conv: &ConvId) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversation (conv_id, synced_seq, floor_seq) VALUES (?1, -1, 0) ON CONFLICT DO NOTHING",
    )?
    .execute([conv.to_string()])?;
    Ok(())
}

fn no_unread(group_type: &str) -> bool {
    // V2TIM keeps no unread count for these group types.
    matches!(group_type, "Meeting" | "AVChatRoom")
}

/// The first key at or above `base` that no other listed conversation holds. Keys are unique
/// so that paging by key neither skips nor repeats a conversation; `base` is the activity
/// millisecond shifted left by 14 bits, so conversations active in the same millisecond (a
/// sync stores thousands at once) take the next free slot after the highest one taken, found
/// through the list index rather than probed one by one.
/// The low bits of an order key: which of the conversations active in one millisecond.
const SLOT_MASK: i64 = (1 << 14) - 1;

fn free_order_key(conn: &Connection, conv: &str, base: i64) -> Result<i64> {
    let mut taken =
        conn.prepare_cached("SELECT 1 FROM conversation WHERE listed = 1 AND order_key = ?1 AND conv_id != ?2")?;
    if !taken.exists(params![base, conv])? {
        return Ok(base);
    }
    let slot_end = base | SLOT_MASK;
    let mut key: i64 = conn
        .prepare_cached(
            "SELECT max(order_key) + 1 FROM conversation
              WHERE listed = 1 AND order_key >= ?1 AND order_key <= ?2 AND conv_id != ?3",
        )?
        .query_row(params![base, slot_end, conv], |r| r.get::<_, Option<i64>>(0))?
        .unwrap_or(base);
    while taken.exists(params![key, conv])? {
        key += 1;
    }
    Ok(key)
}

/// Recomputes a conversation's derived state; says whether the app sees a change.
pub fn refresh(conn: &Connection, conv: &ConvId) -> Result<Option<ConvChange>> {
    if matches!(conv, ConvId::System) {
        return Ok(None);
    }
    let key = conv.to_string();
    type Row = (bool, String, i64, i64, i64, u64, i64, bool, Derived, i64);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT c.listed, c.group_type, c.synced_seq, c.gap_until, c.gap_after, c.gap_unread, c.draft_ms, c.pinned,
                    c.unread, c.last_msg_id, c.last_status, c.last_time_ms, c.at_info, c.order_key, c.gap_stale,
                    coalesce(r.read_seq, 0)
               FROM conversation c LEFT JOIN conv_read r ON r.conv_id = c.conv_id WHERE c.conv_id = ?1",
        )?
        .query_row([&key], |r| {
            let listed: bool = r.get(0)?;
            Ok((
                listed,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, i64>(5)? as u64,
                r.get(6)?,
                r.get(7)?,
                Derived {
                    listed,
                    unread: r.get::<_, i64>(8)? as u64,
                    last_msg_id: r.get(9)?,
                    last_status: r.get(10)?,
                    last_time_ms: r.get(11)?,
                    at_info: r.get(12)?,
                    order_key: r.get(13)?,
                    gap_stale: r.get(14)?,
                },
                r.get(15)?,
            ))
        })
        .optional()?;
    let Some((listed, group_type, synced, gap_until, gap_after, gap_unread, draft_ms, pinned, old, read_seq)) = row
    else {
        return Ok(None);
    };

    // Unread: the server's count below what is stored here, plus what is stored here.
    let (unread, at_info, gap_stale) = if no_unread(&group_type) {
        (0, String::new(), false)
    } else {
        let gap_stale = read_seq < gap_until && gap_after != read_seq;
        let below = if read_seq < gap_until && !gap_stale { gap_unread } else { 0 };
        let from = read_seq.max(gap_until);
        let local: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM message
                  WHERE conv_id = ?1 AND seq > ?2 AND seq <= ?3 AND notice = 0 AND is_self = 0
                    AND elem_type != ?4 AND status != ?5",
            )?
            .query_row(
                params![key, from, synced, ElemType::GroupTips as i32, MessageStatus::LocalRevoked as i32],
                |r| r.get(0),
            )?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, at_flags FROM message
              WHERE conv_id = ?1 AND seq > ?2 AND seq <= ?3 AND at_flags != 0 AND notice = 0 AND is_self = 0
                AND status != ?4
              ORDER BY seq",
        )?;
        let ats: Vec<String> = stmt
            .query_map(params![key, read_seq, synced, MessageStatus::LocalRevoked as i32], |r| {
                Ok(format!("{}:{}", r.get::<_, i64>(0)?, r.get::<_, i32>(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        (below + local as u64, ats.join(","), gap_stale)
    };

    // The newest message: by time, then seq (unsent messages have seq 0 and the local time).
    let last: Option<(String, i32, i64)> = conn
        .prepare_cached(
            "SELECT msg_id, status, time_ms FROM message WHERE conv_id = ?1 AND notice = 0
              ORDER BY time_ms DESC, seq DESC LIMIT 1",
        )?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (last_msg_id, last_status, last_time_ms) = last.unwrap_or_default();
    let activity = last_time_ms.max(draft_ms).max(0);
    let base = (i64::from(pinned) << 62) | ((activity & ((1 << 47) - 1)) << 14);
    // A listed conversation whose activity (and pin) did not change keeps its place.
    let same_slot = old.listed && old.order_key >= base && old.order_key <= base | SLOT_MASK;
    let order_key = match (listed, same_slot) {
        (false, _) => base,
        (true, true) => old.order_key,
        (true, false) => free_order_key(conn, &key, base)?,
    };
    let new = Derived { listed, unread, last_msg_id, last_status, last_time_ms, at_info, order_key, gap_stale };
    if new == old {
        return Ok(None);
    }
    // Only gap bookkeeping changed: nothing the app sees.
    let visible = |d: &Derived| Derived { gap_stale: false, ..d.clone() };
    let change = if visible(&new) == visible(&old) || !listed {
        None
    } else if old.listed && old.order_key != 0 {
        Some(ConvChange::Changed)
    } else {
        Some(ConvChange::New)
    };
    // A change the app sees is recorded as not told yet in the same write, so a session that
    // ends before it announces the change (logout in the middle of a sync step, a kill) tells
    // it when the next one starts ([`pending_announcements`]).
    conn.prepare_cached(
        "UPDATE conversation SET unread = ?2, last_msg_id = ?3, last_status = ?4, last_time_ms = ?5, at_info = ?6,
                order_key = ?7, gap_stale = ?8, announce = max(announce, ?9)
          WHERE conv_id = ?1",
    )?
    .execute(params![
        key,
        new.unread as i64,
        new.last_msg_id,
        new.last_status,
        new.last_time_ms,
        new.at_info,
        new.order_key,
        new.gap_stale,
        change.map_or(0, announce_code),
    ])?;
    Ok(change)
}

fn announce_code(change: ConvChange) -> i32 {
    match change {
        ConvChange::Changed => 1,
        ConvChange::New => 2,
    }
}

/// Conversation changes recorded and not told yet (see [`refresh`]).
pub fn pending_announcements(conn: &Connection) -> Result<Vec<(ConvId, ConvChange)>> {
    let mut stmt = conn.prepare_cached("SELECT conv_id, announce FROM conversation WHERE announce > 0")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i32>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (conv, code) = row?;
        if let Some(conv) = ConvId::parse(&conv) {
            out.push((conv, if code == 2 { ConvChange::New } else { ConvChange::Changed }));
        }
    }
    Ok(out)
}

/// The changes of `convs` have been told.
pub fn mark_announced(conn: &Connection, convs: &[ConvId]) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE conversation SET announce = 0 WHERE conv_id = ?1 AND announce > 0")?;
    for conv in convs {
        stmt.execute([conv.to_string()])?;
    }
    Ok(())
}

/// Sets fields the user or the server decides, then refreshes.
pub fn set_field(conn: &Connection, conv: &ConvId, column: Field, value: &dyn rusqlite::ToSql) -> Result<()> {
    let col = match column {
        Field::Pinned => "pinned",
        Field::RecvOpt => "recv_opt",
        Field::GroupType => "group_type",
        Field::ShowName => "show_name",
        Field::FaceUrl => "face_url",
    };
    conn.prepare_cached(&format!("UPDATE conversation SET {col} = ?2 WHERE conv_id = ?1"))?
        .execute(params![conv.to_string(), value])?;
    Ok(())
}

/// Columns [`set_field`] may set.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// Pinned (bool).
    Pinned,
    /// Receive option (i32).
    RecvOpt,
    /// Group type (text).
    GroupType,
    /// Name shown (text).
    ShowName,
    /// Avatar (text).
    FaceUrl,
}

/// The group type recorded for a conversation ("" if unknown).
pub fn group_type(conn: &Connection, conv: &ConvId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT group_type FROM conversation WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| r.get(0))
        .optional()?)
}

/// Sets the draft (empty text removes it).
pub fn set_draft(conn: &Connection, conv: &ConvId, text: &str, now_ms: i64) -> Result<()> {
    let ms = if text.is_empty() { 0 } else { now_ms };
    conn.prepare_cached("UPDATE conversation SET draft_text = ?2, draft_ms = ?3 WHERE conv_id = ?1")?
        .execute(params![conv.to_string(), text, ms])?;
    Ok(())
}

/// The conversation leaves the list (`deleteConversation`), its draft and pin with it.
pub fn unlist(conn: &Connection, conv: &ConvId) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversation SET listed = 0, pinned = 0, draft_text = '', draft_ms = 0, order_key = 0 WHERE conv_id = ?1",
    )?
    .execute([conv.to_string()])?;
    Ok(())
}

/// Whether the conversation has a message after `seq` stored here (or one not sent yet).
pub fn has_messages_after(conn: &Connection, conv: &ConvId, seq: u64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM message WHERE conv_id = ?1 AND notice = 0 AND (seq > ?2 OR seq = 0)")?
        .exists(params![conv.to_string(), seq as i64])?)
}

/// Starts the server-counted part: unread of `(read, until]` is unknown until counted.
pub fn set_gap_until(conn: &Connection, conv: &ConvId, until: u64) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET gap_until = ?2, gap_after = -1 WHERE conv_id = ?1 AND gap_until = 0")?
        .execute(params![conv.to_string(), until as i64])?;
    Ok(())
}

/// The server-counted part must be counted again (a message in it was revoked or deleted).
pub fn invalidate_gap(conn: &Connection, conv: &ConvId) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET gap_after = -1 WHERE conv_id = ?1 AND gap_until > 0")?
        .execute([conv.to_string()])?;
    Ok(())
}

/// Whether a seq lies in the server-counted part (not stored here).
pub fn in_gap(conn: &Connection, conv: &ConvId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM conversation c LEFT JOIN conv_read r ON r.conv_id = c.conv_id
              WHERE c.conv_id = ?1 AND coalesce(r.read_seq, 0) < c.gap_until",
        )?
        .exists([conv.to_string()])?)
}

/// Whether some conversation's server-counted part must be counted again.
pub fn has_stale_gaps(conn: &Connection) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM conversation WHERE gap_stale = 1 LIMIT 1")?.exists([])?)
}

/// Conversations whose server-counted part must be counted: (conversation, read, until).
pub fn stale_gaps(conn: &Connection, limit: u32) -> Result<Vec<(ConvId, u64, u64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.conv_id, coalesce(r.read_seq, 0), c.gap_until
           FROM conversation c LEFT JOIN conv_read r ON r.conv_id = c.conv_id
          WHERE c.gap_stale = 1 LIMIT ?1",
    )?;
    let rows =
        stmt.query_map([limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, read, until) = row?;
        if let Some(conv) = ConvId::parse(&id) {
            out.push((conv, read as u64, until as u64));
        }
    }
    Ok(out)
}

/// Records the server's count of `(after, until]` (ignored if the read position moved since).
pub fn set_gap(conn: &Connection, conv: &ConvId, after: u64, count: u64) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET gap_after = ?2, gap_unread = ?3 WHERE conv_id = ?1")?
        .execute(params![conv.to_string(), after as i64, count as i64])?;
    Ok(())
}

const CONVERSATION_COLUMNS: &str = "c.conv_id, c.group_type, c.show_name, c.face_url, c.recv_opt, c.unread,
    c.draft_text, c.draft_ms, c.at_info, c.pinned, c.order_key, m.wire, m.status, m.local_custom_data,
    m.local_custom_int, coalesce(r.read_seq, 0), coalesce(r.peer_read_seq, 0)
    FROM conversation c
    LEFT JOIN message m ON m.msg_id = c.last_msg_id
    LEFT JOIN conv_read r ON r.conv_id = c.conv_id";

fn conversation_from_row(me: &str, r: &rusqlite::Row<'_>) -> rusqlite::Result<Conversation> {
    let id: String = r.get(0)?;
    let conv = ConvId::parse(&id).unwrap_or(ConvId::System);
    let (conv_type, user_id, group_id) = match &conv {
        ConvId::C2C(u) => (1, u.clone(), String::new()),
        ConvId::Group(g) => (2, String::new(), g.clone()),
        ConvId::System => (0, String::new(), String::new()),
    };
    let show_name: String = r.get(2)?;
    let last_message = match r.get::<_, Option<String>>(11)? {
        Some(wire) => Some(Box::new(message_from_json(
            me,
            &wire,
            MessageStatus::from_i32(r.get(12)?),
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
            r.get(16)?,
        )?)),
        None => None,
    };
    let at_info: String = r.get(8)?;
    Ok(Conversation {
        conversation_id: id,
        conv_type,
        show_name: if show_name.is_empty() { format!("{user_id}{group_id}") } else { show_name },
        user_id,
        group_id,
        group_type: r.get(1)?,
        face_url: r.get(3)?,
        recv_opt: r.get(4)?,
        unread_count: r.get::<_, i64>(5)? as u64,
        last_message,
        draft_text: r.get(6)?,
        draft_timestamp: r.get::<_, i64>(7)? / 1000,
        group_at_info_list: at_info
            .split(',')
            .filter_map(|p| {
                let (seq, t) = p.split_once(':')?;
                Some(GroupAtInfo { seq: seq.parse().ok()?, at_type: t.parse().ok()? })
            })
            .collect(),
        is_pinned: r.get(9)?,
        order_key: r.get(10)?,
    })
}

/// A page of the list: up to `count` conversations ordered below `next_seq` (0 = from the
/// top); and the next page's cursor, and whether this was the last page.
pub fn list_page(conn: &Connection, me: &str, next_seq: u64, count: u32) -> Result<(Vec<Conversation>, u64, bool)> {
    let bound = if next_seq == 0 { i64::MAX } else { next_seq as i64 };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} WHERE c.listed = 1 AND c.order_key < ?1 ORDER BY c.order_key DESC LIMIT ?2"
    ))?;
    let mut list: Vec<Conversation> = stmt
        .query_map(params![bound, count as i64 + 1], |r| conversation_from_row(me, r))?
        .collect::<rusqlite::Result<_>>()?;
    let finished = list.len() as u32 <= count;
    list.truncate(count as usize);
    let next = list.last().map_or(0, |c| c.order_key as u64);
    Ok((list, next, finished))
}

/// Listed conversations by id (unknown or unlisted ids are left out).
pub fn by_ids(conn: &Connection, me: &str, ids: &[ConvId]) -> Result<Vec<Conversation>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {CONVERSATION_COLUMNS} WHERE c.conv_id = ?1 AND c.listed = 1"))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(c) = stmt.query_row([id.to_string()], |r| conversation_from_row(me, r)).optional()? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Total unread of the listed conversations that notify (receive option 0), as V2TIM counts it.
pub fn total_unread(conn: &Connection) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(sum(unread), 0) FROM conversation WHERE listed = 1 AND recv_opt = 0")?
        .query_row([], |r| r.get::<_, i64>(0))? as u64)
}

/// Whether the conversation is listed.
pub fn is_listed(conn: &Connection, conv: &ConvId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM conversation WHERE conv_id = ?1 AND listed = 1")?
        .exists([conv.to_string()])?)
}

/// Applies the server's view of a page of the user's conversations (see `sync`), in one
/// transaction.
pub fn apply_server_states(conn: &mut Connection, states: &[ConvState]) -> Result<Vec<(ConvId, ConvChange)>> {
    let tx = conn.transaction()?;
    let mut changes = Vec::new();
    for state in states {
        changes.extend(apply_server_state(&tx, state)?);
    }
    tx.commit()?;
    Ok(changes)
}

/// Applies the server's view of one conversation.
fn apply_server_state(tx: &Connection, state: &ConvState) -> Result<Option<(ConvId, ConvChange)>> {
    let conv = &state.conv_id;
    if matches!(conv, ConvId::System) {
        return Ok(None);
    }
    ensure_row(tx, conv)?;
    super::read::advance_read(tx, conv, state.read_seq)?;
    set_field(tx, conv, Field::RecvOpt, &state.recv_opt)?;
    set_field(tx, conv, Field::Pinned, &state.pinned)?;
    if let Some(g) = &state.group {
        write_group_profile(tx, conv, g)?;
    }
    if state.deleted {
        super::messages::clear_messages(tx, conv, Some(state.max_seq))?;
        unlist(tx, conv)?;
    }
    Ok(refresh(tx, conv)?.map(|c| (conv.clone(), c)))
}

fn write_group_profile(conn: &Connection, conv: &ConvId, g: &ConvGroup) -> Result<()> {
    set_field(conn, conv, Field::GroupType, &g.group_type)?;
    set_field(conn, conv, Field::ShowName, &g.name)?;
    set_field(conn, conv, Field::FaceUrl, &g.face_url)
}

/// Records a group conversation's type, name and avatar.
pub fn set_group_profile(conn: &mut Connection, conv: &ConvId, g: &ConvGroup) -> Result<Option<(ConvId, ConvChange)>> {
    let tx = conn.transaction()?;
    ensure_row(&tx, conv)?;
    write_group_profile(&tx, conv, g)?;
    let change = refresh(&tx, conv)?;
    tx.commit()?;
    Ok(change.map(|c| (conv.clone(), c)))
}

/// A group tip changed the group's name or avatar.
pub fn apply_profile_tips(
    conn: &mut Connection,
    conv: &ConvId,
    tips: &GroupTips,
) -> Result<Option<(ConvId, ConvChange)>> {
    let tx = conn.transaction()?;
    for change in &tips.group_changes {
        match change.kind {
            info_change::NAME => set_field(&tx, conv, Field::ShowName, &change.value)?,
            info_change::FACE => set_field(&tx, conv, Field::FaceUrl, &change.value)?,
            _ => {}
        }
    }
    let change = refresh(&tx, conv)?;
    tx.commit()?;
    Ok(change.map(|c| (conv.clone(), c)))
}
