//! The sync rules without I/O: what to do with a delivered seq, what to pull on a resync, which
//! signaling actions to tell, which events a stored delivery makes. Pure functions returning
//! actions; the sync actor ([`crate::sync`]) does the network and store work they ask for.
//!
//! Rules (see `docs/protocol.md`, "Delivery"):
//! - cursor = highest seq up to which a conversation is complete locally;
//! - a message with seq = cursor + 1 is stored and announced; seq <= cursor is a duplicate and
//!   dropped; seq > cursor + 1 first pulls the gap (cursor, seq];
//! - a device that has never completed a sync roams: a conversation it does not know starts
//!   [`ROAM_COUNT`] messages below the newest; a device that has synced before takes an unknown
//!   conversation from the start (it is newer than its last sync);
//! - the cursor only moves forward, and only over what was stored.

use std::collections::HashMap;

use crate::model::event::Event;
use crate::model::group::{from_tips, from_user_event};
use crate::model::message::{ConvId, Elem, Message, MessageStatus, SignalingAction, SignalingInfo, WireMessage};
use crate::store::Effect;

/// Messages per conversation a new device downloads as history.
pub const ROAM_COUNT: u64 = 20;

/// What to do with a seq delivered in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Already stored (or older than what this device keeps): nothing to do.
    Duplicate,
    /// The next seq: store it, and the cursor moves from `after` to it.
    Next {
        /// The cursor before.
        after: u64,
    },
    /// Seqs in between are missing: pull `(after, up_to]` (which includes the delivered one).
    Gap {
        /// The cursor.
        after: u64,
        /// The delivered seq.
        up_to: u64,
    },
}

/// Where a conversation this device has never synced starts, given its newest seq.
pub fn start_of_unknown(synced_once: bool, newest: u64) -> u64 {
    if synced_once { 0 } else { newest.saturating_sub(ROAM_COUNT) }
}

fn classify(cursor: u64, seq: u64) -> Delivery {
    if seq <= cursor {
        Delivery::Duplicate
    } else if seq == cursor + 1 {
        Delivery::Next { after: cursor }
    } else {
        Delivery::Gap { after: cursor, up_to: seq }
    }
}

/// A message the server delivered with `seq`. `cursor` is the conversation's stored cursor,
/// `None` if this device never synced it.
pub fn on_delivered(cursor: Option<u64>, synced_once: bool, seq: u64) -> Delivery {
    classify(cursor.unwrap_or_else(|| start_of_unknown(synced_once, seq)), seq)
}

/// One of the user's own messages was accepted with `seq` (and is stored already): on
/// [`Delivery::Next`] only the cursor moves. An unknown conversation starts just below it at
/// the latest, so the user's own message never opens a gap that roaming would not have pulled.
pub fn on_accepted(cursor: Option<u64>, synced_once: bool, seq: u64) -> Delivery {
    let start = || start_of_unknown(synced_once, seq).min(seq.saturating_sub(1));
    classify(cursor.unwrap_or_else(start), seq)
}

/// Where a page pulled for `(after, up_to]` that covers up to `covered_seq` leaves the cursor:
/// `Some(cursor)` to store its messages as `(after, cursor]`, `None` when the server has
/// nothing more in the range (it never had those seqs).
pub fn page_end(after: u64, up_to: u64, covered_seq: u64) -> Option<u64> {
    let covered = covered_seq.min(up_to);
    (covered > after).then_some(covered)
}

/// The cursors the actor knows (a cache of the stored ones).
#[derive(Debug, Default)]
pub struct Cursors(HashMap<ConvId, u64>);

impl Cursors {
    /// The known cursor of `conv`.
    pub fn get(&self, conv: &ConvId) -> Option<u64> {
        self.0.get(conv).copied()
    }

    /// Records the cursor read from the store (`None`: never synced, nothing recorded).
    pub fn learn(&mut self, conv: &ConvId, stored: Option<u64>) {
        if let Some(c) = stored {
            self.0.insert(conv.clone(), c);
        }
    }

    /// Moves a cursor forward to `to` after its messages were stored (never back).
    pub fn advance(&mut self, conv: &ConvId, to: u64) {
        let c = self.0.entry(conv.clone()).or_insert(0);
        *c = (*c).max(to);
    }
}

/// A pull of `(after, up_to]` of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// The conversation.
    pub conv: ConvId,
    /// Its cursor.
    pub after: u64,
    /// Its newest seq on the server.
    pub up_to: u64,
}

/// What a resync does with a page of the server's conversation states.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResyncPlan {
    /// Conversations that miss messages.
    pub pulls: Vec<Pull>,
    /// Conversations new to this device with nothing to pull: tracked from the given cursor.
    pub starts: Vec<(ConvId, u64)>,
}

/// Plans a resync page: `convs` are (conversation, newest seq on the server). `synced_once`
/// matters only for conversations `cursors` does not know.
pub fn plan_resync(convs: &[(ConvId, u64)], cursors: &Cursors, synced_once: bool) -> ResyncPlan {
    let mut plan = ResyncPlan::default();
    for (conv, max_seq) in convs {
        let known = cursors.get(conv);
        let cursor = known.unwrap_or_else(|| start_of_unknown(synced_once, *max_seq));
        if *max_seq > cursor {
            plan.pulls.push(Pull { conv: conv.clone(), after: cursor, up_to: *max_seq });
        } else if known.is_none() {
            plan.starts.push((conv.clone(), cursor));
        }
    }
    plan
}

/// The signaling actions of one step (a resync, a gap pull: `(action, who acted)` in order)
/// that the user hears of. An invitation that a later action of the same step cancelled,
/// timed out or that this user answered elsewhere is not told (a user who was away hears
/// `onInvitationTimeout`, not a stale invitation first); users never hear of their own
/// actions, except timeouts (made by the server).
pub fn signals_to_tell(me: &str, step: Vec<(SignalingInfo, String)>) -> Vec<(SignalingInfo, String)> {
    let mut told = Vec::new();
    for (i, (info, from)) in step.iter().enumerate() {
        if from == me && info.action_type != SignalingAction::Timeout {
            continue;
        }
        if info.action_type == SignalingAction::Invite {
            let over = step[i + 1..].iter().any(|(later, by)| {
                later.invite_id == info.invite_id
                    && match later.action_type {
                        SignalingAction::Cancel | SignalingAction::Timeout => true,
                        SignalingAction::Accept | SignalingAction::Reject => by == me,
                        SignalingAction::Invite => false,
                    }
            });
            if over {
                continue;
            }
        }
        told.push((info.clone(), from.clone()));
    }
    told
}

/// The events stored effects make, in order; consecutive receipts become one event (V2TIM
/// delivers receipts as a list). Conversation changes and signaling actions make none here:
/// the publisher and [`signals_to_tell`] decide those.
pub fn events_of(effects: Vec<Effect>) -> Vec<Event> {
    let mut events = Vec::new();
    let mut receipts = Vec::new();
    for effect in effects {
        if !matches!(effect, Effect::Receipt(_)) && !receipts.is_empty() {
            events.push(Event::C2CReadReceipt(std::mem::take(&mut receipts)));
        }
        match effect {
            Effect::NewMessage(m) => events.push(Event::NewMessage(m)),
            Effect::Revoked(id) => events.push(Event::MessageRevoked(id)),
            Effect::Receipt(r) => receipts.push(r),
            Effect::Group(e) => events.push(Event::Group(e)),
            Effect::SelfInfo(info) => events.push(Event::SelfInfoUpdated(info)),
            Effect::Friendship(e) => events.push(Event::Friendship(e)),
            Effect::ReadChanged(_) | Effect::MessagesRemoved(_) | Effect::Signal { .. } | Effect::Conversation(..) => {}
        }
    }
    if !receipts.is_empty() {
        events.push(Event::C2CReadReceipt(receipts));
    }
    events
}

/// The events an online-only message makes (no seq: never stored, never counted): the message
/// (and, for a group tip, its group callback), or a room event (an AVChatRoom dismissed).
pub fn online_events(me: &str, msg: &WireMessage) -> Vec<Event> {
    match &msg.elem {
        Elem::Event { event } => from_user_event(event).map(Event::Group).into_iter().collect(),
        elem => {
            let mut events = vec![Event::NewMessage(Box::new(Message::from_wire(msg, me, MessageStatus::SendSucc)))];
            if let Elem::GroupTips { tips } = elem
                && let Some(e) = from_tips(&msg.group_id, tips)
            {
                events.push(Event::Group(e));
            }
            events
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::message::MessageReceipt;

    fn c2c(peer: &str) -> ConvId {
        ConvId::C2C(peer.into())
    }

    #[test]
    fn a_seq_is_a_duplicate_the_next_one_or_a_gap() {
        assert_eq!(on_delivered(Some(5), true, 3), Delivery::Duplicate);
        assert_eq!(on_delivered(Some(5), true, 5), Delivery::Duplicate);
        assert_eq!(on_delivered(Some(5), true, 6), Delivery::Next { after: 5 });
        assert_eq!(on_delivered(Some(5), true, 9), Delivery::Gap { after: 5, up_to: 9 });
        assert_eq!(on_delivered(Some(0), false, 1), Delivery::Next { after: 0 });
    }

    #[test]
    fn an_unknown_conversation_roams_on_a_new_device_and_starts_at_one_after_a_sync() {
        // Never synced: the latest ROAM_COUNT messages, so seq 100 pulls (80, 100].
        assert_eq!(on_delivered(None, false, 100), Delivery::Gap { after: 80, up_to: 100 });
        assert_eq!(on_delivered(None, false, 3), Delivery::Gap { after: 0, up_to: 3 });
        assert_eq!(on_delivered(None, false, 1), Delivery::Next { after: 0 });
        // Synced before: an unknown conversation is newer than the last sync, all of it is new.
        assert_eq!(on_delivered(None, true, 100), Delivery::Gap { after: 0, up_to: 100 });
    }

    #[test]
    fn an_accepted_own_message_moves_the_cursor_or_pulls_what_came_before_it() {
        assert_eq!(on_accepted(Some(4), true, 5), Delivery::Next { after: 4 });
        assert_eq!(on_accepted(Some(4), true, 4), Delivery::Duplicate);
        assert_eq!(on_accepted(Some(4), true, 7), Delivery::Gap { after: 4, up_to: 7 });
        // A conversation this device starts: the cursor goes to the message at the latest.
        assert_eq!(on_accepted(None, false, 1), Delivery::Next { after: 0 });
        assert_eq!(on_accepted(None, false, 30), Delivery::Gap { after: 10, up_to: 30 });
        assert_eq!(on_accepted(None, true, 30), Delivery::Gap { after: 0, up_to: 30 });
        // Seq 0 (nothing stored on the server) never moves a cursor.
        assert_eq!(on_accepted(None, false, 0), Delivery::Duplicate);
    }

    #[test]
    fn a_page_moves_the_cursor_only_over_what_it_covers() {
        assert_eq!(page_end(10, 500, 210), Some(210));
        assert_eq!(page_end(10, 500, 900), Some(500), "never past the range asked for");
        assert_eq!(page_end(10, 500, 10), None, "the server has nothing more there");
        assert_eq!(page_end(10, 500, 0), None);
    }

    #[test]
    fn cursors_never_move_back() {
        let mut cursors = Cursors::default();
        let conv = c2c("bob");
        cursors.learn(&conv, None);
        assert_eq!(cursors.get(&conv), None);
        cursors.learn(&conv, Some(7));
        cursors.advance(&conv, 5);
        assert_eq!(cursors.get(&conv), Some(7));
        cursors.advance(&conv, 9);
        assert_eq!(cursors.get(&conv), Some(9));
    }

    #[test]
    fn a_resync_pulls_what_is_missing_and_starts_what_is_new() {
        let mut cursors = Cursors::default();
        cursors.learn(&c2c("known"), Some(5));
        cursors.learn(&c2c("complete"), Some(9));
        let convs =
            vec![(c2c("known"), 8), (c2c("complete"), 9), (c2c("new"), 50), (c2c("short"), 3), (c2c("empty"), 0)];
        let plan = plan_resync(&convs, &cursors, false);
        assert_eq!(
            plan.pulls,
            [
                Pull { conv: c2c("known"), after: 5, up_to: 8 },
                Pull { conv: c2c("new"), after: 30, up_to: 50 },
                Pull { conv: c2c("short"), after: 0, up_to: 3 },
            ]
        );
        assert_eq!(plan.starts, [(c2c("empty"), 0)]);
        let plan = plan_resync(&convs, &cursors, true);
        assert_eq!(plan.pulls[1], Pull { conv: c2c("new"), after: 0, up_to: 50 });
    }

    fn signal(id: &str, action: SignalingAction) -> SignalingInfo {
        SignalingInfo {
            invite_id: id.into(),
            inviter: "ann".into(),
            invitee_list: vec!["me".into(), "bob".into()],
            group_id: String::new(),
            data: String::new(),
            timeout: 30,
            action_type: action,
        }
    }

    fn told(me: &str, step: Vec<(SignalingInfo, &str)>) -> Vec<(String, SignalingAction, String)> {
        let step = step.into_iter().map(|(i, by)| (i, by.to_owned())).collect();
        signals_to_tell(me, step).into_iter().map(|(i, by)| (i.invite_id, i.action_type, by)).collect()
    }

    #[test]
    fn an_invitation_that_ended_in_the_same_step_is_not_told() {
        use SignalingAction::*;
        // Cancelled or timed out while away: only the end is told.
        assert_eq!(
            told("me", vec![(signal("a", Invite), "ann"), (signal("a", Cancel), "ann")]),
            [("a".into(), Cancel, "ann".into())]
        );
        assert_eq!(
            told("me", vec![(signal("a", Invite), "ann"), (signal("a", Timeout), "ann")]),
            [("a".into(), Timeout, "ann".into())]
        );
        // Answered on another of my devices: nothing (my own action is not told to me either).
        assert!(told("me", vec![(signal("a", Invite), "ann"), (signal("a", Accept), "me")]).is_empty());
        // Someone else's answer does not end my invitation (group calls).
        assert_eq!(
            told("me", vec![(signal("a", Invite), "ann"), (signal("a", Reject), "bob")]),
            [("a".into(), Invite, "ann".into()), ("a".into(), Reject, "bob".into())]
        );
        // Another invitation's end does not hide this one.
        assert_eq!(told("me", vec![(signal("a", Invite), "ann"), (signal("b", Cancel), "ann")]).len(), 2);
        // A timeout is told even to the one who "made" it.
        assert_eq!(told("ann", vec![(signal("a", Timeout), "ann")]).len(), 1);
    }

    fn receipt(user: &str, seq: u64) -> Effect {
        Effect::Receipt(MessageReceipt { user_id: user.into(), timestamp: 1, seq })
    }

    #[test]
    fn consecutive_receipts_become_one_event_in_place() {
        let events = events_of(vec![
            receipt("bob", 1),
            receipt("carol", 2),
            Effect::Revoked("m1".into()),
            Effect::ReadChanged(c2c("bob")),
            receipt("bob", 3),
        ]);
        let shape: Vec<String> = events
            .iter()
            .map(|e| match e {
                Event::C2CReadReceipt(r) => format!("receipts {}", r.len()),
                Event::MessageRevoked(id) => format!("revoked {id}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shape, ["receipts 2", "revoked m1", "receipts 1"]);
    }

    /// A server conversation and a device, driven by the functions above as the sync actor
    /// drives them, through pushes out of order, duplicates, page-sized pulls, connections lost
    /// in the middle of a gap, restarts (the cursor cache lost) and resyncs.
    struct Device {
        /// The stored cursors (what survives a restart).
        stored_cursor: HashMap<ConvId, u64>,
        /// The actor's cache.
        cursors: Cursors,
        synced_once: bool,
        /// Seqs stored per conversation, in the order they were stored (the store drops a
        /// message it has: ON CONFLICT DO NOTHING).
        stored: HashMap<ConvId, Vec<u64>>,
        /// Pages the connection still serves before it drops (None: unlimited).
        budget: Option<usize>,
    }

    struct Server {
        /// Seqs per conversation (a hole is a message deleted for everyone).
        convs: BTreeMap<ConvId, Vec<u64>>,
    }

    const PAGE: usize = 3;

    impl Server {
        fn max_seq(&self, conv: &ConvId) -> u64 {
            self.convs[conv].last().copied().unwrap_or(0)
        }

        /// `msg.pull`: up to PAGE messages of `(after, up_to]` and the seq the page covers.
        fn pull(&self, conv: &ConvId, after: u64, up_to: u64) -> (Vec<u64>, u64) {
            let msgs: Vec<u64> = self.convs[conv].iter().copied().filter(|s| *s > after && *s <= up_to).collect();
            if msgs.len() > PAGE {
                (msgs[..PAGE].to_vec(), msgs[PAGE - 1])
            } else {
                (msgs, up_to.min(self.max_seq(conv)))
            }
        }
    }

    #[derive(Debug)]
    struct Lost;

    impl Device {
        fn new() -> Device {
            Device {
                stored_cursor: HashMap::new(),
                cursors: Cursors::default(),
                synced_once: false,
                stored: HashMap::new(),
                budget: None,
            }
        }

        fn cursor(&mut self, conv: &ConvId) -> Option<u64> {
            if self.cursors.get(conv).is_none() {
                self.cursors.learn(conv, self.stored_cursor.get(conv).copied());
            }
            self.cursors.get(conv)
        }

        /// One transaction: the messages and the cursor move together.
        fn store(&mut self, conv: &ConvId, msgs: &[u64], cursor: u64) {
            let stored = self.stored.entry(conv.clone()).or_default();
            for s in msgs {
                if !stored.contains(s) {
                    stored.push(*s);
                }
            }
            let c = self.stored_cursor.entry(conv.clone()).or_insert(0);
            *c = (*c).max(cursor);
            self.cursors.advance(conv, cursor);
        }

        fn request(&mut self) -> Result<(), Lost> {
            match &mut self.budget {
                Some(0) => Err(Lost),
                Some(n) => {
                    *n -= 1;
                    Ok(())
                }
                None => Ok(()),
            }
        }

        fn pull_range(&mut self, server: &Server, conv: &ConvId, mut after: u64, up_to: u64) -> Result<(), Lost> {
            while after < up_to {
                self.request()?;
                let (msgs, covered) = server.pull(conv, after, up_to);
                let Some(cursor) = page_end(after, up_to, covered) else { break };
                self.store(conv, &msgs, cursor);
                after = cursor;
            }
            Ok(())
        }

        fn push(&mut self, server: &Server, conv: &ConvId, seq: u64) -> Result<(), Lost> {
            let cursor = self.cursor(conv);
            match on_delivered(cursor, self.synced_once, seq) {
                Delivery::Duplicate => Ok(()),
                Delivery::Next { .. } => {
                    self.store(conv, &[seq], seq);
                    Ok(())
                }
                Delivery::Gap { after, up_to } => self.pull_range(server, conv, after, up_to),
            }
        }

        fn resync(&mut self, server: &Server) -> Result<(), Lost> {
            self.request()?;
            let convs: Vec<(ConvId, u64)> = server.convs.keys().map(|c| (c.clone(), server.max_seq(c))).collect();
            for (conv, _) in &convs {
                self.cursor(conv);
            }
            let plan = plan_resync(&convs, &self.cursors, self.synced_once);
            for (conv, at) in plan.starts {
                self.stored_cursor.insert(conv.clone(), at);
                self.cursors.learn(&conv, Some(at));
            }
            for pull in plan.pulls {
                self.pull_range(server, &pull.conv, pull.after, pull.up_to)?;
            }
            self.synced_once = true;
            Ok(())
        }

        fn restart(&mut self) {
            self.cursors = Cursors::default();
            self.budget = None;
        }

        /// Every conversation holds its server messages from where it started, each once, in
        /// seq order, and its cursor is the server's newest seq.
        fn assert_complete(&self, server: &Server, starts: &HashMap<ConvId, u64>) {
            for (conv, seqs) in &server.convs {
                let from = starts.get(conv).copied().unwrap_or(0);
                let want: Vec<u64> = seqs.iter().copied().filter(|s| *s > from).collect();
                assert_eq!(self.stored.get(conv).cloned().unwrap_or_default(), want, "{conv}");
                assert_eq!(self.stored_cursor.get(conv).copied(), Some(server.max_seq(conv)), "{conv}");
            }
        }
    }

    #[test]
    fn pushes_out_of_order_and_twice_are_stored_once_in_order() {
        let bob = c2c("bob");
        let server = Server { convs: BTreeMap::from([(bob.clone(), (1..=9).collect())]) };
        let mut d = Device::new();
        d.synced_once = true;
        // 1 and 2 arrive; 5 arrives before 3 and 4 (it pulls them first); 4, 3, 5 come again.
        for seq in [1, 2, 2, 5, 4, 3, 5, 1] {
            d.push(&server, &bob, seq).unwrap();
        }
        assert_eq!(d.stored[&bob], [1, 2, 3, 4, 5]);
        for seq in [9, 6, 7, 8, 9] {
            d.push(&server, &bob, seq).unwrap();
        }
        d.assert_complete(&server, &HashMap::new());
    }

    #[test]
    fn a_gap_over_deleted_seqs_moves_the_cursor_over_them() {
        let bob = c2c("bob");
        // 4 and 5 were deleted for everyone: the pull covers them without messages.
        let server = Server { convs: BTreeMap::from([(bob.clone(), vec![1, 2, 3, 6, 7])]) };
        let mut d = Device::new();
        d.synced_once = true;
        d.push(&server, &bob, 1).unwrap();
        d.push(&server, &bob, 7).unwrap();
        d.assert_complete(&server, &HashMap::new());
    }

    #[test]
    fn a_connection_lost_in_the_middle_of_a_gap_resumes_from_what_was_stored() {
        let (bob, team) = (c2c("bob"), ConvId::Group("team".into()));
        let server = Server { convs: BTreeMap::from([(bob.clone(), (1..=20).collect()), (team.clone(), vec![1, 2])]) };
        let mut d = Device::new();
        d.synced_once = true;
        d.push(&server, &bob, 1).unwrap();
        // A push of 20 pulls (1, 20] in pages of 3; the connection drops after two pages.
        d.budget = Some(2);
        assert!(d.push(&server, &bob, 20).is_err());
        assert_eq!(d.stored[&bob], (1..=7).collect::<Vec<_>>(), "the stored pages stay");
        assert_eq!(d.stored_cursor[&bob], 7, "the cursor moved only over what was stored");
        // Pushes sent while disconnected never arrive; a push that does arrive before the
        // resync (on the new connection) is a gap again, pulled from the stored cursor.
        d.budget = None;
        d.push(&server, &bob, 19).unwrap();
        assert_eq!(d.stored_cursor[&bob], 19);
        // The resync after the reconnect finds what is left, in both conversations.
        d.resync(&server).unwrap();
        d.assert_complete(&server, &HashMap::new());
    }

    #[test]
    fn a_restart_in_the_middle_of_a_resync_finishes_it_exactly_once() {
        let convs: BTreeMap<ConvId, Vec<u64>> =
            (0..5).map(|i| (c2c(&format!("u{i}")), (1..=10 + i as u64 * 7).collect())).collect();
        let server = Server { convs };
        let mut d = Device::new();
        // A new device: every conversation roams its latest ROAM_COUNT messages. The
        // connection drops in the middle (after the sync page and 6 pulls).
        d.budget = Some(7);
        assert!(d.resync(&server).is_err());
        assert!(!d.synced_once, "an interrupted sync does not count as completed");
        d.restart();
        d.resync(&server).unwrap();
        let starts: HashMap<ConvId, u64> =
            server.convs.keys().map(|c| (c.clone(), server.max_seq(c).saturating_sub(ROAM_COUNT))).collect();
        d.assert_complete(&server, &starts);
        // Nothing is stored twice by a further resync or by stale pushes.
        d.resync(&server).unwrap();
        for conv in server.convs.keys() {
            d.push(&server, conv, 1).unwrap();
        }
        d.assert_complete(&server, &starts);
    }
}
