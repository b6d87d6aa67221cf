//! Announcements not yet told to the app. A stored delivery that makes callbacks
//! (`onRecvNewMessage`, a revoke, a receipt, a group callback) is recorded here in the
//! transaction that stores it (by `store_received`), and taken out once the app's listeners have returned from those
//! callbacks (the event dispatcher reports it, [`told_up_to`]). What is still here when a
//! session starts — the app was killed, or logged out, between the store and the listener —
//! is told first ([`pending`]), so every stored message is told to the app once.

use rusqlite::{Connection, params};

use super::apply::{Effect, replay_effects};
use crate::error::Result;
use crate::model::message::{MessageStatus, WireMessage};

/// Everything up to position `pos` has been told.
pub fn told_up_to(conn: &Connection, pos: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM announce WHERE pos <= ?1")?.execute(params![pos])?;
    Ok(())
}

/// What is still to be told, in the order it was stored, and the position it ends at.
/// Deliveries whose message was deleted since are left out.
pub fn pending(conn: &Connection, me: &str) -> Result<(Vec<Effect>, Option<i64>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.pos, m.wire, m.status FROM announce a JOIN message m ON m.msg_id = a.msg_id ORDER BY a.pos",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i32>(2)?)))?;
    let mut effects = Vec::new();
    for row in rows {
        let (_, wire, status) = row?;
        match serde_json::from_str::<WireMessage>(&wire) {
            Ok(wire) => effects.extend(replay_effects(me, &wire, MessageStatus::from_i32(status))),
            Err(e) => tracing::warn!("a stored message could not be read to be told again: {e}"),
        }
    }
    // Rows whose message is gone are told by nobody: they go with the acknowledgement.
    let last = conn.prepare_cached("SELECT max(pos) FROM announce")?.query_row([], |r| r.get::<_, Option<i64>>(0))?;
    Ok((effects, last))
}
