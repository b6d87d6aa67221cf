//! Read positions: what the user has read of each conversation, and (C2C) what the peer has
//! read of the user's messages.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::model::message::ConvId;

/// Read positions of a conversation: (mine, the peer's, when the peer read, Unix ms).
pub fn read_state(conn: &Connection, conv: &ConvId) -> Result<(u64, u64, i64)> {
    Ok(conn
        .prepare_cached("SELECT read_seq, peer_read_seq, peer_read_ms FROM conv_read WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get(2)?)))
        .optional()?
        .unwrap_or((0, 0, 0)))
}

/// Moves my read position forward; true if it moved.
pub fn advance_read(conn: &Connection, conv: &ConvId, seq: u64) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO conv_read (conv_id, read_seq) VALUES (?1, ?2)
             ON CONFLICT (conv_id) DO UPDATE SET read_seq = excluded.read_seq WHERE excluded.read_seq > read_seq",
        )?
        .execute(params![conv.to_string(), seq as i64])?;
    Ok(changed > 0)
}

/// Moves the peer's read position forward; true if it moved.
pub fn advance_peer_read(conn: &Connection, conv: &ConvId, seq: u64, time_ms: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO conv_read (conv_id, peer_read_seq, peer_read_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (conv_id) DO UPDATE SET peer_read_seq = excluded.peer_read_seq, peer_read_ms = excluded.peer_read_ms
             WHERE excluded.peer_read_seq > peer_read_seq",
        )?
        .execute(params![conv.to_string(), seq as i64, time_ms])?;
    Ok(changed > 0)
}
