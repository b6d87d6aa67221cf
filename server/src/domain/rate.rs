//! A sliding-window rate limit per key: at most `limit` events in any `window`.

use std::collections::{HashMap, VecDeque};
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
