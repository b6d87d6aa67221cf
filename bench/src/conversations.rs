//! Conversation list: the first page of 100 of 10,000 conversations, and the total unread
//! count, through the public API. Target: ≤ 10 ms.
//!
//! PENDING: the conversation manager does not exist yet (it is being built). When it lands,
//! replace [`conversation_list_pending`] with a measurement that
//! 1. fills a device's store with 10,000 conversations (a fixture through the SDK's store
//!    module, as `history.rs` does for messages: `store_received` per conversation, plus
//!    unread positions),
//! 2. logs in, then times, through `Manager::conversation_manager()` (V2TIM's
//!    `getConversationManager()`), `get_conversation_list(next_seq = 0, count = 100)` and
//!    `get_total_unread_message_count()`, a few hundred times each, and reports p50/p99/max
//!    of the two calls together against the 10 ms target.

use crate::report::{Met, Row};

/// The row's metric.
pub const METRIC: &str = "conversation list (100 of 10,000) + total unread";

/// The row while the conversation manager does not exist.
pub fn conversation_list_pending() -> Row {
    Row::new(METRIC, "pending: conversation manager".into(), "≤ 10 ms", Met::Pending)
}
