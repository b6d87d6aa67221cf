//! Per-app rate limits of offline push: one token bucket per business id, refilled at
//! `rate_per_minute` up to `burst`. A notification that finds its bucket empty is dropped (and
//! counted): delaying it would hold up the device's later notifications behind it, and a vendor
//! over its quota drops it anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The buckets.
pub struct RateLimits {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimits {
    /// Limits of `rate_per_minute` notifications per business id (0: none), at most `burst` at
    /// once (at least 1).
    pub fn new(rate_per_minute: u32, burst: u32) -> RateLimits {
        RateLimits {
            per_second: f64::from(rate_per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a notification for `business_id` may go now (taking a token when it may).
    pub fn admit(&self, business_id: i64) -> bool {
        self.admit_at(business_id, Instant::now())
    }

    fn admit_at(&self, business_id: i64, now: Instant) -> bool {
        if self.per_second == 0.0 {
            return true;
        }
        let mut buckets = self.buckets.lock().expect("push rate limits");
        let (tokens, last) = buckets.entry(business_id).or_insert((self.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_per_business_id_refills_at_the_rate_up_to_the_burst() {
        let limits = RateLimits::new(60, 2);
        let t0 = Instant::now();
        assert!(limits.admit_at(1, t0) && limits.admit_at(1, t0));
        assert!(!limits.admit_at(1, t0), "the burst is spent");
        assert!(limits.admit_at(2, t0), "another business id has its own bucket");
        assert!(!limits.admit_at(1, t0 + Duration::from_millis(500)));
        assert!(limits.admit_at(1, t0 + Duration::from_millis(1500)), "one a second");
        assert!(limits.admit_at(1, t0 + Duration::from_secs(60)) && limits.admit_at(1, t0 + Duration::from_secs(60)));
        assert!(!limits.admit_at(1, t0 + Duration::from_secs(60)), "never more than the burst");
        let none = RateLimits::new(0, 1);
        assert!((0..1000).all(|_| none.admit(1)));
    }
}
