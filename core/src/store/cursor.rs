//! Per-conversation sync state: the cursor (`synced_seq`: complete up to here) and the floor
//! (`floor_seq`: complete from here).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::model::message::ConvId;

/// The sync cursor of a conversation, `None` if this device has never synced it (a row with a
/// negative cursor is a conversation known only from local activity).
pub fn synced_seq(conn: &Connection, conv: &ConvId) -> Result<Option<u64>> {
    Ok(conn
        .prepare_cached("SELECT synced_seq FROM conversation WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| r.get::<_, i64>(0))
        .optional()?
        .filter(|v| *v >= 0)
        .map(|v| v as u64))
}

/// Starts syncing a conversation the device has not synced, complete from `after + 1`; true if
/// it started now. No effect if it is already synced.
pub fn start_conversation(conn: &Connection, conv: &ConvId, after: u64) -> Result<bool> {
    let started = conn
        .prepare_cached(
            "INSERT INTO conversation (conv_id, synced_seq, floor_seq) VALUES (?1, ?2, ?3)
             ON CONFLICT (conv_id) DO UPDATE SET synced_seq = excluded.synced_seq, floor_seq = excluded.floor_seq
             WHERE synced_seq < 0",
        )?
        .execute(params![conv.to_string(), after as i64, after as i64 + 1])?
        > 0;
    if started && after > 0 {
        // Older messages stay on the server; their unread count comes from there.
        super::conversations::set_gap_until(conn, conv, after)?;
    }
    Ok(started)
}

/// Moves a conversation's sync cursor forward (never back).
pub fn set_synced_seq(conn: &Connection, conv: &ConvId, seq: u64) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET synced_seq = max(synced_seq, ?2) WHERE conv_id = ?1")?
        .execute(params![conv.to_string(), seq as i64])?;
    Ok(())
}

/// The history floor of a conversation (1 = complete from the start; 0 if untracked).
pub fn floor_seq(conn: &Connection, conv: &ConvId) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT floor_seq FROM conversation WHERE conv_id = ?1")?
        .query_row([conv.to_string()], |r| r.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0) as u64)
}

/// Lowers the history floor (older history was fetched); never raises it.
pub fn lower_floor(conn: &Connection, conv: &ConvId, floor: u64) -> Result<()> {
    conn.prepare_cached("UPDATE conversation SET floor_seq = min(floor_seq, ?2) WHERE conv_id = ?1")?
        .execute(params![conv.to_string(), floor.max(1) as i64])?;
    Ok(())
}
