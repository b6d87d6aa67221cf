//! The sync actor: keeps the local store in step with the server, exactly once and in seq
//! order, following the rules of [`crate::sync_state`] (which decides; this module does the
//! network and store work).
//!
//! One task per logged-in session owns every change to the per-conversation cursors. It
//! handles, strictly one at a time: pushes, acknowledgements of our own sends, and resyncs
//! after (re)login. Because it is sequential, a push that arrives while a gap is being pulled
//! waits its turn and is then seen as already stored.
//!
//! - on (re)login the actor asks which conversations changed since its last complete sync and
//!   pulls each from its cursor; the sync version is saved only after the pulls succeeded;
//! - a stored message is announced (once) if the server accepted it after this device's first
//!   login ("birth"); older ones are history the device roamed, not news;
//! - messages are announced (onRecvNewMessage) only after they are committed to the store, and
//!   recorded as told once the app's listeners returned; what a session stored and did not
//!   tell (killed, logged out) is told first by the next one; the next delivery is stored
//!   only while at most [`UNRECORDED_MAX`] messages told are not yet recorded as told, so a
//!   kill makes the next session tell at most that many again;
//! - signaling messages also make `V2TIMSignalingListener` callbacks, collected over one whole
//!   step (a resync, a gap pull) and told at its end ([`crate::sync_state::signals_to_tell`]).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use futures_util::StreamExt as _;
use oxim_proto::op;
use oxim_proto::payload::{ConvState, PullReq, PullRes, SeqRange, SyncReq, SyncRes, UnreadReq, UnreadRes, WireMessage};
use oxim_proto::signaling::signaling_of;
use tokio::sync::{mpsc, watch};

use crate::error::Result;
use crate::events::{Dispatcher, Event};
use crate::link::Link;
use crate::model::conversation::ConvChange;
use crate::model::event::Ack;
use crate::model::message::{ConvId, SignalingInfo};
use crate::publisher::Publisher;
use crate::store::conversations as convs;
use crate::store::{self, Effect, Store};
use crate::sync_state::{self, Cursors, Delivery};

/// Page size of pulls.
const PULL_PAGE: u32 = 200;
/// At most this many messages are told to the app and not yet recorded as told (a delivery
/// bigger than this is stored alone): what a kill can make the next session tell again. One
/// pull page, so a catch-up stores its next page once the app has heard the previous one.
const UNRECORDED_MAX: usize = PULL_PAGE as usize;
/// Pulls in flight while a sync catches up many conversations.
const PULL_PIPELINE: usize = 16;
/// Page size of conversation syncs.
const SYNC_PAGE: u32 = 500;
const KV_SYNC_VERSION: &str = "sync_version";
const KV_SYNCED_ONCE: &str = "synced_once";

/// Work for the sync actor.
#[derive(Debug)]
pub enum SyncCmd {
    /// A message pushed by the server.
    Push(Box<WireMessage>),
    /// Our own message was accepted with `seq`.
    Sent {
        /// Its conversation.
        conv: ConvId,
        /// Its seq.
        seq: u64,
    },
    /// Catch up with the server (after login or reconnect).
    Resync,
    /// A signaling action of an online-only invitation (never stored).
    Signal(Box<WireMessage>),
    /// Count unread on the server where local changes made that necessary, and tell the
    /// conversation listener.
    Refresh,
    /// Tests: answers once everything queued before it is done and its events reached the
    /// listeners, so a test can show that something was NOT told without sleeping.
    #[cfg(test)]
    Settled(tokio::sync::oneshot::Sender<()>),
}

/// Handle to a session's sync actor; the actor stops when the handle is dropped.
pub struct SyncHandle {
    tx: mpsc::UnboundedSender<SyncCmd>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncHandle {
    /// Starts the actor for user `me` on a device first logged in at server time `born_ms`.
    pub fn start(
        me: String,
        store: Arc<Store>,
        link: Arc<Link>,
        events: Arc<Dispatcher>,
        conversations: Arc<Publisher>,
        born_ms: i64,
    ) -> SyncHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let told = Arc::new(Told {
            store: store.clone(),
            up_to: AtomicI64::new(0),
            writing: AtomicBool::new(false),
            recorded: watch::Sender::new(0),
        });
        let actor = SyncActor {
            me,
            told,
            unrecorded: VecDeque::new(),
            store,
            link,
            events,
            conversations,
            cursors: Cursors::default(),
            synced_once: None,
            born_ms,
            signals: Vec::new(),
            conv_changes: Vec::new(),
            group_profiles: HashSet::new(),
        };
        let task = crate::runtime::spawn(actor.run(rx));
        SyncHandle { tx, task }
    }

    /// Queues work.
    pub fn send(&self, cmd: SyncCmd) {
        let _ = self.tx.send(cmd);
    }

    /// Stops the actor (the session ended).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct SyncActor {
    me: String,
    /// Records what the app has been told.
    told: Arc<Told>,
    /// Deliveries told (or being told) whose record is not written yet: (their last
    /// announcement position, how many messages), oldest first.
    unrecorded: VecDeque<(i64, usize)>,
    store: Arc<Store>,
    link: Arc<Link>,
    events: Arc<Dispatcher>,
    /// Cache of the stored cursors.
    cursors: Cursors,
    /// Whether this device completed a sync before (loaded on first use).
    synced_once: Option<bool>,
    /// Server time of this device's first login: messages accepted before are history.
    born_ms: i64,
    /// Signaling actions of the current step (action, who acted), told when it ends.
    signals: Vec<(SignalingInfo, String)>,
    /// Tells the conversation listener.
    conversations: Arc<Publisher>,
    /// Conversations changed in the current step, told when it ends.
    conv_changes: Vec<(ConvId, ConvChange)>,
    /// Groups whose type and name this device has (checked once per session).
    group_profiles: HashSet<String>,
}

/// What the app has been told: effects are told through the dispatcher followed by a mark,
/// and once the listeners returned the mark records it in the store
/// ([`store::announce::told_up_to`]), one write for however many marks passed meanwhile.
struct Told {
    store: Arc<Store>,
    up_to: AtomicI64,
    writing: AtomicBool,
    /// The position up to which the record of what was told is written.
    recorded: watch::Sender<i64>,
}

impl Told {
    /// Emits the events of `effects` and, if `announced`, the mark that records them as told.
    fn tell(self: &Arc<Self>, events: &Dispatcher, effects: Vec<Effect>, announced: Option<i64>) {
        for event in sync_state::events_of(effects) {
            events.emit(event);
        }
        if let Some(pos) = announced {
            let this = self.clone();
            events.emit(Event::Delivered(Ack::new(move || this.told(pos))));
        }
    }

    /// On the event thread: everything up to `pos` was delivered.
    fn told(self: &Arc<Self>, pos: i64) {
        self.up_to.fetch_max(pos, Ordering::SeqCst);
        if !self.writing.swap(true, Ordering::SeqCst) {
            let this = self.clone();
            self.store.spawn(move |db| {
                this.writing.store(false, Ordering::SeqCst);
                let up_to = this.up_to.load(Ordering::SeqCst);
                let written = store::announce::told_up_to(db, up_to);
                // Also after a failure: the actor must not wait for it forever (the next
                // session tells it again, which is the safe side).
                this.recorded.send_if_modified(|r| std::mem::replace(r, up_to.max(*r)) < up_to);
                written
            });
        }
    }
}

impl SyncActor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<SyncCmd>) {
        // What an earlier session stored and did not tell comes first.
        if let Err(e) = self.tell_pending().await {
            tracing::info!("telling what an earlier session did not: {e}");
        }
        self.flush_conversations().await;
        while let Some(cmd) = rx.recv().await {
            #[cfg(test)]
            if let SyncCmd::Settled(done) = cmd {
                // The dispatcher runs events in order: this one runs after every event before.
                let done = std::sync::Mutex::new(Some(done));
                self.events.emit(Event::Delivered(Ack::new(move || {
                    if let Some(done) = done.lock().unwrap().take() {
                        let _ = done.send(());
                    }
                })));
                continue;
            }
            let result = match cmd {
                SyncCmd::Push(msg) => self.on_push(*msg).await,
                SyncCmd::Sent { conv, seq } => self.on_sent(conv, seq).await,
                SyncCmd::Resync => self.resync().await,
                SyncCmd::Signal(msg) => self.on_signal(*msg).await,
                SyncCmd::Refresh => Ok(()),
                #[cfg(test)]
                SyncCmd::Settled(_) => unreachable!("answered above"),
            };
            // Even after a failure: what was stored was stored, and is not announced again.
            self.flush_signals();
            self.flush_conversations().await;
            if let Err(e) = result {
                // Nothing advanced past what is stored: the next resync (after the reconnect a
                // network error implies) or the next push retries from the stored cursor.
                tracing::info!("sync step failed: {e}");
            }
        }
    }

    /// Tells the app what was stored and not told before this session started (the app was
    /// killed or logged out in between), and queues the conversation changes not told.
    async fn tell_pending(&mut self) -> Result<()> {
        let (me, events, told) = (self.me.clone(), self.events.clone(), self.told.clone());
        let (changes, told) = self
            .store
            .call(move |db| {
                let (effects, last) = store::announce::pending(db, &me)?;
                let count = effects.len();
                told.tell(&events, effects, last);
                Ok((convs::pending_announcements(db)?, last.map(|pos| (pos, count))))
            })
            .await?;
        self.unrecorded.extend(told);
        self.conv_changes.extend(changes);
        Ok(())
    }

    /// Waits until `n` more messages may be told: until what was told before and is not yet
    /// recorded as told leaves room for them under [`UNRECORDED_MAX`] (or nothing is left
    /// unrecorded). The app's listeners and the store then never run more than a page apart.
    async fn make_room(&mut self, n: usize) {
        let mut recorded = self.told.recorded.subscribe();
        loop {
            let up_to = *recorded.borrow_and_update();
            while self.unrecorded.front().is_some_and(|(pos, _)| *pos <= up_to) {
                self.unrecorded.pop_front();
            }
            let waiting: usize = self.unrecorded.iter().map(|(_, count)| count).sum();
            if waiting == 0 || waiting + n <= UNRECORDED_MAX || recorded.changed().await.is_err() {
                return;
            }
        }
    }

    async fn synced_once(&mut self) -> Result<bool> {
        if let Some(v) = self.synced_once {
            return Ok(v);
        }
        let v = self.store.call(|db| store::kv_get(db, KV_SYNCED_ONCE)).await?.is_some();
        self.synced_once = Some(v);
        Ok(v)
    }

    async fn cursor(&mut self, conv: &ConvId) -> Result<Option<u64>> {
        if let Some(c) = self.cursors.get(conv) {
            return Ok(Some(c));
        }
        let key = conv.clone();
        let stored = self.store.call(move |db| store::synced_seq(db, &key)).await?;
        self.cursors.learn(conv, stored);
        Ok(stored)
    }

    /// The cursor of `conv`, and (only where it is unknown) whether this device synced before.
    async fn cursor_and_history(&mut self, conv: &ConvId) -> Result<(Option<u64>, bool)> {
        let cursor = self.cursor(conv).await?;
        let synced_once = if cursor.is_none() { self.synced_once().await? } else { false };
        Ok((cursor, synced_once))
    }

    async fn on_push(&mut self, msg: WireMessage) -> Result<()> {
        if msg.seq == 0 {
            // Online-only: never stored, never counted, announced once as it arrives.
            for event in sync_state::online_events(&self.me, &msg) {
                self.events.emit(event);
            }
            if let oxim_proto::message::Elem::GroupTips { tips } = &msg.elem
                && !tips.group_changes.is_empty()
            {
                self.online_group_profile(&msg.group_id, tips.clone()).await?;
            }
            return Ok(());
        }
        let conv = msg.conv_id_for(&self.me);
        self.ensure_group_profile(&conv).await;
        let (cursor, synced_once) = self.cursor_and_history(&conv).await?;
        match sync_state::on_delivered(cursor, synced_once, msg.seq) {
            Delivery::Duplicate => Ok(()),
            Delivery::Next { after } => {
                let seq = msg.seq;
                self.store_and_announce(conv, vec![msg], after, seq).await
            }
            Delivery::Gap { after, up_to } => self.pull_range(&conv, after, up_to).await,
        }
    }

    async fn on_signal(&mut self, msg: WireMessage) -> Result<()> {
        let Some(info) = signaling_of(&msg) else { return Ok(()) };
        let record = info.clone();
        self.store.call(move |db| store::record_invitation(db, &record)).await?;
        self.signals.push((info, msg.sender));
        Ok(())
    }

    /// Tells the app the signaling actions of the step that just ended.
    fn flush_signals(&mut self) {
        let signals = std::mem::take(&mut self.signals);
        for (info, from) in sync_state::signals_to_tell(&self.me, signals) {
            self.events.emit(Event::Signaling { info: Box::new(info), from });
        }
    }

    async fn on_sent(&mut self, conv: ConvId, seq: u64) -> Result<()> {
        let (cursor, synced_once) = self.cursor_and_history(&conv).await?;
        match sync_state::on_accepted(cursor, synced_once, seq) {
            Delivery::Duplicate => Ok(()),
            Delivery::Next { after } => {
                // Our own message is already stored (mark_sent); only the cursor moves.
                let key = conv.clone();
                self.store
                    .call(move |db| {
                        store::start_conversation(db, &key, after)?;
                        store::set_synced_seq(db, &key, seq)
                    })
                    .await?;
                self.cursors.advance(&conv, seq);
                Ok(())
            }
            // Someone else's messages came in between and were not pushed to us yet.
            Delivery::Gap { after, up_to } => self.pull_range(&conv, after, up_to).await,
        }
    }

    async fn resync(&mut self) -> Result<()> {
        self.events.emit(Event::SyncServerStart);
        let result = self.resync_inner().await;
        if result.is_ok() {
            // The list is complete before the app hears that the sync finished.
            self.flush_conversations().await;
            self.events.emit(Event::SyncServerFinish);
        } else {
            self.events.emit(Event::SyncServerFailed);
        }
        result
    }

    async fn resync_inner(&mut self) -> Result<()> {
        let mut since: u64 =
            self.store.call(|db| store::kv_get(db, KV_SYNC_VERSION)).await?.and_then(|v| v.parse().ok()).unwrap_or(0);
        loop {
            let transport = self.link.current_or_err()?;
            let page: SyncRes = transport.request(op::SYNC, &SyncReq { since, limit: SYNC_PAGE }).await?;
            self.resync_page(page.convs).await?;
            since = page.version;
            let version = since.to_string();
            self.store.call(move |db| store::kv_set(db, KV_SYNC_VERSION, &version)).await?;
            if !page.has_more {
                break;
            }
        }
        if !self.synced_once().await? {
            self.store.call(|db| store::kv_set(db, KV_SYNCED_ONCE, "1")).await?;
            self.synced_once = Some(true);
        }
        Ok(())
    }

    /// Pulls `(after, up_to]` of `conv` page by page, storing and announcing.
    async fn pull_range(&mut self, conv: &ConvId, mut after: u64, up_to: u64) -> Result<()> {
        while after < up_to {
            let transport = self.link.current_or_err()?;
            let req = PullReq { conv_id: conv.clone(), after_seq: after, up_to_seq: up_to, limit: PULL_PAGE };
            let page: PullRes = transport.request(op::MSG_PULL, &req).await?;
            let Some(covered) = sync_state::page_end(after, up_to, page.covered_seq) else {
                // The server has nothing more in this range (it never had those seqs).
                break;
            };
            self.store_and_announce(conv.clone(), page.msgs, after, covered).await?;
            after = covered;
        }
        Ok(())
    }

    /// Stores `msgs` (the range `(after, cursor]`) and moves the cursor in one transaction, then
    /// tells the app what it has to hear.
    async fn store_and_announce(
        &mut self,
        conv: ConvId,
        msgs: Vec<WireMessage>,
        after: u64,
        cursor: u64,
    ) -> Result<()> {
        let born = self.born_ms;
        let me = self.me.clone();
        let key = conv.clone();
        let events = self.events.clone();
        // The app hears of the messages from the store thread as soon as they are committed;
        // what the actor decides on (signaling, the conversation list) comes back here.
        let told = self.told.clone();
        let count = msgs.len();
        self.make_room(count).await;
        let (kept, announced) = self
            .store
            .call(move |db| {
                let stored = store::store_received(db, &me, &key, &msgs, Some((after, cursor)), born)?;
                let (kept, tell): (Vec<Effect>, Vec<Effect>) = stored
                    .effects
                    .into_iter()
                    .partition(|e| matches!(e, Effect::Signal { .. } | Effect::Conversation(..)));
                told.tell(&events, tell, stored.announced);
                Ok((kept, stored.announced))
            })
            .await?;
        if let Some(pos) = announced {
            self.unrecorded.push_back((pos, count));
        }
        self.cursors.advance(&conv, cursor);
        for effect in kept {
            match effect {
                Effect::Signal { info, from } => self.signals.push((*info, from)),
                Effect::Conversation(c, change) => self.conv_changes.push((c, change)),
                _ => {}
            }
        }
        Ok(())
    }
}

impl SyncActor {
    /// Applies what the server says of a page of the user's conversations (read position,
    /// receive option, pin, deletion, group profile: a new device learns them this way), then
    /// pulls what each is missing. The first pages of the pulls are asked for together
    /// ([`PULL_PIPELINE`] in flight) and stored in order, so a sync of many conversations
    /// costs few round trips rather than one per conversation.
    async fn resync_page(&mut self, convs: Vec<ConvState>) -> Result<()> {
        for state in &convs {
            if state.group.is_some()
                && let ConvId::Group(id) = &state.conv_id
            {
                self.group_profiles.insert(id.clone());
            }
        }
        let states = convs.clone();
        let changes = self.store.call(move |db| convs::apply_server_states(db, &states)).await?;
        self.conv_changes.extend(changes);

        let unknown: Vec<ConvId> =
            convs.iter().filter(|c| self.cursors.get(&c.conv_id).is_none()).map(|c| c.conv_id.clone()).collect();
        let stored = self
            .store
            .call(move |db| {
                unknown.into_iter().map(|c| Ok((store::synced_seq(db, &c)?, c))).collect::<Result<Vec<_>>>()
            })
            .await?;
        for (seq, conv) in stored {
            self.cursors.learn(&conv, seq);
        }
        let newest: Vec<(ConvId, u64)> = convs.iter().map(|c| (c.conv_id.clone(), c.max_seq)).collect();
        let synced_once = if newest.iter().all(|(c, _)| self.cursors.get(c).is_some()) {
            false // only unknown conversations need it
        } else {
            self.synced_once().await?
        };
        let plan = sync_state::plan_resync(&newest, &self.cursors, synced_once);
        if !plan.starts.is_empty() {
            let rows = plan.starts.clone();
            self.store
                .call(move |db| rows.iter().try_for_each(|(c, at)| store::start_conversation(db, c, *at).map(|_| ())))
                .await?;
            for (conv, at) in plan.starts {
                self.cursors.learn(&conv, Some(at));
            }
        }

        let transport = self.link.current_or_err()?;
        let mut pages =
            futures_util::stream::iter(plan.pulls.into_iter().map(|sync_state::Pull { conv, after, up_to }| {
                let transport = transport.clone();
                async move {
                    let req = PullReq { conv_id: conv.clone(), after_seq: after, up_to_seq: up_to, limit: PULL_PAGE };
                    let page = transport.request::<_, PullRes>(op::MSG_PULL, &req).await;
                    (conv, after, up_to, page)
                }
            }))
            .buffered(PULL_PIPELINE);
        while let Some((conv, after, up_to, page)) = pages.next().await {
            let page = page?;
            let Some(covered) = sync_state::page_end(after, up_to, page.covered_seq) else {
                // The server has nothing in this range (it never had those seqs).
                continue;
            };
            self.store_and_announce(conv.clone(), page.msgs, after, covered).await?;
            if covered < up_to {
                self.pull_range(&conv, covered, up_to).await?;
            }
        }
        Ok(())
    }

    /// Makes sure this device knows a group conversation's type and name (a group it was pulled
    /// into shows up with its first message); asks the server once per session.
    async fn ensure_group_profile(&mut self, conv: &ConvId) {
        let ConvId::Group(id) = conv else { return };
        if self.group_profiles.contains(id) {
            return;
        }
        let key = conv.clone();
        if let Ok(Some(t)) = self.store.call(move |db| convs::group_type(db, &key)).await
            && !t.is_empty()
        {
            self.group_profiles.insert(id.clone());
            return;
        }
        let Ok(transport) = self.link.current_or_err() else { return };
        let req = oxim_proto::group::GroupsInfoReq { group_ids: vec![id.clone()] };
        let Ok(res) = transport.request::<_, oxim_proto::group::GroupsInfoRes>(op::GROUP_INFO, &req).await else {
            return;
        };
        if let Some(r) = res.results.into_iter().next()
            && r.code == 0
        {
            let state = oxim_proto::payload::ConvGroup {
                group_type: r.info.group_type,
                name: r.info.name,
                face_url: r.info.face_url,
            };
            let key = conv.clone();
            if let Ok(change) = self.store.call(move |db| convs::set_group_profile(db, &key, &state)).await {
                self.conv_changes.extend(change);
            }
            self.group_profiles.insert(id.clone());
        }
    }

    /// A profile change of a group whose tips are not stored (Meeting, AVChatRoom).
    async fn online_group_profile(&mut self, group_id: &str, tips: crate::model::group::GroupTips) -> Result<()> {
        let conv = ConvId::Group(group_id.to_owned());
        let change = self.store.call(move |db| convs::apply_profile_tips(db, &conv, &tips)).await?;
        self.conv_changes.extend(change);
        Ok(())
    }

    /// Counts what must be counted by the server, then tells the conversation listener what
    /// changed in this step. In the common case (nothing to count on the server) that is one
    /// store job; a step that changed nothing costs nothing once the total has been told.
    async fn flush_conversations(&mut self) {
        let changes = std::mem::take(&mut self.conv_changes);
        if changes.is_empty() && self.conversations.told_total() {
            return;
        }
        let (publisher, events, me) = (self.conversations.clone(), self.events.clone(), self.me.clone());
        let left = self
            .store
            .call(move |db| {
                if convs::has_stale_gaps(db)? {
                    return Ok(Some(changes));
                }
                publisher.publish_in(db, &events, &me, changes)?;
                Ok(None)
            })
            .await;
        match left {
            Ok(None) => {}
            Ok(Some(changes)) => {
                self.conv_changes = changes;
                if let Err(e) = self.refresh_gaps().await {
                    tracing::info!("counting unread on the server failed: {e}");
                }
                let changes = std::mem::take(&mut self.conv_changes);
                self.conversations.publish(&self.store, &self.events, &self.me, changes).await;
            }
            Err(e) => tracing::info!("announcing conversation changes failed: {e}"),
        }
    }

    /// Asks the server how many messages are unread in the parts of conversations this device
    /// did not download, where the read position moved or a message there changed.
    async fn refresh_gaps(&mut self) -> Result<()> {
        const BATCH: u32 = 200;
        for _ in 0..10 {
            let stale = self.store.call(|db| convs::stale_gaps(db, BATCH)).await?;
            if stale.is_empty() {
                return Ok(());
            }
            let ranges = stale
                .iter()
                .map(|(c, read, until)| SeqRange { conv_id: c.clone(), after_seq: *read, up_to_seq: *until })
                .collect();
            let transport = self.link.current_or_err()?;
            let res: UnreadRes = transport.request(op::CONV_UNREAD, &UnreadReq { ranges }).await?;
            let changes = self
                .store
                .call(move |db| {
                    let mut out = Vec::new();
                    for ((conv, read, _), count) in stale.iter().zip(res.counts) {
                        convs::set_gap(db, conv, *read, count)?;
                        if let Some(change) = convs::refresh(db, conv)? {
                            out.push((conv.clone(), change));
                        }
                    }
                    Ok(out)
                })
                .await?;
            self.conv_changes.extend(changes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use oxim_proto::message::Elem;
    use oxim_proto::payload::ConvState;
    use serde_json::{Value, json};

    use super::*;
    use crate::events::Listeners;
    use crate::listener::{AdvancedMsgListener, ConversationListener};
    use crate::model::message::Message;
    use crate::test_peer::{Conn, Peer, WAIT, eventually};
    use crate::transport::Transport;

    /// What the app heard.
    #[derive(Default)]
    struct Heard {
        msgs: Mutex<Vec<String>>,
        sync: Mutex<Vec<&'static str>>,
        /// onNewConversation / onConversationChanged: (kind, conversation id, unread).
        convs: Mutex<Vec<(&'static str, String, u64)>>,
    }

    impl AdvancedMsgListener for Heard {
        fn on_recv_new_message(&self, msg: Message) {
            self.msgs.lock().unwrap().push(msg.msg_id);
        }
    }

    impl ConversationListener for Heard {
        fn on_sync_server_start(&self) {
            self.sync.lock().unwrap().push("start");
        }
        fn on_sync_server_finish(&self) {
            self.sync.lock().unwrap().push("finish");
        }
        fn on_sync_server_failed(&self) {
            self.sync.lock().unwrap().push("failed");
        }
        fn on_new_conversation(&self, list: Vec<crate::model::conversation::Conversation>) {
            let mut convs = self.convs.lock().unwrap();
            convs.extend(list.into_iter().map(|c| ("new", c.conversation_id, c.unread_count)));
        }
        fn on_conversation_changed(&self, list: Vec<crate::model::conversation::Conversation>) {
            let mut convs = self.convs.lock().unwrap();
            convs.extend(list.into_iter().map(|c| ("changed", c.conversation_id, c.unread_count)));
        }
    }

    impl Heard {
        fn msgs(&self) -> Vec<String> {
            self.msgs.lock().unwrap().clone()
        }
    }

    fn bob() -> ConvId {
        ConvId::C2C("bob".into())
    }

    /// Bob's message `seq` to me.
    fn msg(seq: u64) -> WireMessage {
        let mut w = WireMessage::new(format!("m{seq}"), Elem::Text { text: format!("#{seq}") });
        w.seq = seq;
        w.sender = "bob".into();
        w.receiver = "me".into();
        w.time_ms = 1000 * seq as i64;
        w
    }

    /// The server's answer to a pull of `(after, up_to]` from a conversation of seqs
    /// `1..=newest`, at most `page` messages.
    fn pull_answer(body: &Value, newest: u64, page: u64) -> Value {
        let after = body["after_seq"].as_u64().unwrap();
        let up_to = body["up_to_seq"].as_u64().unwrap().min(newest);
        let covered = up_to.min(after + page);
        let msgs: Vec<WireMessage> = (after + 1..=covered).map(msg).collect();
        serde_json::to_value(PullRes { msgs, max_seq: newest, covered_seq: covered }).unwrap()
    }

    struct Rig {
        _dir: tempfile::TempDir,
        store: Arc<Store>,
        link: Arc<Link>,
        heard: Arc<Heard>,
        sync: SyncHandle,
        peer: Peer,
    }

    /// A sync actor (a session's) on `store`, and what its app hears.
    fn actor(store: &Arc<Store>, link: &Arc<Link>) -> (SyncHandle, Arc<Heard>) {
        let heard = Arc::new(Heard::default());
        let listeners = Arc::new(Listeners::default());
        listeners.add_advanced(heard.clone());
        listeners.add_conversation(heard.clone());
        let events = Arc::new(Dispatcher::start(listeners));
        let publisher = Arc::new(Publisher::default());
        (SyncHandle::start("me".into(), store.clone(), link.clone(), events, publisher, 0), heard)
    }

    impl Rig {
        async fn start() -> Rig {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(Store::open(&dir.path().join("oxim.db")).unwrap());
            let link = Arc::new(Link::default());
            let (sync, heard) = actor(&store, &link);
            Rig { _dir: dir, store, link, heard, sync, peer: Peer::start(false).await }
        }

        /// A new connection, published; the peer's side of it.
        async fn connect(&mut self) -> Conn {
            let (pushes, _) = tokio::sync::mpsc::unbounded_channel();
            let t = Transport::connect(&self.peer.url, Duration::from_secs(20), WAIT, pushes).await.unwrap();
            let conn = self.peer.accept().await;
            self.link.publish(Some(t));
            conn
        }

        async fn cursor(&self) -> Option<u64> {
            self.store.call(|db| store::synced_seq(db, &bob())).await.unwrap()
        }
    }

    #[tokio::test]
    async fn a_push_past_the_cursor_pulls_the_gap_first_and_duplicates_are_dropped() {
        let mut rig = Rig::start().await;
        let conn = rig.connect().await;
        let _pushes = conn.serve(|op, body| (op == op::MSG_PULL).then(|| pull_answer(body, 5, 2)));
        // A new device hears of seq 5 first: (0, 5] is pulled in pages of 2, in order.
        rig.sync.send(SyncCmd::Push(Box::new(msg(5))));
        eventually("five messages", || rig.heard.msgs().len() >= 5).await;
        for seq in [3, 5, 6] {
            rig.sync.send(SyncCmd::Push(Box::new(msg(seq))));
        }
        eventually("the sixth message", || rig.heard.msgs().len() >= 6).await;
        assert_eq!(rig.heard.msgs(), ["m1", "m2", "m3", "m4", "m5", "m6"]);
        assert_eq!(rig.cursor().await, Some(6));
    }

    #[tokio::test]
    async fn a_connection_lost_in_the_middle_of_a_gap_resumes_after_the_reconnect_without_loss_or_repeat() {
        let mut rig = Rig::start().await;
        let mut conn = rig.connect().await;
        rig.sync.send(SyncCmd::Push(Box::new(msg(10))));
        // The first page of the gap arrives, then the connection drops before the second.
        let first = conn.request().await.unwrap();
        assert_eq!((first.op.as_str(), &first.body["after_seq"]), (op::MSG_PULL, &json!(0)));
        conn.answer(first.id, pull_answer(&first.body, 10, 4));
        let second = conn.request().await.unwrap();
        assert_eq!(second.body["after_seq"], 4, "the next page starts after the stored one");
        drop(conn);
        eventually("the first page told", || rig.heard.msgs().len() == 4).await;
        eventually("the connection seen lost", || rig.link.current().is_none()).await;
        assert_eq!(rig.cursor().await, Some(4), "the cursor moved only over what was stored");

        // Reconnected: the resync finds the conversation and pulls the rest.
        let conn = rig.connect().await;
        let _pushes = conn.serve(|op, body| match op {
            op::SYNC => {
                let state = ConvState {
                    conv_id: bob(),
                    max_seq: 10,
                    version: 1,
                    read_seq: 0,
                    recv_opt: 0,
                    pinned: false,
                    deleted: false,
                    group: None,
                };
                Some(serde_json::to_value(SyncRes { convs: vec![state], version: 1, has_more: false }).unwrap())
            }
            op::MSG_PULL => Some(pull_answer(body, 10, 4)),
            _ => Some(json!({})),
        });
        rig.sync.send(SyncCmd::Resync);
        eventually("the sync finished", || rig.heard.sync.lock().unwrap().contains(&"finish")).await;
        // A late push of what was already pulled changes nothing.
        rig.sync.send(SyncCmd::Push(Box::new(msg(7))));
        rig.sync.send(SyncCmd::Push(Box::new(msg(11))));
        eventually("the eleventh message", || rig.heard.msgs().len() >= 11).await;
        let want: Vec<String> = (1..=11).map(|s| format!("m{s}")).collect();
        assert_eq!(rig.heard.msgs(), want);
        assert_eq!(rig.cursor().await, Some(11));
        assert_eq!(*rig.heard.sync.lock().unwrap(), ["start", "finish"]);
    }

    #[tokio::test]
    async fn a_resync_without_a_connection_fails_and_moves_nothing() {
        let rig = Rig::start().await;
        rig.sync.send(SyncCmd::Resync);
        eventually("the sync failed", || rig.heard.sync.lock().unwrap().contains(&"failed")).await;
        assert_eq!(*rig.heard.sync.lock().unwrap(), ["start", "failed"]);
        assert_eq!(rig.cursor().await, None);
        let version = rig.store.call(|db| store::kv_get(db, KV_SYNC_VERSION)).await.unwrap();
        assert_eq!(version, None);
    }

    fn state(max_seq: u64) -> ConvState {
        ConvState {
            conv_id: bob(),
            max_seq,
            version: 1,
            read_seq: 0,
            recv_opt: 0,
            pinned: false,
            deleted: false,
            group: None,
        }
    }

    /// Waits (up to 5 s) until the actor did everything queued so far, its start included, and
    /// the listeners heard all it told.
    async fn settled(sync: &SyncHandle) {
        let (done, settled) = tokio::sync::oneshot::channel();
        sync.send(SyncCmd::Settled(done));
        tokio::time::timeout(Duration::from_secs(5), settled).await.expect("the actor settles within 5 s").unwrap();
    }

    /// Waits (up to 5 s) until every stored delivery is recorded as told.
    async fn recorded_as_told(store: &Arc<Store>) {
        for _ in 0..500 {
            if store.call(|db| store::announce::pending(db, "me")).await.unwrap().1.is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the deliveries told were not recorded as told within 5 s");
    }

    #[tokio::test]
    async fn a_conversation_change_lost_with_a_step_that_ended_early_is_told_by_the_next_session() {
        let mut rig = Rig::start().await;
        let mut conn = rig.connect().await;
        rig.sync.send(SyncCmd::Resync);
        let sync = conn.request().await.unwrap();
        assert_eq!(sync.op, op::SYNC);
        conn.answer(
            sync.id,
            serde_json::to_value(SyncRes { convs: vec![state(6)], version: 1, has_more: false }).unwrap(),
        );
        // The first page is stored and its messages told; the step ends (logout) while the
        // second page is being pulled: the conversation's change was held for the step's end.
        let first = conn.request().await.unwrap();
        conn.answer(first.id, pull_answer(&first.body, 6, 3));
        let second = conn.request().await.unwrap();
        assert_eq!(second.body["after_seq"], 3);
        eventually("the first page told", || rig.heard.msgs().len() == 3).await;
        // "Told" is recorded after the listeners returned: wait for the record, or the next
        // session rightly tells the page again (the told-once promise starts at the record).
        recorded_as_told(&rig.store).await;
        rig.sync.stop();
        assert!(rig.heard.convs.lock().unwrap().is_empty(), "the step ended before it told the conversation");

        // The next session (no server needed) tells it, once.
        let (next, heard) = actor(&rig.store, &rig.link);
        eventually("the conversation told", || !heard.convs.lock().unwrap().is_empty()).await;
        assert_eq!(*heard.convs.lock().unwrap(), [("new", "c2c_bob".to_owned(), 3)]);
        assert!(heard.msgs().is_empty(), "the messages were told before and are not told again");
        drop(next);
        let (third, heard) = actor(&rig.store, &rig.link);
        settled(&third).await;
        assert!(heard.convs.lock().unwrap().is_empty(), "told once");
    }

    #[tokio::test]
    async fn messages_stored_and_not_told_before_a_session_ended_are_told_first_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("oxim.db")).unwrap());
        let link = Arc::new(Link::default());
        // An earlier session stored five messages and was killed before telling them (its
        // events were lost with the process): nothing acknowledged them. (No actor runs on the
        // store yet: one would tell them itself.)
        let batch: Vec<WireMessage> = (1..=5).map(msg).collect();
        store.call(move |db| store::store_received(db, "me", &bob(), &batch, Some((0, 5)), 0).map(drop)).await.unwrap();
        let (_next, heard) = actor(&store, &link);
        eventually("five messages told", || heard.msgs().len() == 5).await;
        assert_eq!(heard.msgs(), ["m1", "m2", "m3", "m4", "m5"]);
        // Told and acknowledged: the session after that tells nothing again.
        recorded_as_told(&store).await;
        let (third, heard) = actor(&store, &link);
        settled(&third).await;
        assert!(heard.msgs().is_empty());
    }

    /// An app slower than the store, that looks at the store each time it is told a message:
    /// how many messages are recorded as not yet told at that moment.
    struct SlowApp {
        db: Mutex<rusqlite::Connection>,
        heard: Mutex<Vec<(String, usize)>>,
    }

    impl AdvancedMsgListener for SlowApp {
        fn on_recv_new_message(&self, msg: Message) {
            let untold: i64 =
                self.db.lock().unwrap().query_row("SELECT count(*) FROM announce", [], |r| r.get(0)).unwrap();
            self.heard.lock().unwrap().push((msg.msg_id, untold as usize));
            // Slower than storing: the store would run ahead if nothing held it.
            std::thread::sleep(Duration::from_micros(300));
        }
    }

    #[tokio::test]
    async fn a_catch_up_stores_its_next_page_only_once_the_previous_one_is_recorded_as_told() {
        let mut rig = Rig::start().await;
        let app = Arc::new(SlowApp {
            db: Mutex::new(rusqlite::Connection::open(rig._dir.path().join("oxim.db")).unwrap()),
            heard: Mutex::new(Vec::new()),
        });
        let listeners = Arc::new(Listeners::default());
        listeners.add_advanced(app.clone());
        let events = Arc::new(Dispatcher::start(listeners));
        rig.sync.stop();
        // A device that synced before: it pulls the whole gap (a new one takes the latest 20).
        rig.store.call(|db| store::kv_set(db, KV_SYNCED_ONCE, "1")).await.unwrap();
        let sync = SyncHandle::start("me".into(), rig.store.clone(), rig.link.clone(), events, Default::default(), 0);
        let conn = rig.connect().await;
        let _pushes = conn.serve(|op, body| (op == op::MSG_PULL).then(|| pull_answer(body, 600, 200)));
        // Seq 600 arrives first: three pages of 200 are pulled and told.
        sync.send(SyncCmd::Push(Box::new(msg(600))));
        eventually("600 messages told", || app.heard.lock().unwrap().len() == 600).await;
        let heard = app.heard.lock().unwrap().clone();
        let want: Vec<String> = (1..=600).map(|s| format!("m{s}")).collect();
        assert_eq!(heard.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), want);
        // While a message was told, at most one page was recorded as not told: a kill at any
        // moment makes the next session tell at most that page again.
        let most = heard.iter().map(|(_, untold)| *untold).max().unwrap();
        assert!(most <= UNRECORDED_MAX, "{most} messages stored and not recorded as told at once");
    }
}
