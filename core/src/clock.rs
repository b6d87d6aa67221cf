//! The local clock.

/// Local clock, Unix milliseconds (`oxim_proto::clock`, the one definition SDK and server share).
pub use oxim_proto::clock::now_ms as unix_ms;
