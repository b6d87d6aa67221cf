//! Per-connection limits and timeouts, in one place. (The idle timeout is configurable:
//! [`crate::config::ServerConfig::idle_timeout`].)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests one connection may have in flight (read, not yet answered). With this many, the
/// connection reads nothing more until one is answered: the client's further requests wait in
/// its socket (backpressure through TCP), and nothing is refused.
pub const MAX_IN_FLIGHT: usize = 128;

/// Frames waiting for one connection before it counts as too slow and is dropped (it resyncs
/// when it comes back, so nothing is lost).
pub const OUTBOX_CAPACITY: usize = 4096;

/// Most queued frames written with one flush.
pub const MAX_FLUSH_BATCH: usize = 64;

/// Largest WebSocket message (and frame) accepted (a 12 KB message body plus JSON overhead fits
/// easily). A larger one closes the connection with 1009 (Message Too Big); a frame announcing
/// more is refused from its header, before its payload is buffered.
pub const MAX_WS_MESSAGE: usize = 1 << 20;

/// Read buffer of a connection. tungstenite's default (128 KiB, zero-filled, so resident) made
/// an idle connection cost about 135 KiB; IM frames are mostly under 1 KB, and a larger message
/// grows the buffer as it arrives.
pub const WS_READ_BUFFER: usize = 4 * 1024;

/// Most sessions one user may have at a time (platforms are free text); a login beyond it takes
/// over the user's oldest session, which is kicked as a login on the same platform would.
pub const MAX_SESSIONS_PER_USER: usize = 16;

/// Whether a read error of a connection is a message over [`MAX_WS_MESSAGE`].
pub fn is_too_big(error: &axum::Error) -> bool {
    use std::error::Error as _;
    use tungstenite::error::{CapacityError, Error};
    let too_long = |e: &Error| matches!(e, Error::Capacity(CapacityError::MessageTooLong { .. }));
    error.source().and_then(|e| e.downcast_ref::<Error>()).is_some_and(too_long)
}

/// The in-flight places of one connection ([`MAX_IN_FLIGHT`]).
pub(super) struct Slots(Arc<Semaphore>);

/// A request's place among its connection's requests in flight, held until it is answered.
pub(super) type Slot = OwnedSemaphorePermit;

impl Slots {
    pub(super) fn new() -> Slots {
        Slots(Arc::new(Semaphore::new(MAX_IN_FLIGHT)))
    }

    /// Waits for a free place, and records in `peak` the most places ever taken at once.
    pub(super) async fn take(&self, peak: &AtomicUsize) -> Slot {
        let slot = self.0.clone().acquire_owned().await.expect("the slots are never closed");
        let taken = MAX_IN_FLIGHT - self.0.available_permits();
        if taken > peak.load(Ordering::Relaxed) {
            peak.fetch_max(taken, Ordering::Relaxed);
        }
        slot
    }
}
