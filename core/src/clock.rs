//! The local clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Local clock, Unix milliseconds.
pub fn unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
