//! Rate limits: a sliding window per key (at most `limit` events in any `window`), a token
//! bucket ([`SendRate`]) for one user's messages, and the holds ([`SendHolds`]) that keep a
//! connection's messages in order when the bucket refuses one of them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Recent events per key (group attribute writes per group, for example).
#[derive(Debug, Default)]
pub struct SlidingWindow {
    recent: HashMap<String, VecDeque<Instant>>,
}

impl SlidingWindow {
    /// How many events `key` had in the `window` before `now`.
    pub fn count(&mut self, key: &str, window: Duration, now: Instant) -> usize {
        let Some(recent) = self.recent.get_mut(key) else { return 0 };
        while recent.front().is_some_and(|t| now.duration_since(*t) >= window) {
            recent.pop_front();
        }
        recent.len()
    }

    /// Records an event of `key` at `now`.
    pub fn record(&mut self, key: &str, now: Instant) {
        self.recent.entry(key.to_owned()).or_default().push_back(now);
    }
}

/// A rate: `per_sec` events a second on average, up to `burst` at once after a quiet spell.
/// `per_sec == 0` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained events per second (0: unlimited).
    pub per_sec: u32,
    /// Events allowed at once (at least 1).
    pub burst: u32,
}

/// A token bucket, lock-free: one atomic (GCRA, the "theoretical arrival time" form of a token
/// bucket), so the sessions of one user share it without a lock and a check is O(1). It is
/// full when created.
#[derive(Debug)]
pub struct SendRate {
    rate: Rate,
    /// When the bucket would be full again, in microseconds on the caller's clock; `i64::MIN`:
    /// full.
    full_at_us: AtomicI64,
}

impl SendRate {
    /// A full bucket of `rate`.
    pub fn new(rate: Rate) -> SendRate {
        SendRate { rate, full_at_us: AtomicI64::new(i64::MIN) }
    }

    /// Takes one token at `now_ms` (Unix ms, any clock that does not run backwards much);
    /// false, taking nothing, when the bucket is empty.
    pub fn take(&self, now_ms: i64) -> bool {
        if self.rate.per_sec == 0 {
            return true;
        }
        let cost = 1_000_000 / i64::from(self.rate.per_sec);
        // The bucket may run at most `burst` tokens ahead of the clock.
        let tolerance = cost * i64::from(self.rate.burst.max(1));
        let now = now_ms.saturating_mul(1000);
        let mut full_at = self.full_at_us.load(Ordering::Relaxed);
        loop {
            let next = full_at.max(now) + cost;
            if next - now > tolerance {
                return false;
            }
            match self.full_at_us.compare_exchange_weak(full_at, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(seen) => full_at = seen,
            }
        }
    }
}

/// How long a conversation stays held after its message was refused for the rate, unless that
/// message comes again first: longer than the SDK's longest wait between two attempts (5 s).
pub const HOLD_MS: i64 = 10_000;

/// One connection's conversations held back after a refusal for the user's message rate.
///
/// A client sends a conversation's messages pipelined; the bucket may refuse one and, having
/// refilled a token meanwhile, accept the next, which would then be stored before the refused
/// one. So once a message of a conversation is refused on a connection, the later messages of
/// that conversation on the connection are refused too (without taking a token) until the
/// refused message comes again, or for at most [`HOLD_MS`] (its sender gave it up).
#[derive(Debug, Default)]
pub struct SendHolds {
    /// Conversation -> (the refused message, when it was last refused, Unix ms).
    held: Mutex<HashMap<String, (String, i64)>>,
    /// Messages refused for the rate (a server-wide count, shared by the connections).
    refused: std::sync::Arc<AtomicU64>,
}

impl SendHolds {
    /// No conversation held; refusals are counted in `refused`.
    pub fn new(refused: std::sync::Arc<AtomicU64>) -> SendHolds {
        SendHolds { held: Mutex::default(), refused }
    }

    /// Takes a token of `bucket` for message `msg_id` of conversation `conv` at `now_ms`;
    /// false (taking nothing) when the bucket is empty or an earlier refused message of `conv`
    /// has not come again yet.
    pub fn take(&self, bucket: &SendRate, conv: &str, msg_id: &str, now_ms: i64) -> bool {
        let mut held = self.held.lock().expect("send holds lock");
        if let Some((refused, at)) = held.get(conv) {
            if refused != msg_id && now_ms - at < HOLD_MS {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            held.remove(conv);
        }
        if bucket.take(now_ms) {
            return true;
        }
        held.insert(conv.to_owned(), (msg_id.to_owned(), now_ms));
        self.refused.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Counts a refusal made without a hold (a message outside the ordered queues).
    pub fn count_refusal(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_passes_its_burst_then_its_rate() {
        let bucket = SendRate::new(Rate { per_sec: 10, burst: 5 });
        let t0 = 1_700_000_000_000;
        assert_eq!((0..20).filter(|_| bucket.take(t0)).count(), 5, "the burst, at once");
        assert!(!bucket.take(t0 + 99), "a token takes 100 ms to come back");
        assert!(bucket.take(t0 + 100));
        assert!(!bucket.take(t0 + 100));
        // Sending at the rate is never refused.
        assert!((1..=50).all(|i| bucket.take(t0 + 100 + i * 100)));
        // A quiet spell refills it up to the burst, not beyond.
        let later = t0 + 60_000;
        assert_eq!((0..20).filter(|_| bucket.take(later)).count(), 5);
    }

    #[test]
    fn a_zero_rate_is_no_limit() {
        let bucket = SendRate::new(Rate { per_sec: 0, burst: 0 });
        assert!((0..10_000).all(|_| bucket.take(0)));
    }

    #[test]
    fn events_leave_the_window_when_it_has_passed_them() {
        let mut w = SlidingWindow::default();
        let t0 = Instant::now();
        let sec = Duration::from_secs(1);
        w.record("g", t0);
        w.record("g", t0 + Duration::from_millis(500));
        assert_eq!(w.count("g", sec, t0 + Duration::from_millis(999)), 2);
        assert_eq!(w.count("g", sec, t0 + sec), 1, "the first is a full window old");
        assert_eq!(w.count("h", sec, t0), 0);
    }

    #[test]
    fn a_refused_message_holds_back_the_later_ones_of_its_conversation_until_it_comes_again() {
        let counter = std::sync::Arc::new(AtomicU64::new(0));
        let holds = SendHolds::new(counter.clone());
        let bucket = SendRate::new(Rate { per_sec: 10, burst: 1 });
        let t0 = 1_700_000_000_000;
        assert!(holds.take(&bucket, "bob", "m1", t0));
        assert!(!holds.take(&bucket, "bob", "m2", t0), "the bucket is empty");
        // A token is back, but m3 may not pass m2; another conversation may.
        assert!(!holds.take(&bucket, "bob", "m3", t0 + 100));
        assert!(holds.take(&bucket, "carol", "c1", t0 + 100));
        assert!(holds.take(&bucket, "bob", "m2", t0 + 200), "m2 again: released");
        assert!(holds.take(&bucket, "bob", "m3", t0 + 300));
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        // A refused message that never comes again holds its conversation for HOLD_MS at most.
        assert!(!holds.take(&bucket, "bob", "m4", t0 + 300));
        assert!(!holds.take(&bucket, "bob", "m5", t0 + 300 + HOLD_MS - 1));
        assert!(holds.take(&bucket, "bob", "m5", t0 + 300 + HOLD_MS));
    }
}
