//! The time, as the server's rules see it. Everything that needs the time gets a [`Clock`]:
//! the running server a [`SystemClock`], tests a [`ManualClock`] they move by hand.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A source of the time.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time in Unix milliseconds (message times, deadlines, mutes).
    fn now_ms(&self) -> i64;
    /// Monotonic time (rate windows: a wall clock moved back must not reopen them).
    fn instant(&self) -> Instant;
}

/// The system's clocks ([`oxim_proto::clock::now_ms`], [`Instant::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        oxim_proto::clock::now_ms()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it (both of its times
/// together).
#[derive(Debug)]
pub struct ManualClock {
    at: Mutex<(i64, Instant)>,
}

impl ManualClock {
    /// A clock at Unix time `now_ms`.
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock { at: Mutex::new((now_ms, Instant::now())) }
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        let mut at = self.at.lock().expect("clock lock");
        at.0 += by.as_millis() as i64;
        at.1 += by;
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.at.lock().expect("clock lock").0
    }

    fn instant(&self) -> Instant {
        self.at.lock().expect("clock lock").1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_times_together() {
        let clock = ManualClock::new(1_000);
        let start = clock.instant();
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now_ms(), 2_500);
        assert_eq!(clock.instant() - start, Duration::from_millis(1_500));
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
