//! The send queue: the user's outgoing messages that the server has not accepted yet, per
//! conversation, in the order `sendMessage` was called (a message resent after it failed goes
//! to the end). It is a table, so the order survives a restart: the message manager drains
//! each conversation's queue front first after every (re)connection and login.
//!
//! The queued messages themselves are read with [`super::send_queue_front`] (with the other
//! message reads). A row is queued exactly while its message is SENDING: [`super::insert_outgoing`] queues,
//! [`super::mark_sent`] and [`super::mark_failed`] take it out, and rows whose message left
//! SENDING some other way (deleted, settled by the sync) are dropped when the queue is read.

use rusqlite::{Connection, params};

use crate::error::{Error, Result};
use crate::model::message::{ConvId, MessageStatus};

/// Puts a SENDING message at the end of its conversation's queue (no effect if it is queued
/// already or not SENDING); true if it is queued now.
pub fn enqueue(conn: &Connection, conv: &ConvId, msg_id: &str) -> Result<bool> {
    conn.prepare_cached(
        "INSERT INTO send_queue (conv_id, msg_id)
         SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM message WHERE msg_id = ?2 AND status = ?3)
         ON CONFLICT (msg_id) DO NOTHING",
    )?
    .execute(params![conv.to_string(), msg_id, MessageStatus::Sending as i32])?;
    is_queued(conn, msg_id)
}

/// Whether `msg_id` is in a send queue.
pub fn is_queued(conn: &Connection, msg_id: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM send_queue WHERE msg_id = ?1")?.exists([msg_id])?)
}

/// Takes a message out of its queue.
pub fn dequeue(conn: &Connection, msg_id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM send_queue WHERE msg_id = ?1")?.execute([msg_id])?;
    Ok(())
}

/// The conversations whose queues hold messages, in the order of their oldest one.
pub fn queued_conversations(conn: &Connection) -> Result<Vec<ConvId>> {
    let mut stmt = conn.prepare_cached("SELECT conv_id FROM send_queue GROUP BY conv_id ORDER BY min(pos)")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        let conv = row?;
        out.push(ConvId::parse(&conv).ok_or_else(|| Error::db(format!("bad conversation id {conv}")))?);
    }
    Ok(out)
}
