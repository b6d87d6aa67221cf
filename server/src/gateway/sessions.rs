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
/// every idle connection keeps one of these: a channel would allocate a block of slots up
/// front (about 1.3 KB a connection); this is a lock, an empty queue and a wake-up.
#[derive(Debug, Clone, Default)]
pub struct ControlQueue(Arc<ControlInner>);

#[derive(Debug, Default)]
struct ControlInner {
    pending: Mutex<VecDeque<Control>>,
    wake: Notify,
}

impl ControlQueue {
    /// Queues an instruction for the connection task.
    pub fn send(&self, control: Control) {
        self.0.pending.lock().expect("control lock").push_back(control);
        self.0.wake.notify_one();
    }

    /// Waits for the next instruction (the connection task is the only reader).
    pub async fn recv(&self) -> Control {
        loop {
            if let Some(control) = self.0.pending.lock().expect("control lock").pop_front() {
                return control;
            }
            // A send between the check and this wait left a permit: no wake-up is lost.
            self.0.wake.notified().await;
        }
    }
}

/// The frames waiting for a connection's writer, at most `capacity` of them: a push to a full
/// queue closes the connection (its client stopped reading), the connection's own answers wait
/// for room. Every connection keeps one: a tokio channel allocates about 1.5 KB up front (its
/// shared state and a first block of 32 slots), this only a lock and an empty queue until
/// frames wait.
#[derive(Debug, Clone)]
pub struct FrameQueue(Arc<FrameInner>);

#[derive(Debug)]
struct FrameInner {
    state: Mutex<FrameState>,
    capacity: usize,
    /// A frame was queued (the writer, the only reader, waits on it).
    queued: Notify,
    /// The writer took frames, or the queue closed (senders waiting for room wait on it).
    taken: Notify,
}

#[derive(Debug, Default)]
struct FrameState {
    frames: VecDeque<Utf8Bytes>,
    /// The writer is gone: nothing is queued any more.
    closed: bool,
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotQueued {
    /// The queue holds its capacity.
    Full,
    /// The writer is gone (the connection is closing).
    Closed,
}

/// A queue shrinks back once empty if a burst left it with more room than this.
const KEPT_FRAME_ROOM: usize = 16;

impl FrameQueue {
    /// An empty queue of at most `capacity` frames.
    pub fn new(capacity: usize) -> FrameQueue {
        FrameQueue(Arc::new(FrameInner {
            state: Mutex::new(FrameState::default()),
            capacity,
            queued: Notify::new(),
            taken: Notify::new(),
        }))
    }

    /// Queues `frame` unless the queue is full or closed.
    pub fn try_send(&self, frame: Utf8Bytes) -> Result<(), NotQueued> {
        self.push(frame).map_err(|(why, _)| why)
    }

    /// Queues `frame`, waiting for room; fails only once the queue is closed.
    pub async fn send(&self, mut frame: Utf8Bytes) -> Result<(), NotQueued> {
        loop {
            // Registered before the check, so room made in between wakes it.
            let taken = self.0.taken.notified();
            tokio::pin!(taken);
            taken.as_mut().enable();
            match self.push(frame) {
                Ok(()) => return Ok(()),
                Err((NotQueued::Closed, _)) => return Err(NotQueued::Closed),
                Err((NotQueued::Full, back)) => frame = back,
            }
            taken.await;
        }
    }

    /// Queues `frame`, or gives it back with the reason it was not queued.
    fn push(&self, frame: Utf8Bytes) -> Result<(), (NotQueued, Utf8Bytes)> {
        let mut st = self.0.state.lock().expect("frame queue lock");
        if st.closed {
            return Err((NotQueued::Closed, frame));
        }
        if st.frames.len() >= self.0.capacity {
            return Err((NotQueued::Full, frame));
        }
        st.frames.push_back(frame);
        drop(st);
        self.0.queued.notify_one();
        Ok(())
    }

    /// The next frame, waiting for one (the writer only).
    pub async fn recv(&self) -> Utf8Bytes {
        loop {
            if let Some(frame) = self.try_recv() {
                return frame;
            }
            // A frame queued between the check and this wait left a permit: none is missed.
            self.0.queued.notified().await;
        }
    }

    /// The next frame, if one is queued (the writer only).
    pub fn try_recv(&self) -> Option<Utf8Bytes> {
        let mut st = self.0.state.lock().expect("frame queue lock");
        let frame = st.frames.pop_front()?;
        let was_full = st.frames.len() + 1 >= self.0.capacity;
        if st.frames.is_empty() && st.frames.capacity() > KEPT_FRAME_ROOM {
            st.frames = VecDeque::new();
        }
        drop(st);
        if was_full {
            self.0.taken.notify_waiters();
        }
        Some(frame)
    }

    /// The writer is gone: drops what is queued; senders get [`NotQueued::Closed`] from now on.
    pub fn close(&self) {
        let mut st = self.0.state.lock().expect("frame queue lock");
        st.closed = true;
        st.frames = VecDeque::new();
        drop(st);
        self.0.taken.notify_waiters();
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
