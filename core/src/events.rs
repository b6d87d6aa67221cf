//! The event dispatcher: ONE thread in the process calls the app's listeners, for every SDK
//! instance; each instance's events reach its listeners in the order they were emitted.
//!
//! Instances take turns: an instance with queued events waits in line, and a turn delivers at
//! most [`FAIR_SHARE`] of its events before the next instance's turn. A listener that blocks
//! holds up the thread, so every instance's events wait (in order) until it returns.
//!
//! Emitting never blocks and never calls app code. The dispatcher copies the listener list
//! under a short lock and calls the listeners after releasing it, so a listener may add or
//! remove listeners, or call back into the SDK. A listener that panics (or, through the FFI,
//! throws) is logged and skipped; the SDK keeps running.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread::ThreadId;

use crate::listener::{
    AdvancedMsgListener, ConversationListener, FriendshipListener, GroupListener, SdkListener, SignalingListener,
    SimpleMsgListener,
};
pub use crate::model::event::Event;
use crate::model::friendship::FriendshipEvent;
use crate::model::group::{GroupEvent, GroupMemberInfo};
use crate::model::message::{Elem, Message, SignalingAction, SignalingInfo};

/// Identifies a registered listener, for removal. Unique in the process, across listener kinds
/// and SDK instances, so removing an id another instance issued is a harmless no-op.
pub type ListenerId = u64;

static NEXT_LISTENER_ID: AtomicU64 = AtomicU64::new(1);

/// Adds `listener` to `list` under a new id.
fn register<T: ?Sized>(list: &RwLock<Vec<(ListenerId, Arc<T>)>>, listener: Arc<T>) -> ListenerId {
    let id = NEXT_LISTENER_ID.fetch_add(1, Ordering::Relaxed);
    list.write().expect("listeners lock").push((id, listener));
    id
}

/// The registered listeners.
#[derive(Default)]
pub struct Listeners {
    /// The listener given to `initSDK` (if any) and those added with `addIMSDKListener`.
    sdk: RwLock<Vec<(ListenerId, Arc<dyn SdkListener>)>>,
    /// Which entry of `sdk` is `initSDK`'s (replaced by the next `initSDK`).
    init_sdk_listener: RwLock<Option<ListenerId>>,
    simple: RwLock<Vec<(ListenerId, Arc<dyn SimpleMsgListener>)>>,
    advanced: RwLock<Vec<(ListenerId, Arc<dyn AdvancedMsgListener>)>>,
    group: RwLock<Vec<(ListenerId, Arc<dyn GroupListener>)>>,
    conversation: RwLock<Vec<(ListenerId, Arc<dyn ConversationListener>)>>,
    signaling: RwLock<Vec<(ListenerId, Arc<dyn SignalingListener>)>>,
    friendship: RwLock<Vec<(ListenerId, Arc<dyn FriendshipListener>)>>,
}

impl Listeners {
    /// Sets (or clears) the SDK listener given to `initSDK`; listeners added with
    /// [`Listeners::add_sdk`] stay.
    pub fn set_sdk(&self, listener: Option<Arc<dyn SdkListener>>) {
        let mut init = self.init_sdk_listener.write().expect("listeners lock");
        if let Some(old) = init.take() {
            self.sdk.write().expect("listeners lock").retain(|(i, _)| *i != old);
        }
        *init = listener.map(|l| self.add_sdk(l));
    }

    /// Adds an SDK listener (`addIMSDKListener`).
    pub fn add_sdk(&self, listener: Arc<dyn SdkListener>) -> ListenerId {
        register(&self.sdk, listener)
    }

    /// Adds a simple message listener.
    pub fn add_simple(&self, listener: Arc<dyn SimpleMsgListener>) -> ListenerId {
        register(&self.simple, listener)
    }

    /// Adds an advanced message listener.
    pub fn add_advanced(&self, listener: Arc<dyn AdvancedMsgListener>) -> ListenerId {
        register(&self.advanced, listener)
    }

    /// Adds a conversation listener.
    pub fn add_conversation(&self, listener: Arc<dyn ConversationListener>) -> ListenerId {
        register(&self.conversation, listener)
    }

    /// Replaces every conversation listener with `listener` (V2TIM's `setConversationListener`).
    pub fn set_conversation(&self, listener: Arc<dyn ConversationListener>) -> ListenerId {
        self.conversation.write().expect("listeners lock").clear();
        self.add_conversation(listener)
    }

    /// Adds a group listener.
    pub fn add_group(&self, listener: Arc<dyn GroupListener>) -> ListenerId {
        register(&self.group, listener)
    }

    /// Adds a signaling listener.
    pub fn add_signaling(&self, listener: Arc<dyn SignalingListener>) -> ListenerId {
        register(&self.signaling, listener)
    }

    /// Adds a friendship listener (`addFriendListener`).
    pub fn add_friendship(&self, listener: Arc<dyn FriendshipListener>) -> ListenerId {
        register(&self.friendship, listener)
    }

    /// Replaces every friendship listener with `listener` (V2TIM's `setFriendListener`).
    pub fn set_friendship(&self, listener: Arc<dyn FriendshipListener>) -> ListenerId {
        self.friendship.write().expect("listeners lock").clear();
        self.add_friendship(listener)
    }

    /// Removes the listener registered under `id`, whatever its kind; false if there is none.
    pub fn remove(&self, id: ListenerId) -> bool {
        fn remove_from<T: ?Sized>(list: &RwLock<Vec<(ListenerId, Arc<T>)>>, id: ListenerId) -> bool {
            let mut list = list.write().expect("listeners lock");
            let before = list.len();
            list.retain(|(i, _)| *i != id);
            list.len() != before
        }
        remove_from(&self.sdk, id)
            || remove_from(&self.simple, id)
            || remove_from(&self.advanced, id)
            || remove_from(&self.group, id)
            || remove_from(&self.signaling, id)
            || remove_from(&self.conversation, id)
            || remove_from(&self.friendship, id)
    }

    fn sdk(&self) -> Vec<Arc<dyn SdkListener>> {
        self.sdk.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn simple(&self) -> Vec<Arc<dyn SimpleMsgListener>> {
        self.simple.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn has_advanced(&self) -> bool {
        !self.advanced.read().expect("listeners lock").is_empty()
    }

    fn advanced(&self) -> Vec<Arc<dyn AdvancedMsgListener>> {
        self.advanced.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn conversation(&self) -> Vec<Arc<dyn ConversationListener>> {
        self.conversation.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn group(&self) -> Vec<Arc<dyn GroupListener>> {
        self.group.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn friendship(&self) -> Vec<Arc<dyn FriendshipListener>> {
        self.friendship.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }

    fn signaling(&self) -> Vec<Arc<dyn SignalingListener>> {
        self.signaling.read().expect("listeners lock").iter().map(|(_, l)| l.clone()).collect()
    }
}

/// Runs `f`, containing a panic (a listener bug) so the event thread survives it.
fn guarded(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        tracing::error!("a listener failed in {what}; the SDK continues");
    }
}

/// Most messages handed to an advanced listener in one call.
const MAX_BURST: usize = 100;

/// New messages for the advanced listeners: one at a time as `onRecvNewMessage`, several as
/// `on_recv_new_messages` (whose default, and the foreign bindings' default, calls
/// `onRecvNewMessage` for each; across the FFI that is one crossing for the lot).
fn deliver_new_messages(msgs: Vec<Message>, listeners: &Listeners) {
    for l in listeners.advanced() {
        if msgs.len() == 1 {
            guarded("onRecvNewMessage", || l.on_recv_new_message(msgs[0].clone()));
        } else {
            guarded("onRecvNewMessages", || l.on_recv_new_messages(msgs.clone()));
        }
    }
}

fn deliver(event: Event, listeners: &Listeners) {
    match event {
        Event::Delivered(ack) => ack.run(),
        Event::Connecting => {
            for l in listeners.sdk() {
                guarded("onConnecting", || l.on_connecting());
            }
        }
        Event::ConnectSuccess => {
            for l in listeners.sdk() {
                guarded("onConnectSuccess", || l.on_connect_success());
            }
        }
        Event::ConnectFailed { code, desc } => {
            for l in listeners.sdk() {
                guarded("onConnectFailed", || l.on_connect_failed(code, desc.clone()));
            }
        }
        Event::KickedOffline => {
            for l in listeners.sdk() {
                guarded("onKickedOffline", || l.on_kicked_offline());
            }
        }
        Event::UserSigExpired => {
            for l in listeners.sdk() {
                guarded("onUserSigExpired", || l.on_user_sig_expired());
            }
        }
        Event::SelfInfoUpdated(info) => {
            for l in listeners.sdk() {
                guarded("onSelfInfoUpdated", || l.on_self_info_updated((*info).clone()));
            }
        }
        Event::Friendship(event) => {
            for l in listeners.friendship() {
                let e = event.clone();
                guarded("a V2TIMFriendshipListener callback", || match e {
                    FriendshipEvent::ApplicationsAdded(v) => l.on_friend_application_list_added(v),
                    FriendshipEvent::ApplicationsDeleted(v) => l.on_friend_application_list_deleted(v),
                    FriendshipEvent::ApplicationsRead => l.on_friend_application_list_read(),
                    FriendshipEvent::FriendsAdded(v) => l.on_friend_list_added(v),
                    FriendshipEvent::FriendsDeleted(v) => l.on_friend_list_deleted(v),
                    FriendshipEvent::BlackAdded(v) => l.on_black_list_add(v),
                    FriendshipEvent::BlackDeleted(v) => l.on_black_list_deleted(v),
                    FriendshipEvent::FriendsChanged(v) => l.on_friend_info_changed(v),
                });
            }
        }
        Event::NewMessage(msg) => {
            let advanced = listeners.advanced();
            // V2TIM warns that registering both listener kinds delivers text and custom
            // messages twice; Oxim gives them to the advanced listeners only.
            if !advanced.is_empty() {
                return deliver_new_messages(vec![*msg], listeners);
            }
            let group = msg.group_id.clone();
            let member = || GroupMemberInfo {
                user_id: msg.sender.clone(),
                nick_name: msg.nick_name.clone(),
                name_card: msg.name_card.clone(),
                friend_remark: msg.friend_remark.clone(),
                face_url: msg.face_url.clone(),
            };
            for l in listeners.simple() {
                match (&msg.elem, group.is_empty()) {
                    (Elem::Text { text }, true) => guarded("onRecvC2CTextMessage", || {
                        l.on_recv_c2c_text_message(msg.msg_id.clone(), msg.sender_info(), text.clone())
                    }),
                    (Elem::Custom { data, .. }, true) => guarded("onRecvC2CCustomMessage", || {
                        l.on_recv_c2c_custom_message(msg.msg_id.clone(), msg.sender_info(), data.clone())
                    }),
                    (Elem::Text { text }, false) => guarded("onRecvGroupTextMessage", || {
                        l.on_recv_group_text_message(msg.msg_id.clone(), group.clone(), member(), text.clone())
                    }),
                    (Elem::Custom { data, .. }, false) => guarded("onRecvGroupCustomMessage", || {
                        l.on_recv_group_custom_message(msg.msg_id.clone(), group.clone(), member(), data.clone())
                    }),
                    _ => {}
                }
            }
        }
        Event::MessageRevoked(msg_id) => {
            for l in listeners.advanced() {
                guarded("onRecvMessageRevoked", || l.on_recv_message_revoked(msg_id.clone()));
            }
        }
        Event::C2CReadReceipt(receipts) => {
            for l in listeners.advanced() {
                guarded("onRecvC2CReadReceipt", || l.on_recv_c2c_read_receipt(receipts.clone()));
            }
        }
        Event::SyncServerStart => {
            for l in listeners.conversation() {
                guarded("onSyncServerStart", || l.on_sync_server_start());
            }
        }
        Event::SyncServerFinish => {
            for l in listeners.conversation() {
                guarded("onSyncServerFinish", || l.on_sync_server_finish());
            }
        }
        Event::SyncServerFailed => {
            for l in listeners.conversation() {
                guarded("onSyncServerFailed", || l.on_sync_server_failed());
            }
        }
        Event::NewConversations(list) => {
            for l in listeners.conversation() {
                guarded("onNewConversation", || l.on_new_conversation(list.clone()));
            }
        }
        Event::ConversationsChanged(list) => {
            for l in listeners.conversation() {
                guarded("onConversationChanged", || l.on_conversation_changed(list.clone()));
            }
        }
        Event::TotalUnreadChanged(total) => {
            for l in listeners.conversation() {
                guarded("onTotalUnreadMessageCountChanged", || l.on_total_unread_message_count_changed(total));
            }
        }
        Event::Group(event) => {
            for l in listeners.group() {
                guarded("V2TIMGroupListener", || deliver_group(l.as_ref(), event.clone()));
            }
        }
        Event::Signaling { info, from } => {
            for l in listeners.signaling() {
                let SignalingInfo { invite_id, inviter, invitee_list, group_id, data, .. } = (*info).clone();
                match info.action_type {
                    SignalingAction::Invite => guarded("onReceiveNewInvitation", || {
                        l.on_receive_new_invitation(invite_id, inviter, group_id, invitee_list, data)
                    }),
                    SignalingAction::Accept => {
                        guarded("onInviteeAccepted", || l.on_invitee_accepted(invite_id, from.clone(), data))
                    }
                    SignalingAction::Reject => {
                        guarded("onInviteeRejected", || l.on_invitee_rejected(invite_id, from.clone(), data))
                    }
                    SignalingAction::Cancel => {
                        guarded("onInvitationCancelled", || l.on_invitation_cancelled(invite_id, inviter, data))
                    }
                    SignalingAction::Timeout => {
                        guarded("onInvitationTimeout", || l.on_invitation_timeout(invite_id, invitee_list))
                    }
                }
            }
        }
    }
}

fn deliver_group(l: &dyn GroupListener, event: GroupEvent) {
    match event {
        GroupEvent::MemberEnter { group_id, members } => l.on_member_enter(group_id, members),
        GroupEvent::MemberLeave { group_id, member } => l.on_member_leave(group_id, member),
        GroupEvent::MemberInvited { group_id, op_user, members } => l.on_member_invited(group_id, op_user, members),
        GroupEvent::MemberKicked { group_id, op_user, members } => l.on_member_kicked(group_id, op_user, members),
        GroupEvent::MemberInfoChanged { group_id, changes } => l.on_member_info_changed(group_id, changes),
        GroupEvent::GroupCreated { group_id } => l.on_group_created(group_id),
        GroupEvent::GroupDismissed { group_id, op_user } => l.on_group_dismissed(group_id, op_user),
        GroupEvent::GroupInfoChanged { group_id, changes } => l.on_group_info_changed(group_id, changes),
        GroupEvent::ReceiveJoinApplication { group_id, member, reason } => {
            l.on_receive_join_application(group_id, member, reason)
        }
        GroupEvent::ApplicationProcessed { group_id, op_user, agreed, reason } => {
            l.on_application_processed(group_id, op_user, agreed, reason)
        }
        GroupEvent::GrantAdministrator { group_id, op_user, members } => {
            l.on_grant_administrator(group_id, op_user, members)
        }
        GroupEvent::RevokeAdministrator { group_id, op_user, members } => {
            l.on_revoke_administrator(group_id, op_user, members)
        }
        GroupEvent::QuitFromGroup { group_id } => l.on_quit_from_group(group_id),
        GroupEvent::AttributeChanged { group_id, attributes } => l.on_group_attribute_changed(group_id, attributes),
    }
}

/// Events of one instance a turn of the event thread delivers at most, before the instances
/// waiting behind it get theirs.
const FAIR_SHARE: usize = 64;

/// The process's one event thread: it delivers the events of every instance, taking the
/// instances whose queues hold events in turn.
struct EventThread {
    ready: mpsc::Sender<Arc<Queue>>,
    id: ThreadId,
}

static EVENT_THREAD: OnceLock<EventThread> = OnceLock::new();

fn event_thread() -> &'static EventThread {
    EVENT_THREAD.get_or_init(|| {
        let (ready, rx) = mpsc::channel::<Arc<Queue>>();
        let thread = std::thread::Builder::new()
            .name("oxim-events".into())
            .spawn(move || {
                while let Ok(queue) = rx.recv() {
                    queue.run();
                }
            })
            .expect("spawn the event thread");
        EventThread { ready, id: thread.thread().id() }
    })
}

fn on_event_thread() -> bool {
    EVENT_THREAD.get().is_some_and(|t| t.id == std::thread::current().id())
}

/// One instance's events in the order they were emitted.
struct Queue {
    listeners: Arc<Listeners>,
    state: Mutex<QueueState>,
    /// Signalled when the queue is drained and no turn of it is under way.
    idle: Condvar,
}

#[derive(Default)]
struct QueueState {
    events: VecDeque<Event>,
    /// In the event thread's line or being delivered: the thread will see every event queued.
    /// A queue is in line at most once, so its events are delivered in order.
    scheduled: bool,
    stopped: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One turn on the event thread: delivers queued events in order, up to [`FAIR_SHARE`],
    /// then goes back in line if more are queued.
    fn run(self: Arc<Self>) {
        for _ in 0..FAIR_SHARE {
            let mut st = self.lock();
            let Some(event) = st.events.pop_front() else {
                st.scheduled = false;
                self.idle.notify_all();
                return;
            };
            let burst = match event {
                Event::NewMessage(first) if self.listeners.has_advanced() => {
                    // A burst (a sync catching up) crosses to the app once per listener, not
                    // once per message: the messages already queued go together, and the
                    // delivery marks among them run once the burst was delivered.
                    let mut burst = vec![*first];
                    let mut acks = Vec::new();
                    while burst.len() < MAX_BURST {
                        match st.events.front() {
                            Some(Event::NewMessage(_)) | Some(Event::Delivered(_)) => {}
                            _ => break,
                        }
                        match st.events.pop_front() {
                            Some(Event::NewMessage(m)) => burst.push(*m),
                            Some(Event::Delivered(ack)) => acks.push(ack),
                            _ => {}
                        }
                    }
                    Ok((burst, acks))
                }
                event => Err(event),
            };
            drop(st);
            // Listener calls are guarded one by one; this also contains a bug of the SDK's own
            // delivery code, so one instance cannot stop the thread all instances share.
            let delivered = catch_unwind(AssertUnwindSafe(|| match burst {
                Ok((msgs, acks)) => {
                    deliver_new_messages(msgs, &self.listeners);
                    acks.iter().for_each(|ack| ack.run());
                }
                Err(event) => deliver(event, &self.listeners),
            }));
            if delivered.is_err() {
                tracing::error!("delivering an event failed; the SDK continues");
            }
        }
        let mut st = self.lock();
        if st.events.is_empty() {
            st.scheduled = false;
            self.idle.notify_all();
        } else {
            drop(st);
            let _ = event_thread().ready.send(self);
        }
    }
}

/// An instance's event dispatcher: its events go, in order, to its listeners, called on the
/// process's one event thread (shared by every instance).
pub struct Dispatcher {
    queue: Arc<Queue>,
}

impl Dispatcher {
    /// A dispatcher for `listeners` (the event thread starts with the first one).
    pub fn start(listeners: Arc<Listeners>) -> Dispatcher {
        event_thread();
        Dispatcher { queue: Arc::new(Queue { listeners, state: Mutex::default(), idle: Condvar::new() }) }
    }

    /// Queues an event. After [`Dispatcher::stop`] events are dropped.
    pub fn emit(&self, event: Event) {
        let mut st = self.queue.lock();
        if st.stopped {
            return;
        }
        st.events.push_back(event);
        if !st.scheduled {
            st.scheduled = true;
            drop(st);
            let _ = event_thread().ready.send(self.queue.clone());
        }
    }

    /// Runs `action` on the event thread once every event emitted before was delivered (its
    /// listeners returned); also after [`Dispatcher::stop`], once what is still queued was
    /// delivered (right away if nothing is).
    pub fn after_delivered(&self, action: impl FnOnce() + Send + 'static) {
        let mut st = self.queue.lock();
        if st.stopped && !st.scheduled {
            drop(st);
            return action();
        }
        let once = Mutex::new(Some(action));
        let ack = crate::model::event::Ack::new(move || {
            if let Some(action) = once.lock().unwrap_or_else(|e| e.into_inner()).take() {
                action()
            }
        });
        st.events.push_back(Event::Delivered(ack));
        if !st.scheduled {
            st.scheduled = true;
            drop(st);
            let _ = event_thread().ready.send(self.queue.clone());
        }
    }

    /// Takes no more events and waits until what is queued was delivered. Called on the event
    /// thread itself (a listener calling `unInitSDK`), it does not wait: what is queued is
    /// delivered after the listener returns.
    pub fn stop(&self) {
        let mut st = self.queue.lock();
        st.stopped = true;
        if on_event_thread() {
            return;
        }
        while st.scheduled {
            st = self.queue.idle.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    struct Counting(Arc<AtomicUsize>);
    impl SdkListener for Counting {
        fn on_connecting(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    /// Says when it is called, then panics.
    struct Panicking(Mutex<mpsc::Sender<()>>);
    impl SdkListener for Panicking {
        fn on_connecting(&self) {
            let _ = self.0.lock().unwrap().send(());
            panic!("app bug");
        }
        fn on_connect_failed(&self, _code: i32, _error: String) {
            panic!("app bug");
        }
    }

    #[test]
    fn a_panicking_listener_does_not_stop_the_thread() {
        let listeners = Arc::new(Listeners::default());
        let dispatcher = Dispatcher::start(listeners.clone());
        let (called, panicked) = mpsc::channel();
        listeners.set_sdk(Some(Arc::new(Panicking(Mutex::new(called)))));
        dispatcher.emit(Event::Connecting);
        let count = Arc::new(AtomicUsize::new(0));
        // The listener is swapped on this thread; events already queued see whichever is set
        // when they are delivered, so wait for the panic to have happened first.
        panicked.recv_timeout(WAIT).unwrap();
        listeners.set_sdk(Some(Arc::new(Counting(count.clone()))));
        dispatcher.emit(Event::Connecting);
        dispatcher.emit(Event::Connecting);
        dispatcher.stop();
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    /// Records the codes of `onConnectFailed` and the thread that delivered them.
    #[derive(Default)]
    struct Codes {
        seen: Mutex<Vec<i32>>,
        threads: Mutex<std::collections::HashSet<ThreadId>>,
    }
    impl SdkListener for Codes {
        fn on_connect_failed(&self, code: i32, _error: String) {
            self.seen.lock().unwrap().push(code);
            self.threads.lock().unwrap().insert(std::thread::current().id());
        }
    }

    fn failed(code: i32) -> Event {
        Event::ConnectFailed { code, desc: String::new() }
    }

    #[test]
    fn instances_share_one_thread_and_each_keeps_its_order_whatever_the_others_do() {
        // Twelve instances emit from four threads at once; one of them has a listener that
        // panics on every event.
        let codes: Vec<Arc<Codes>> = (0..12).map(|_| Arc::new(Codes::default())).collect();
        let dispatchers: Vec<Arc<Dispatcher>> = codes
            .iter()
            .map(|c| {
                let listeners = Arc::new(Listeners::default());
                listeners.set_sdk(Some(c.clone()));
                Arc::new(Dispatcher::start(listeners))
            })
            .collect();
        let broken = Arc::new(Listeners::default());
        let (called, _) = mpsc::channel();
        broken.set_sdk(Some(Arc::new(Panicking(Mutex::new(called)))));
        let broken = Arc::new(Dispatcher::start(broken));
        std::thread::scope(|scope| {
            for part in dispatchers.chunks(3) {
                let broken = broken.clone();
                scope.spawn(move || {
                    for n in 0..300 {
                        for d in part {
                            d.emit(failed(n));
                        }
                        if n % 10 == 0 {
                            broken.emit(failed(n));
                        }
                    }
                });
            }
        });
        for d in &dispatchers {
            d.stop();
        }
        broken.stop();
        let mut threads = std::collections::HashSet::new();
        for c in &codes {
            assert_eq!(*c.seen.lock().unwrap(), (0..300).collect::<Vec<_>>(), "each instance in its order");
            threads.extend(c.threads.lock().unwrap().iter().copied());
        }
        assert_eq!(threads.len(), 1, "one event thread for every instance");
        assert!(!threads.contains(&std::thread::current().id()));
    }

    /// The first call waits for the test's go (and says it started); counts the others.
    struct Gated {
        count: AtomicUsize,
        started: Mutex<Option<mpsc::Sender<()>>>,
        gate: Mutex<Option<mpsc::Receiver<()>>>,
        /// When set: the count of this listener when another instance's event arrived.
        other: Arc<Mutex<Option<usize>>>,
    }
    impl SdkListener for Gated {
        fn on_connect_failed(&self, _code: i32, _error: String) {
            if let Some(started) = self.started.lock().unwrap().take() {
                let _ = started.send(());
                let _ = self.gate.lock().unwrap().take().unwrap().recv();
            }
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }
    struct Marks(Arc<Gated>);
    impl SdkListener for Marks {
        fn on_connecting(&self) {
            *self.0.other.lock().unwrap() = Some(self.0.count.load(Ordering::SeqCst));
        }
    }

    #[test]
    fn a_busy_instance_does_not_keep_the_others_waiting_for_its_whole_queue() {
        let (started_tx, started) = mpsc::channel();
        let (go, gate) = mpsc::channel();
        let busy = Arc::new(Gated {
            count: AtomicUsize::new(0),
            started: Mutex::new(Some(started_tx)),
            gate: Mutex::new(Some(gate)),
            other: Arc::default(),
        });
        let a = Arc::new(Listeners::default());
        a.set_sdk(Some(busy.clone()));
        let a = Dispatcher::start(a);
        let b = Arc::new(Listeners::default());
        b.set_sdk(Some(Arc::new(Marks(busy.clone()))));
        let b = Dispatcher::start(b);
        a.emit(failed(0));
        started.recv_timeout(WAIT).unwrap();
        for n in 1..1000 {
            a.emit(failed(n));
        }
        b.emit(Event::Connecting);
        go.send(()).unwrap();
        b.stop();
        a.stop();
        assert_eq!(busy.count.load(Ordering::SeqCst), 1000);
        let seen = busy.other.lock().unwrap().expect("b's event delivered");
        assert!(seen <= 2 * FAIR_SHARE, "b waited for {seen} of a's events");
    }

    /// Stops its own dispatcher from inside a callback (an app calling `unInitSDK` there),
    /// once the test says go.
    struct StopsItself {
        dispatcher: OnceLock<Arc<Dispatcher>>,
        count: AtomicUsize,
        started: Mutex<Option<mpsc::Sender<()>>>,
        gate: Mutex<Option<mpsc::Receiver<()>>>,
    }
    impl SdkListener for StopsItself {
        fn on_connecting(&self) {
            let _ = self.started.lock().unwrap().take().unwrap().send(());
            let _ = self.gate.lock().unwrap().take().unwrap().recv();
            self.dispatcher.get().unwrap().stop();
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        fn on_connect_success(&self) {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn stopping_from_a_listener_does_not_wait_for_itself_and_what_was_queued_is_delivered() {
        let (started_tx, started) = mpsc::channel();
        let (go, gate) = mpsc::channel();
        let me = Arc::new(StopsItself {
            dispatcher: OnceLock::new(),
            count: AtomicUsize::new(0),
            started: Mutex::new(Some(started_tx)),
            gate: Mutex::new(Some(gate)),
        });
        let listeners = Arc::new(Listeners::default());
        listeners.set_sdk(Some(me.clone()));
        let dispatcher = Arc::new(Dispatcher::start(listeners));
        me.dispatcher.set(dispatcher.clone()).ok().unwrap();
        dispatcher.emit(Event::Connecting);
        started.recv_timeout(WAIT).unwrap();
        // Queued before the listener stops the dispatcher: still delivered.
        dispatcher.emit(Event::ConnectSuccess);
        go.send(()).unwrap();
        // From another thread, stop waits until the queue is delivered.
        dispatcher.stop();
        assert_eq!(me.count.load(Ordering::SeqCst), 2);
        dispatcher.emit(Event::ConnectSuccess);
        dispatcher.stop();
        assert_eq!(me.count.load(Ordering::SeqCst), 2, "nothing is taken after a stop");
    }

    #[test]
    fn sdk_listeners_added_beside_the_init_one_all_hear_and_init_replaces_only_its_own() {
        let listeners = Arc::new(Listeners::default());
        let dispatcher = Dispatcher::start(listeners.clone());
        let (first, added, second) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        listeners.set_sdk(Some(Arc::new(Counting(first.clone()))));
        let id = listeners.add_sdk(Arc::new(Counting(added.clone())));
        // Events see the listeners registered when they are delivered: wait for each.
        let delivered = |count: &Arc<AtomicUsize>, n: usize| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while count.load(Ordering::SeqCst) < n {
                assert!(std::time::Instant::now() < deadline, "event not delivered");
                std::thread::yield_now();
            }
        };
        dispatcher.emit(Event::Connecting);
        delivered(&added, 1);
        // A second initSDK replaces its own listener and keeps the added one.
        listeners.set_sdk(Some(Arc::new(Counting(second.clone()))));
        dispatcher.emit(Event::Connecting);
        delivered(&added, 2);
        assert!(listeners.remove(id));
        assert!(!listeners.remove(id));
        dispatcher.emit(Event::Connecting);
        dispatcher.stop();
        assert_eq!(first.load(Ordering::SeqCst), 1);
        assert_eq!(added.load(Ordering::SeqCst), 2);
        assert_eq!(second.load(Ordering::SeqCst), 2);
    }

    /// Records how the advanced listener was called; the first call says it started and waits
    /// for the test's go.
    struct Bursts {
        calls: Mutex<Vec<Vec<String>>>,
        started: Mutex<Option<mpsc::Sender<()>>>,
        gate: Mutex<Option<mpsc::Receiver<()>>>,
    }
    impl AdvancedMsgListener for Bursts {
        fn on_recv_new_message(&self, msg: Message) {
            if let Some(gate) = self.gate.lock().unwrap().take() {
                let _ = self.started.lock().unwrap().take().unwrap().send(());
                let _ = gate.recv();
            }
            self.calls.lock().unwrap().push(vec![msg.msg_id]);
        }
        fn on_recv_new_messages(&self, msgs: Vec<Message>) {
            self.calls.lock().unwrap().push(msgs.into_iter().map(|m| m.msg_id).collect());
        }
    }

    impl Bursts {
        /// A dispatcher with a `Bursts` listener whose first call waits for `go`, and says on
        /// `started` that it began.
        fn gated() -> (Arc<Bursts>, mpsc::Sender<()>, mpsc::Receiver<()>, Dispatcher) {
            let (go, gate) = mpsc::channel();
            let (started_tx, started) = mpsc::channel();
            let bursts = Arc::new(Bursts {
                calls: Mutex::new(Vec::new()),
                started: Mutex::new(Some(started_tx)),
                gate: Mutex::new(Some(gate)),
            });
            let listeners = Arc::new(Listeners::default());
            listeners.add_advanced(bursts.clone());
            (bursts, go, started, Dispatcher::start(listeners))
        }
    }

    fn message(id: &str) -> Event {
        let mut m = Message::draft("bob", Elem::Text { text: id.into() }, id.into(), 1);
        m.user_id = "bob".into();
        Event::NewMessage(Box::new(m))
    }

    #[test]
    fn queued_new_messages_reach_an_advanced_listener_as_one_burst_in_order() {
        let (bursts, go, started, dispatcher) = Bursts::gated();
        // The first message holds the event thread in the app's callback while more queue up.
        dispatcher.emit(message("m0"));
        started.recv_timeout(WAIT).unwrap();
        for i in 1..=5 {
            dispatcher.emit(message(&format!("m{i}")));
        }
        dispatcher.emit(Event::MessageRevoked("m1".into()));
        dispatcher.emit(message("m6"));
        go.send(()).unwrap();
        dispatcher.stop();
        let calls = bursts.calls.lock().unwrap().clone();
        // m1..m5 in one call; the revocation ends the burst; m6 alone is onRecvNewMessage.
        assert_eq!(calls, vec![vec!["m0"], vec!["m1", "m2", "m3", "m4", "m5"], vec!["m6"]]);
    }

    #[test]
    fn delivery_marks_run_once_what_was_emitted_before_them_was_delivered() {
        let (bursts, go, started, dispatcher) = Bursts::gated();
        // What each mark saw delivered when it ran.
        let marks = Arc::new(Mutex::new(Vec::new()));
        let mark = |name: &'static str| {
            let (marks, bursts) = (marks.clone(), bursts.clone());
            Event::Delivered(crate::model::event::Ack::new(move || {
                let delivered: usize = bursts.calls.lock().unwrap().iter().map(Vec::len).sum();
                marks.lock().unwrap().push((name, delivered));
            }))
        };
        dispatcher.emit(message("m0"));
        dispatcher.emit(mark("after m0"));
        started.recv_timeout(WAIT).unwrap();
        // Marks between new messages do not break a burst; they run after it.
        for i in 1..=3 {
            dispatcher.emit(message(&format!("m{i}")));
            dispatcher.emit(mark("in the burst"));
        }
        dispatcher.emit(Event::MessageRevoked("m1".into()));
        go.send(()).unwrap();
        // After a stop, a mark still runs once what is queued was delivered (here: at once).
        dispatcher.stop();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        dispatcher.after_delivered(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(*bursts.calls.lock().unwrap(), vec![vec!["m0"], vec!["m1", "m2", "m3"]]);
        assert_eq!(
            *marks.lock().unwrap(),
            [("after m0", 1), ("in the burst", 4), ("in the burst", 4), ("in the burst", 4)]
        );
    }
}
