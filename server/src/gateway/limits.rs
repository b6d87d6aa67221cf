//! Per-connection limits and timeouts, in one place. (The idle timeout is configurable:
//! [`crate::config::ServerConfig::idle_timeout`].)

/// Frames waiting for one connection before it counts as too slow and is dropped (it resyncs
/// when it comes back, so nothing is lost).
pub const OUTBOX_CAPACITY: usize = 4096;

/// Most queued frames written with one flush.
pub const MAX_FLUSH_BATCH: usize = 64;

/// Largest WebSocket message accepted (a 12 KB message body plus JSON overhead fits easily).
pub const MAX_WS_MESSAGE: usize = 1 << 20;

/// Read buffer of a connection. tungstenite's default (128 KiB, zero-filled, so resident) made
/// an idle connection cost about 135 KiB; IM frames are mostly under 1 KB, and a larger message
/// grows the buffer as it arrives.
pub const WS_READ_BUFFER: usize = 4 * 1024;

/// Most sessions one user may have at a time (platforms are free text); a login beyond it takes
/// over the user's oldest session, which is kicked as a login on the same platform would.
pub const MAX_SESSIONS_PER_USER: usize = 16;
