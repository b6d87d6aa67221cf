//! The invitation timer's inbox: deadlines handed to it by requests (as effects).

use std::sync::Mutex;

use tokio::sync::mpsc;

/// The timer's inbox: deadlines of new invitations.
pub struct Deadlines {
    tx: mpsc::UnboundedSender<(i64, String)>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<(i64, String)>>>,
}

impl Default for Deadlines {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Deadlines { tx, rx: Mutex::new(Some(rx)) }
    }
}

impl Deadlines {
    /// Asks the timer to expire `invite_id` at `deadline_ms` (server Unix ms).
    pub fn schedule(&self, invite_id: &str, deadline_ms: i64) {
        let _ = self.tx.send((deadline_ms, invite_id.to_owned()));
    }

    /// The receiving end, for the timer (once).
    pub fn take_inbox(&self) -> Option<mpsc::UnboundedReceiver<(i64, String)>> {
        self.rx.lock().expect("deadlines lock").take()
    }
}
