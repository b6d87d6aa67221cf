//! Invitations this device knows of: every signaling message it stores or is pushed records its
//! invitation, so `addInvitedSignaling` can tell a new one from a known one (8012).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::model::message::SignalingInfo;

/// Records that this device knows invitation `info.invite_id` (the first action seen is kept).
pub fn record_invitation(conn: &Connection, info: &SignalingInfo) -> Result<()> {
    conn.prepare_cached("INSERT INTO invitation (invite_id, info) VALUES (?1, ?2) ON CONFLICT (invite_id) DO NOTHING")?
        .execute(params![info.invite_id, info.to_json()])?;
    Ok(())
}

/// Whether this device knows invitation `invite_id`.
pub fn knows_invitation(conn: &Connection, invite_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM invitation WHERE invite_id = ?1")?
        .query_row([invite_id], |_| Ok(()))
        .optional()?
        .is_some())
}
