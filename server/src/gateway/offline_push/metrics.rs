//! What offline push did, per business id (one app's provider): counters served by `/metrics`
//! in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One of the counted outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// A provider took a notification.
    Sent,
    /// A notification was given up (a failure, or its tries ran out).
    Failed,
    /// A try after the first.
    Retried,
    /// A provider rejected the token: the device was forgotten.
    TokenForgotten,
    /// Over the business id's rate: dropped.
    RateLimited,
}

const COUNTED: [(Counted, &str, &str); 5] = [
    (Counted::Sent, "oxim_push_sent_total", "Notifications a provider took."),
    (Counted::Failed, "oxim_push_failed_total", "Notifications given up (a failure, or the tries ran out)."),
    (Counted::Retried, "oxim_push_retried_total", "Tries after the first."),
    (
        Counted::TokenForgotten,
        "oxim_push_tokens_forgotten_total",
        "Devices forgotten because the provider rejected their token.",
    ),
    (Counted::RateLimited, "oxim_push_rate_limited_total", "Notifications dropped over the business id's rate limit."),
];

/// The counters.
#[derive(Default)]
pub struct PushMetrics {
    by_business_id: Mutex<BTreeMap<i64, [u64; 5]>>,
    dropped: AtomicU64,
}

impl PushMetrics {
    /// Counts one `what` for `business_id`.
    pub fn count(&self, business_id: i64, what: Counted) {
        let index = COUNTED.iter().position(|(c, _, _)| *c == what).unwrap_or(0);
        self.by_business_id.lock().expect("push metrics").entry(business_id).or_default()[index] += 1;
    }

    /// Counts a message not pushed because the push queue was full.
    pub fn count_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// How many `what` were counted for `business_id`.
    pub fn get(&self, business_id: i64, what: Counted) -> u64 {
        let index = COUNTED.iter().position(|(c, _, _)| *c == what).unwrap_or(0);
        self.by_business_id.lock().expect("push metrics").get(&business_id).map_or(0, |c| c[index])
    }

    /// The counters in Prometheus' text exposition format.
    pub fn prometheus(&self) -> String {
        let counts = self.by_business_id.lock().expect("push metrics").clone();
        let mut out = String::new();
        for (i, (_, name, help)) in COUNTED.iter().enumerate() {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (id, c) in &counts {
                let _ = writeln!(out, "{name}{{business_id=\"{id}\"}} {}", c[i]);
            }
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        let name = "oxim_push_queue_dropped_total";
        let _ = writeln!(
            out,
            "# HELP {name} Messages not pushed because the push queue was full.\n# TYPE {name} counter\n{name} {dropped}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_kept_per_business_id_in_prometheus_text() {
        let m = PushMetrics::default();
        m.count(7, Counted::Sent);
        m.count(7, Counted::Sent);
        m.count(9, Counted::RateLimited);
        m.count_dropped();
        assert_eq!((m.get(7, Counted::Sent), m.get(9, Counted::Sent)), (2, 0));
        let text = m.prometheus();
        assert!(text.contains("oxim_push_sent_total{business_id=\"7\"} 2\n"), "{text}");
        assert!(text.contains("oxim_push_rate_limited_total{business_id=\"9\"} 1\n"), "{text}");
        assert!(text.contains("# TYPE oxim_push_retried_total counter\n"), "{text}");
        assert!(text.contains("oxim_push_queue_dropped_total 1\n"), "{text}");
    }
}
