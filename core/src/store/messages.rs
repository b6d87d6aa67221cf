//! Message rows: outgoing messages through their life, lookups, history pages, deletion.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Error, Result};
use crate::model::message::{ConvId, Elem, ElemType, Message, MessageStatus, WireMessage};

/// The columns [`message_from_row`] reads (and the conversation id, column 6), joined with the
/// read positions.
pub(super) const MESSAGE_COLUMNS: &str = "m.wire, m.status, m.local_custom_data, m.local_custom_int,
     coalesce(r.read_seq, 0), coalesce(r.peer_read_seq, 0), m.conv_id
     FROM message m LEFT JOIN conv_read r ON r.conv_id = m.conv_id";

pub(super) fn message_from_row(me: &str, row: &Row<'_>) -> rusqlite::Result<Message> {
    let wire: String = row.get(0)?;
    let status = MessageStatus::from_i32(row.get(1)?);
    message_from_json(me, &wire, status, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)
}

/// A stored message from its columns: the wire JSON, status, device-local data and the read
/// positions of its conversation.
pub(super) fn message_from_json(
    me: &str,
    wire: &str,
    status: MessageStatus,
    local_custom_data: String,
    local_custom_int: i32,
    read_seq: i64,
    peer_read_seq: i64,
) -> rusqlite::Result<Message> {
    let wire: WireMessage = serde_json::from_str(wire)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?;
    let mut m = Message::from_wire(&wire, me, status);
    m.status = status;
    m.local_custom_data = local_custom_data;
    m.local_custom_int = local_custom_int;
    m.is_read = m.is_self || status == MessageStatus::LocalImported || (m.seq > 0 && m.seq as i64 <= read_seq);
    m.is_peer_read = m.is_self && m.group_id.is_empty() && m.seq > 0 && m.seq as i64 <= peer_read_seq;
    Ok(m)
}

fn insert_row(conn: &Connection, conv: &ConvId, msg: &Message, status: MessageStatus) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO message (msg_id, conv_id, seq, sender, time_ms, status, is_self, elem_type, wire,
                                  local_custom_data, local_custom_int, notice)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (msg_id) DO NOTHING",
        )?
        .execute(params![
            msg.msg_id,
            conv.to_string(),
            msg.seq as i64,
            msg.sender,
            msg.time_ms,
            status as i32,
            msg.is_self,
            ElemType::of(&msg.elem) as i32,
            serde_json::to_string(&msg.to_wire()).expect("message serialisation"),
            msg.local_custom_data,
            msg.local_custom_int,
            msg.elem.is_notice(),
        ])?)
}

/// Stores an outgoing message as SENDING and puts it at the end of its conversation's send
/// queue, before it goes to the network. A resend of a stored message (same msgID) goes back
/// to SENDING, at the end of the queue, unless it already went out. True if the message is
/// queued (false: the server accepted it already).
pub fn insert_outgoing(conn: &Connection, conv: &ConvId, msg: &Message) -> Result<bool> {
    if insert_row(conn, conv, msg, MessageStatus::Sending)? == 0 {
        conn.prepare_cached("UPDATE message SET status = ?2 WHERE msg_id = ?1 AND status = ?3")?.execute(params![
            msg.msg_id,
            MessageStatus::Sending as i32,
            MessageStatus::SendFail as i32
        ])?;
    }
    super::send_queue::enqueue(conn, conv, &msg.msg_id)
}

/// Inserts a row as an older SDK would have (tests of migrations).
#[cfg(test)]
pub(super) fn tests_insert(conn: &Connection, conv: &ConvId, msg: &Message, status: MessageStatus) {
    insert_row(conn, conv, msg, status).unwrap();
}

/// Stores a message imported by the app (`insert…MessageToLocalStorage`).
pub fn insert_imported(conn: &Connection, conv: &ConvId, msg: &Message) -> Result<()> {
    if insert_row(conn, conv, msg, MessageStatus::LocalImported)? == 0 {
        return Err(Error::invalid(format!("message {} already exists", msg.msg_id)));
    }
    Ok(())
}

/// Replaces an outgoing message's element (its files were uploaded).
pub fn update_elem(conn: &Connection, msg_id: &str, elem: &Elem) -> Result<()> {
    update_wire(conn, msg_id, |w| w.elem = elem.clone())
}

fn update_wire(conn: &Connection, msg_id: &str, f: impl FnOnce(&mut WireMessage)) -> Result<()> {
    let wire: Option<String> = conn
        .prepare_cached("SELECT wire FROM message WHERE msg_id = ?1")?
        .query_row([msg_id], |r| r.get(0))
        .optional()?;
    let Some(wire) = wire else { return Ok(()) };
    let mut wire: WireMessage = serde_json::from_str(&wire).map_err(Error::db)?;
    f(&mut wire);
    conn.prepare_cached("UPDATE message SET wire = ?2, seq = ?3, time_ms = ?4 WHERE msg_id = ?1")?.execute(params![
        msg_id,
        serde_json::to_string(&wire).expect("message serialisation"),
        wire.seq as i64,
        wire.time_ms
    ])?;
    Ok(())
}

/// Records the server's acceptance of an outgoing message.
pub fn mark_sent(conn: &Connection, msg_id: &str, seq: u64, time_ms: i64) -> Result<()> {
    update_wire(conn, msg_id, |w| {
        w.seq = seq;
        w.time_ms = time_ms;
    })?;
    conn.prepare_cached(
        "UPDATE message SET status = ?2, error_code = 0, error_desc = '' WHERE msg_id = ?1 AND status IN (1, 3)",
    )?
    .execute(params![msg_id, MessageStatus::SendSucc as i32])?;
    super::send_queue::dequeue(conn, msg_id)
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
    super::send_queue::dequeue(conn, msg_id)
}

/// Marks a message revoked; true if it was not already (so the revoke is news).
pub fn mark_revoked(conn: &Connection, msg_id: &str) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE message SET status = ?2 WHERE msg_id = ?1 AND status != ?2")?
        .execute(params![msg_id, MessageStatus::LocalRevoked as i32])?;
    if changed > 0 {
        update_wire(conn, msg_id, |w| w.revoked = true)?;
    }
    Ok(changed > 0)
}

/// A stored message by id.
pub fn find_message(conn: &Connection, me: &str, msg_id: &str) -> Result<Option<Message>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} WHERE m.msg_id = ?1 AND m.notice = 0"))?
        .query_row([msg_id], |r| message_from_row(me, r))
        .optional()?)
}

/// Stored messages by id, in the order asked (unknown ids are left out).
pub fn find_messages(conn: &Connection, me: &str, msg_ids: &[String]) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    for id in msg_ids {
        if let Some(m) = find_message(conn, me, id)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Where a history page starts: messages strictly older (or newer) than this position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Time, Unix ms.
    pub time_ms: i64,
    /// Seq (0 for unsent or imported messages).
    pub seq: u64,
    /// Message id (breaks ties).
    pub msg_id: String,
}

/// A page of a conversation's stored messages: older than `anchor` newest first, or newer than
/// it oldest first. Messages are ordered by (time, seq, msgID); notices are never listed.
pub fn history_page(
    conn: &Connection,
    me: &str,
    conv: &ConvId,
    anchor: Option<&Anchor>,
    older: bool,
    limit: u32,
) -> Result<Vec<Message>> {
    let (cmp, order, edge) = if older { ("<", "DESC", i64::MAX) } else { (">", "ASC", i64::MIN) };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}
          WHERE m.conv_id = ?1 AND m.notice = 0 AND (m.time_ms, m.seq, m.msg_id) {cmp} (?2, ?3, ?4)
          ORDER BY m.time_ms {order}, m.seq {order}, m.msg_id {order} LIMIT ?5"
    );
    let (t, s, id) = match anchor {
        Some(a) => (a.time_ms, a.seq as i64, a.msg_id.clone()),
        None => (edge, edge, String::new()),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![conv.to_string(), t, s, id, limit as i64], |r| message_from_row(me, r))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The position of the stored message at `seq`, or else of the nearest one above it (for pages
/// older than `seq`) or below it (newer than `seq`).
pub fn anchor_near_seq(conn: &Connection, conv: &ConvId, seq: u64, older: bool) -> Result<Option<Anchor>> {
    let sql = if older {
        "SELECT time_ms, seq, msg_id FROM message WHERE conv_id = ?1 AND notice = 0 AND seq >= ?2 ORDER BY seq LIMIT 1"
    } else {
        "SELECT time_ms, seq, msg_id FROM message WHERE conv_id = ?1 AND notice = 0 AND seq > 0 AND seq <= ?2
         ORDER BY seq DESC LIMIT 1"
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![conv.to_string(), seq as i64], |r| {
            Ok(Anchor { time_ms: r.get(0)?, seq: r.get::<_, i64>(1)? as u64, msg_id: r.get(2)? })
        })
        .optional()?)
}

/// Deletes messages of a conversation from this device.
pub fn delete_messages(conn: &Connection, conv: &ConvId, msg_ids: &[String]) -> Result<usize> {
    let mut n = 0;
    let mut stmt = conn.prepare_cached("DELETE FROM message WHERE msg_id = ?1 AND conv_id = ?2")?;
    for id in msg_ids {
        n += stmt.execute(params![id, conv.to_string()])?;
    }
    Ok(n)
}

/// Deletes a conversation's messages from this device: those up to `up_to_seq` (messages the
/// server has), or all of them when `None`.
pub fn clear_messages(conn: &Connection, conv: &ConvId, up_to_seq: Option<u64>) -> Result<usize> {
    Ok(match up_to_seq {
        Some(seq) => conn
            .prepare_cached("DELETE FROM message WHERE conv_id = ?1 AND seq > 0 AND seq <= ?2")?
            .execute(params![conv.to_string(), seq as i64])?,
        None => conn.prepare_cached("DELETE FROM message WHERE conv_id = ?1")?.execute([conv.to_string()])?,
    })
}

/// Sets the device-local custom data of a message.
pub fn set_local_custom(conn: &Connection, msg_id: &str, data: Option<&str>, int: Option<i32>) -> Result<bool> {
    let mut changed = 0;
    if let Some(data) = data {
        changed += conn
            .prepare_cached("UPDATE message SET local_custom_data = ?2 WHERE msg_id = ?1")?
            .execute(params![msg_id, data])?;
    }
    if let Some(int) = int {
        changed += conn
            .prepare_cached("UPDATE message SET local_custom_int = ?2 WHERE msg_id = ?1")?
            .execute(params![msg_id, int])?;
    }
    Ok(changed > 0)
}

/// Number of stored messages of a conversation, notices excluded (diagnostics and tests).
pub fn count_messages(conn: &Connection, conv: &ConvId) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM message WHERE conv_id = ?1 AND notice = 0")?
        .query_row([conv.to_string()], |r| r.get::<_, i64>(0))? as u64)
}

/// The front of a conversation's queue: at most `limit` messages, in call order.
pub fn send_queue_front(conn: &Connection, me: &str, conv: &ConvId, limit: u32) -> Result<Vec<Message>> {
    let key = conv.to_string();
    // Rows whose message is no longer SENDING (deleted, or settled by the sync) leave first.
    conn.prepare_cached(
        "DELETE FROM send_queue WHERE conv_id = ?1
            AND msg_id NOT IN (SELECT msg_id FROM message WHERE conv_id = ?1 AND status = ?2)",
    )?
    .execute(params![key, MessageStatus::Sending as i32])?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} JOIN send_queue q ON q.msg_id = m.msg_id
          WHERE q.conv_id = ?1 ORDER BY q.pos LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![key, limit as i64], |r| message_from_row(me, r))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
