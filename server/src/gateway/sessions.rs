//! Who is online: the authenticated sessions of each user, and delivery of frames to them.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

use super::limits::MAX_SESSIONS_PER_USER;
use crate::handlers::{Presence, Push};
use oxim_proto::OutFrame;

/// Out-of-band instructions to a connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Another login of the same user on the same platform took over.
    Kicked {
        /// Platform of the new login.
        by_platform: String,
    },
    /// The connection could not keep up with its outbox; close it.
    Overflow,
    /// Close the connection (administrative, or a test simulating a network loss).
    Disconnect,
}

/// A connection's control queue. Instructions are rare (kicks, overflow, disconnection), and
/// every idle connection keeps one: a [`WaitQueue`] without a bound, never closed.
#[derive(Debug, Clone, Default)]
pub struct ControlQueue(WaitQueue<Control>);

impl ControlQueue {
    /// Queues an instruction for the connection task.
    pub fn send(&self, control: Control) {
        // Unbounded and never closed: always queued.
        let _ = self.0.try_send(control);
    }

    /// Waits for the next instruction (the connection task is the only reader).
    pub async fn recv(&self) -> Control {
        self.0.recv().await
    }
}

/// The frames waiting for a connection's writer, at most `capacity` of them: a push to a full
/// queue closes the connection (its client stopped reading), the connection's own answers wait
/// for room, senders learn when the writer is gone.
pub type FrameQueue = WaitQueue<Utf8Bytes>;

/// A queue with one reader, as every connection keeps two (its frames and its control
/// instructions): a lock, a queue that allocates only while items wait, and a wake-up. A
/// tokio channel would allocate about 1.5 KB a connection up front (its shared state and a first
/// block of 32 slots).
#[derive(Debug, Clone)]
pub struct WaitQueue<T>(Arc<QueueInner<T>>);

#[derive(Debug)]
struct QueueInner<T> {
    state: Mutex<QueueState<T>>,
    capacity: usize,
    /// An item was queued, a full queue was taken from, or the queue closed: the reader and
    /// senders waiting for room wait on it (one wake-up for both: every idle connection keeps
    /// two queues, and a sender waits only on a full one).
    changed: Notify,
}

#[derive(Debug)]
struct QueueState<T> {
    items: VecDeque<T>,
    /// The reader is gone: nothing is queued any more.
    closed: bool,
}

/// Why an item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotQueued {
    /// The queue holds its capacity.
    Full,
    /// The reader is gone (the connection is closing).
    Closed,
}

/// A queue shrinks back once empty if a burst left it with more room than this.
const KEPT_ROOM: usize = 16;

impl<T> Default for WaitQueue<T> {
    /// A queue without a bound.
    fn default() -> Self {
        WaitQueue::new(usize::MAX)
    }
}

impl<T> WaitQueue<T> {
    /// An empty queue of at most `capacity` items.
    pub fn new(capacity: usize) -> WaitQueue<T> {
        WaitQueue(Arc::new(QueueInner {
            state: Mutex::new(QueueState { items: VecDeque::new(), closed: false }),
            capacity,
            changed: Notify::new(),
        }))
    }

    /// Queues `item` unless the queue is full or closed.
    pub fn try_send(&self, item: T) -> Result<(), NotQueued> {
        self.push(item).map_err(|(why, _)| why)
    }

    /// Queues `item`, waiting for room; fails only once the queue is closed.
    pub async fn send(&self, mut item: T) -> Result<(), NotQueued> {
        loop {
            // Registered before the check, so room made in between wakes it.
            let changed = self.0.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.push(item) {
                Ok(()) => return Ok(()),
                Err((NotQueued::Closed, _)) => return Err(NotQueued::Closed),
                Err((NotQueued::Full, back)) => item = back,
            }
            changed.await;
        }
    }

    /// Queues `item`, or gives it back with the reason it was not queued.
    fn push(&self, item: T) -> Result<(), (NotQueued, T)> {
        let mut st = self.0.state.lock().expect("queue lock");
        if st.closed {
            return Err((NotQueued::Closed, item));
        }
        if st.items.len() >= self.0.capacity {
            return Err((NotQueued::Full, item));
        }
        st.items.push_back(item);
        drop(st);
        self.0.changed.notify_waiters();
        Ok(())
    }

    /// The next item, waiting for one (the reader only).
    pub async fn recv(&self) -> T {
        loop {
            // Registered before the check, so an item queued in between wakes it.
            let changed = self.0.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(item) = self.try_recv() {
                return item;
            }
            changed.await;
        }
    }

    /// The next item, if one is queued (the reader only).
    pub fn try_recv(&self) -> Option<T> {
        let mut st = self.0.state.lock().expect("queue lock");
        let item = st.items.pop_front()?;
        let was_full = st.items.len() + 1 >= self.0.capacity;
        if st.items.is_empty() && st.items.capacity() > KEPT_ROOM {
            st.items = VecDeque::new();
        }
        drop(st);
        if was_full {
            self.0.changed.notify_waiters();
        }
        Some(item)
    }

    /// The reader is gone: drops what is queued; senders get [`NotQueued::Closed`] from now on.
    pub fn close(&self) {
        let mut st = self.0.state.lock().expect("queue lock");
        st.closed = true;
        st.items = VecDeque::new();
        drop(st);
        self.0.changed.notify_waiters();
    }
}

/// One authenticated connection, as the registry sees it.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    /// Unique per connection.
    pub conn_id: u64,
    /// Platform given at login.
    pub platform: String,
    /// Frames to write to the socket.
    pub frames: FrameQueue,
    /// Instructions for the connection task.
    pub control: ControlQueue,
}

impl SessionHandle {
    /// Queues a frame without waiting; a full outbox closes the connection instead.
    pub fn deliver(&self, frame: &Utf8Bytes) {
        if let Err(NotQueued::Full) = self.frames.try_send(frame.clone()) {
            self.control.send(Control::Overflow);
        }
    }
}

/// The registry of online sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    users: RwLock<HashMap<String, Vec<SessionHandle>>>,
}

impl Sessions {
    /// Registers `handle` for `user`; returns the sessions it replaces, which the caller kicks:
    /// the one on the same platform, and (the platform is free text, so one user could open
    /// sessions without end) the oldest ones beyond [`MAX_SESSIONS_PER_USER`].
    pub fn bind(&self, user: &str, handle: SessionHandle) -> Vec<SessionHandle> {
        let mut users = self.users.write().expect("sessions lock");
        let list = users.entry(user.to_owned()).or_default();
        let (mut kicked, kept): (Vec<_>, Vec<_>) =
            list.drain(..).partition(|s| s.platform == handle.platform && s.conn_id != handle.conn_id);
        *list = kept;
        list.retain(|s| s.conn_id != handle.conn_id);
        list.push(handle);
        if list.len() > MAX_SESSIONS_PER_USER {
            // Oldest first: the list is in login order.
            let over = list.len() - MAX_SESSIONS_PER_USER;
            kicked.extend(list.drain(..over));
        }
        kicked
    }

    /// Removes connection `conn_id` of `user`, if it is still registered. Returns true if the
    /// user has no session left.
    pub fn unbind(&self, user: &str, conn_id: u64) -> bool {
        let mut users = self.users.write().expect("sessions lock");
        if let Some(list) = users.get_mut(user) {
            list.retain(|s| s.conn_id != conn_id);
            if list.is_empty() {
                users.remove(user);
            }
        }
        !users.contains_key(user)
    }

    /// Whether `user` has a session.
    pub fn is_online(&self, user: &str) -> bool {
        self.users.read().expect("sessions lock").contains_key(user)
    }

    /// The platforms `user` has a session on.
    pub fn platforms(&self, user: &str) -> Vec<String> {
        let users = self.users.read().expect("sessions lock");
        users.get(user).map_or_else(Vec::new, |list| list.iter().map(|s| s.platform.clone()).collect())
    }

    /// Queues `frame` for every session of `user` except connection `except`.
    pub fn deliver(&self, user: &str, frame: &Utf8Bytes, except: Option<u64>) {
        let users = self.users.read().expect("sessions lock");
        if let Some(list) = users.get(user) {
            for s in list.iter().filter(|s| Some(s.conn_id) != except) {
                s.deliver(frame);
            }
        }
    }

    /// Sends `control` to every session of `user`; returns how many there were.
    pub fn control_user(&self, user: &str, control: Control) -> usize {
        let users = self.users.read().expect("sessions lock");
        users.get(user).map_or(0, |list| {
            list.iter().for_each(|s| s.control.send(control.clone()));
            list.len()
        })
    }

    /// Number of authenticated sessions.
    pub fn count(&self) -> usize {
        self.users.read().expect("sessions lock").values().map(Vec::len).sum()
    }
}

impl Presence for Sessions {
    fn is_online(&self, user: &str) -> bool {
        Sessions::is_online(self, user)
    }

    fn push_now(&self, push: &Push) {
        let frame: Utf8Bytes = OutFrame::push(push.event, &push.body).to_json().into();
        for user in &push.to {
            self.deliver(user, &frame, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn handle(conn_id: u64, platform: &str) -> (SessionHandle, FrameQueue) {
        let frames = FrameQueue::new(2);
        (
            SessionHandle {
                conn_id,
                platform: platform.into(),
                frames: frames.clone(),
                control: ControlQueue::default(),
            },
            frames,
        )
    }

    #[test]
    fn same_platform_replaces_other_platforms_coexist() {
        let sessions = Sessions::default();
        assert!(sessions.bind("alice", handle(1, "android").0).is_empty());
        assert!(sessions.bind("alice", handle(2, "ios").0).is_empty());
        let kicked = sessions.bind("alice", handle(3, "android").0);
        assert_eq!(kicked.iter().map(|s| s.conn_id).collect::<Vec<_>>(), [1]);
        assert_eq!(sessions.count(), 2);
        sessions.unbind("alice", 1); // already gone: no effect
        assert_eq!(sessions.count(), 2);
        sessions.unbind("alice", 2);
        sessions.unbind("alice", 3);
        assert_eq!(sessions.count(), 0);
    }

    #[test]
    fn a_user_keeps_at_most_the_newest_sessions() {
        let sessions = Sessions::default();
        let max = MAX_SESSIONS_PER_USER as u64;
        for conn in 1..=max {
            assert!(sessions.bind("alice", handle(conn, &format!("device {conn}")).0).is_empty());
        }
        sessions.bind("bob", handle(100, "android").0);
        // One more platform takes over the oldest session; another user is untouched.
        let kicked = sessions.bind("alice", handle(max + 1, "one too many").0);
        assert_eq!(kicked.iter().map(|s| s.conn_id).collect::<Vec<_>>(), [1]);
        assert_eq!(sessions.count(), MAX_SESSIONS_PER_USER + 1);
        // The same platform again replaces its own session, nobody else's.
        let kicked = sessions.bind("alice", handle(max + 2, "one too many").0);
        assert_eq!(kicked.iter().map(|s| s.conn_id).collect::<Vec<_>>(), [max + 1]);
        assert_eq!(sessions.count(), MAX_SESSIONS_PER_USER + 1);
    }

    #[tokio::test]
    async fn a_frame_queue_is_bounded_and_its_senders_learn_when_the_writer_is_gone() {
        let q = FrameQueue::new(2);
        q.try_send(Utf8Bytes::from_static("a")).unwrap();
        q.send(Utf8Bytes::from_static("b")).await.unwrap();
        assert_eq!(q.try_send(Utf8Bytes::from_static("c")), Err(NotQueued::Full));
        // A sender waits for room, and queues once the writer takes a frame.
        let waiting = tokio::spawn({
            let q = q.clone();
            async move { q.send(Utf8Bytes::from_static("c")).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room: the sender waits");
        assert_eq!(q.recv().await.as_str(), "a");
        tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap().unwrap();
        assert_eq!([q.recv().await.as_str(), q.try_recv().unwrap().as_str()], ["b", "c"]);
        assert!(q.try_recv().is_none());
        // The writer is gone: a sender waiting for room is told, and nothing more is queued.
        q.try_send(Utf8Bytes::from_static("d")).unwrap();
        q.try_send(Utf8Bytes::from_static("e")).unwrap();
        let waiting = tokio::spawn({
            let q = q.clone();
            async move { q.send(Utf8Bytes::from_static("f")).await }
        });
        tokio::task::yield_now().await;
        q.close();
        let told = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
        assert_eq!(told, Err(NotQueued::Closed));
        assert_eq!(q.try_send(Utf8Bytes::from_static("g")), Err(NotQueued::Closed));
        assert!(q.try_recv().is_none(), "what was queued went with the writer");
    }

    #[test]
    fn deliver_skips_the_origin_connection() {
        let sessions = Sessions::default();
        let (h1, rx1) = handle(1, "android");
        let (h2, rx2) = handle(2, "ios");
        sessions.bind("alice", h1);
        sessions.bind("alice", h2);
        sessions.deliver("alice", &Utf8Bytes::from_static("x"), Some(1));
        assert!(rx1.try_recv().is_none());
        assert_eq!(rx2.try_recv().unwrap().as_str(), "x");
    }
}
