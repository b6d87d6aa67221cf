//! What of a stream a user sees: the part after what they cleared (or before they joined), up
//! to where a former member left; nothing of a group they never belonged to. Every read and
//! every per-user write of a stream goes through it.

use oxim_proto::code;
use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::keys::{conv_id_of, group_of_key};
use crate::store::{StoreError, StoreResult};

/// The part of a stream a user sees: after `from` (cleared, or joined later), up to `until`
/// (a former group member's last seq; `i64::MAX` = no bound).
pub(super) struct View {
    /// Seqs up to this one are not the user's (cleared, or before joining).
    pub(super) from: i64,
    /// The last seq the user sees.
    pub(super) until: i64,
}

/// `user`'s view of stream `key`. A group the user never belonged to has none (they see
/// nothing of it); other streams start empty.
pub(super) fn view_of(c: &Connection, user: &str, key: &str) -> StoreResult<Option<View>> {
    // The user's row, by its primary key (the user's id for the stream, derived from the key).
    let row: Option<(i64, i64)> = match conv_id_of(user, key) {
        Some(conv) => c
            .prepare_cached("SELECT cleared_seq, until_seq FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?
            .query_row(params![user, conv.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
        None => None,
    };
    Ok(match row {
        Some((from, until)) => Some(View { from, until: if until > 0 { until } else { i64::MAX } }),
        None if group_of_key(key).is_some() => None,
        None => Some(View { from: 0, until: i64::MAX }),
    })
}

/// The refusal for a user asking about a group they never belonged to (10007).
pub(super) fn not_a_member(key: &str) -> StoreError {
    let group = group_of_key(key).unwrap_or(key);
    StoreError::refused(code::SVR_GROUP_PERMISSION_DENY, format!("you are not a member of group {group}"))
}
