//! Per-connection limits and timeouts, in one place. (The idle timeout is configurable:
//! [`crate::config::ServerConfig::idle_timeout`].)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::rate::{Rate, SendHolds, SendRate};

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

/// The close code of a socket that did not log in within the login deadline
/// ([`crate::config::LimitSettings::login_deadline_secs`]). The SDK takes it as "idle", not as a
/// failure: it connects again when the app logs in.
pub const CLOSE_LOGIN_DEADLINE: u16 = oxim_proto::frame::CLOSE_LOGIN_DEADLINE;

/// The message buckets of the users signed in: one per user, shared by all their sessions, so
/// more sessions do not buy a user more messages. Only sign-in and sign-out take this lock;
/// a send uses the bucket its connection holds (lock-free, O(1)).
#[derive(Debug, Default)]
pub struct SendRates {
    users: Mutex<HashMap<String, Weak<SendRate>>>,
    /// Messages refused for the rate since the start (the connections' holds count them).
    refused: Arc<AtomicU64>,
}

impl SendRates {
    /// The bucket of `user` (a new, full one of `rate` when none of their sessions holds one).
    pub fn sign_in(&self, user: &str, rate: Rate) -> Arc<SendRate> {
        let mut users = self.users.lock().expect("send rates lock");
        if let Some(bucket) = users.get(user).and_then(Weak::upgrade) {
            return bucket;
        }
        let bucket = Arc::new(SendRate::new(rate));
        users.insert(user.to_owned(), Arc::downgrade(&bucket));
        bucket
    }

    /// A session of `user` gives its bucket back; the last one forgets the user.
    pub fn sign_out(&self, user: &str, bucket: Arc<SendRate>) {
        let mut users = self.users.lock().expect("send rates lock");
        drop(bucket);
        if users.get(user).is_some_and(|w| w.strong_count() == 0) {
            users.remove(user);
        }
    }

    /// What a new connection holds back after refusals (none yet), counting into this.
    pub fn holds(&self) -> Arc<SendHolds> {
        Arc::new(SendHolds::new(self.refused.clone()))
    }

    /// Messages refused for the user rate (-10113) since the server started.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Users with a bucket.
    pub fn len(&self) -> usize {
        self.users.lock().expect("send rates lock").len()
    }

    /// Whether no user has a bucket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_sessions_share_one_bucket_until_the_last_signs_out() {
        let rates = SendRates::default();
        let rate = Rate { per_sec: 1, burst: 2 };
        let (a, b) = (rates.sign_in("alice", rate), rates.sign_in("alice", rate));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(a.take(0) && b.take(0), "the burst of two");
        assert!(!a.take(0) && !b.take(0), "spent by both sessions together");
        let other = rates.sign_in("bob", rate);
        assert!(other.take(0), "another user has a bucket of their own");
        rates.sign_out("alice", a);
        assert_eq!(rates.len(), 2, "alice still has a session");
        rates.sign_out("alice", b);
        rates.sign_out("bob", other);
        assert!(rates.is_empty());
    }
}
