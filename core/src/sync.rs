//! Keeping the local store in step with the server, exactly once and in seq order.
//!
//! One task per logged-in session (the sync actor) owns every change to the per-conversation
//! cursors. It handles, strictly one at a time: pushes, acknowledgements of our own sends, and
//! resyncs after (re)login. Because it is sequential, a push that arrives while a gap is being
//! pulled waits its turn and is then seen as already stored.
//!
//! Rules (see `docs/protocol.md`, "Delivery"):
//! - cursor = highest seq up to which the conversation is complete locally;
//! - a push with seq = cursor + 1 is stored and announced; seq <= cursor is a duplicate and
//!   dropped; seq > cursor + 1 first pulls the gap (cursor, seq];
//! - on (re)login the actor asks which conversations changed since its last complete sync and
//!   pulls each from its cursor; the sync version is saved only after the pulls succeeded;
//! - a device that has never completed a sync roams: it takes the latest [`ROAM_COUNT`] messages
//!   of each conversation it does not know; a device that has synced before pulls unknown
//!   conversations from the start (they are newer than its last sync);
//! - a stored message is announced (once) if the server accepted it after this device's first
//!   login ("birth"); older ones are history the device roamed, not news.
//! - messages are announced (onRecvNewMessage) only after they are committed to the store;
//! - signaling messages also make `V2TIMSignalingListener` callbacks, collected over one whole
//!   step (a resync, a gap pull) and told at its end: an invitation that a later message of the
//!   same step cancelled, timed out or that this user answered elsewhere is not announced
//!   (so a user who was away hears `onInvitationTimeout`, not a stale invitation first). Users
//!   never hear of their own actions, except timeouts (made by the server).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::StreamExt as _;
use oxim_proto::op;
use oxim_proto::payload::{ConvState, PullReq, PullRes, SeqRange, SyncReq, SyncRes, UnreadReq, UnreadRes, WireMessage};
use oxim_proto::signaling::signaling_of;
use tokio::sync::mpsc;

use crate::conversation::Publisher;
use crate::error::Result;
use crate::events::{Dispatcher, Event};
use crate::link::Link;
use crate::model::conversation::ConvChange;
use crate::model::message::{ConvId, Message, MessageStatus, SignalingAction, SignalingInfo};
use crate::store::conversations as convs;
use crate::store::{self, Effect, Store};

/// Messages per conversation a new device downloads as history.
pub const ROAM_COUNT: u64 = 20;
/// Page size of pulls.
const PULL_PAGE: u32 = 200;
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
        let actor = SyncActor {
            me,
            store,
            link,
            events,
            conversations,
            cursors: HashMap::new(),
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
    store: Arc<Store>,
    link: Arc<Link>,
    events: Arc<Dispatcher>,
    /// Cache of the stored cursors.
    cursors: HashMap<ConvId, u64>,
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

impl SyncActor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<SyncCmd>) {
        while let Some(cmd) = rx.recv().await {
            let result = match cmd {
                SyncCmd::Push(msg) => self.on_push(*msg).await,
                SyncCmd::Sent { conv, seq } => self.on_sent(conv, seq).await,
                SyncCmd::Resync => self.resync().await,
                SyncCmd::Signal(msg) => self.on_signal(*msg).await,
                SyncCmd::Refresh => Ok(()),
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
            return Ok(Some(*c));
        }
        let key = conv.clone();
        let stored = self.store.call(move |db| store::synced_seq(db, &key)).await?;
        if let Some(c) = stored {
            self.cursors.insert(conv.clone(), c);
        }
        Ok(stored)
    }

    /// Where to start a conversation this device has never seen, given its newest seq: a
    /// device that never completed a sync takes only the latest messages; one that did takes
    /// everything (the conversation is newer than its last sync).
    async fn start_of_unknown(&mut self, newest: u64) -> Result<u64> {
        Ok(if self.synced_once().await? { 0 } else { newest.saturating_sub(ROAM_COUNT) })
    }

    async fn on_push(&mut self, msg: WireMessage) -> Result<()> {
        if msg.seq == 0 {
            // Online-only: never stored, never counted, announced once as it arrives.
            announce_online(&self.events, &self.me, &msg);
            if let oxim_proto::message::Elem::GroupTips { tips } = &msg.elem
                && !tips.group_changes.is_empty()
            {
                self.online_group_profile(&msg.group_id, tips.clone()).await?;
            }
            return Ok(());
        }
        let conv = msg.conv_id_for(&self.me);
        self.ensure_group_profile(&conv).await;
        let cursor = match self.cursor(&conv).await? {
            Some(c) => c,
            None => self.start_of_unknown(msg.seq).await?,
        };
        if msg.seq <= cursor {
            return Ok(());
        }
        if msg.seq == cursor + 1 {
            self.store_and_announce(conv, vec![msg], cursor, cursor + 1).await
        } else {
            self.pull_range(&conv, cursor, msg.seq).await
        }
    }

    async fn on_signal(&mut self, msg: WireMessage) -> Result<()> {
        let Some(info) = signaling_of(&msg) else { return Ok(()) };
        let record = info.clone();
        self.store.call(move |db| store::record_invitation(db, &record)).await?;
        self.signals.push((info, msg.sender));
        Ok(())
    }

    /// Tells the app the signaling actions of the step that just ended (see the module doc).
    fn flush_signals(&mut self) {
        let signals = std::mem::take(&mut self.signals);
        for (i, (info, from)) in signals.iter().enumerate() {
            if *from == self.me && info.action_type != SignalingAction::Timeout {
                continue;
            }
            if info.action_type == SignalingAction::Invite {
                let over = signals[i + 1..].iter().any(|(later, by)| {
                    later.invite_id == info.invite_id
                        && match later.action_type {
                            SignalingAction::Cancel | SignalingAction::Timeout => true,
                            SignalingAction::Accept | SignalingAction::Reject => *by == self.me,
                            SignalingAction::Invite => false,
                        }
                });
                if over {
                    continue;
                }
            }
            self.events.emit(Event::Signaling { info: Box::new(info.clone()), from: from.clone() });
        }
    }

    async fn on_sent(&mut self, conv: ConvId, seq: u64) -> Result<()> {
        let cursor = match self.cursor(&conv).await? {
            Some(c) => c,
            None => self.start_of_unknown(seq).await?.min(seq - 1),
        };
        if seq <= cursor {
            return Ok(());
        }
        if seq == cursor + 1 {
            // Our own message is already stored (mark_sent); only the cursor moves.
            let key = conv.clone();
            self.store
                .call(move |db| {
                    store::start_conversation(db, &key, cursor)?;
                    store::set_synced_seq(db, &key, seq)
                })
                .await?;
            self.cursors.insert(conv, seq);
            Ok(())
        } else {
            // Someone else's messages came in between and were not pushed to us yet.
            self.pull_range(&conv, cursor, seq).await
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
            let covered = page.covered_seq.min(up_to);
            if covered <= after {
                // The server has nothing more in this range (it never had those seqs).
                break;
            }
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
        let kept = self
            .store
            .call(move |db| {
                let effects = store::store_received(db, &me, &key, &msgs, Some((after, cursor)), born)?;
                let (kept, told): (Vec<Effect>, Vec<Effect>) =
                    effects.into_iter().partition(|e| matches!(e, Effect::Signal { .. } | Effect::Conversation(..)));
                emit_effects(&events, told);
                Ok(kept)
            })
            .await?;
        let entry = self.cursors.entry(conv).or_insert(0);
        *entry = (*entry).max(cursor);
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
            convs.iter().filter(|c| !self.cursors.contains_key(&c.conv_id)).map(|c| c.conv_id.clone()).collect();
        let stored = self
            .store
            .call(move |db| {
                unknown.into_iter().map(|c| Ok((store::synced_seq(db, &c)?, c))).collect::<Result<Vec<_>>>()
            })
            .await?;
        for (seq, conv) in stored {
            if let Some(seq) = seq {
                self.cursors.insert(conv, seq);
            }
        }
        let mut pulls = Vec::new();
        let mut starts = Vec::new();
        for state in &convs {
            let cursor = match self.cursors.get(&state.conv_id) {
                Some(c) => *c,
                None => self.start_of_unknown(state.max_seq).await?,
            };
            if state.max_seq > cursor {
                pulls.push((state.conv_id.clone(), cursor, state.max_seq));
            } else if !self.cursors.contains_key(&state.conv_id) {
                starts.push((state.conv_id.clone(), cursor));
            }
        }
        if !starts.is_empty() {
            let rows = starts.clone();
            self.store
                .call(move |db| rows.iter().try_for_each(|(c, at)| store::start_conversation(db, c, *at).map(|_| ())))
                .await?;
            self.cursors.extend(starts);
        }

        let transport = self.link.current_or_err()?;
        let mut pages = futures_util::stream::iter(pulls.into_iter().map(|(conv, after, up_to)| {
            let transport = transport.clone();
            async move {
                let req = PullReq { conv_id: conv.clone(), after_seq: after, up_to_seq: up_to, limit: PULL_PAGE };
                let page = transport.request::<_, PullRes>(op::MSG_PULL, &req).await;
                (conv, after, up_to, page)
            }
        }))
        .buffered(PULL_PIPELINE);
        while let Some((conv, after, up_to, page)) = pages.next().await {
            let covered = page.as_ref().map_or(0, |p| p.covered_seq.min(up_to));
            if covered <= after {
                // The server has nothing in this range (it never had those seqs).
                page?;
                continue;
            }
            self.store_and_announce(conv.clone(), page?.msgs, after, covered).await?;
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

/// Announces an online-only message: a message (and, for a group tip, its group callback), or
/// a room event (an AVChatRoom dismissed).
fn announce_online(events: &Dispatcher, me: &str, msg: &WireMessage) {
    match &msg.elem {
        oxim_proto::message::Elem::Event { event } => {
            if let Some(e) = crate::model::group::from_user_event(event) {
                events.emit(Event::Group(e));
            }
        }
        elem => {
            events.emit(Event::NewMessage(Box::new(Message::from_wire(msg, me, MessageStatus::SendSucc))));
            if let oxim_proto::message::Elem::GroupTips { tips } = elem
                && let Some(e) = crate::model::group::from_tips(&msg.group_id, tips)
            {
                events.emit(Event::Group(e));
            }
        }
    }
}

/// Turns stored effects into events, in order; consecutive receipts become one event (V2TIM
/// delivers receipts as a list).
pub fn emit_effects(events: &Dispatcher, effects: Vec<Effect>) {
    let mut receipts = Vec::new();
    for effect in effects {
        if !matches!(effect, Effect::Receipt(_)) && !receipts.is_empty() {
            events.emit(Event::C2CReadReceipt(std::mem::take(&mut receipts)));
        }
        match effect {
            Effect::NewMessage(m) => events.emit(Event::NewMessage(m)),
            Effect::Revoked(id) => events.emit(Event::MessageRevoked(id)),
            Effect::Receipt(r) => receipts.push(r),
            Effect::Group(e) => events.emit(Event::Group(e)),
            // Conversation and unread events arrive with the conversation manager; signaling
            // callbacks are told by the sync actor at the end of its step.
            Effect::ReadChanged(_) | Effect::MessagesRemoved(_) | Effect::Signal { .. } | Effect::Conversation(..) => {}
        }
    }
    if !receipts.is_empty() {
        events.emit(Event::C2CReadReceipt(receipts));
    }
}
