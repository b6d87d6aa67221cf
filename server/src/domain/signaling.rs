//! The invitation state machine (V2TIM's signaling rules), pure: no I/O, no clock.
//!
//! ```text
//! invite            -> invitation ACTIVE, every invitee PENDING
//! accept / reject   (by a PENDING invitee, invitation ACTIVE, before the deadline)
//!                   -> that invitee ACCEPTED / REJECTED
//! deadline passes   (timeout > 0)  -> every PENDING invitee TIMED_OUT
//! cancel            (by the inviter, ACTIVE, before the deadline, someone still PENDING)
//!                   -> invitation CANCELLED (the flow ends)
//! nobody PENDING any more          -> invitation ENDED
//! ```
//!
//! Refusals: 8010 for an unknown invitation or one that is no longer open to the action
//! (ended, cancelled, past its deadline, already answered by this invitee); 8011 for a user
//! who may not act on it at all (not an invitee, not the inviter). A repeated request with the
//! same `action_id` (a retry after a lost answer) is recognised and answered like the first.

use oxim_proto::code;
use oxim_proto::ids::ConvId;
use oxim_proto::message::{OfflinePushInfo, WireMessage};
use oxim_proto::signaling::{InviteReq, SignalingAction, SignalingInfo};
use serde::{Deserialize, Serialize};

use super::keys::{Target, c2c_target, group_key};
use super::refusal::Refusal;

/// The state of an invitation as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Someone may still answer.
    Active,
    /// Every invitee accepted, rejected or timed out.
    Ended,
    /// The inviter cancelled it.
    Cancelled,
}

/// The state of one invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteeState {
    /// Has not answered.
    Pending,
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Did not answer before the deadline.
    TimedOut,
}

/// One invitee and what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitee {
    /// The user.
    pub user_id: String,
    /// Their state.
    pub state: InviteeState,
    /// The action id of the request that answered (to recognise its retries).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action_id: String,
}

/// An invitation, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Made by the inviter's SDK.
    pub invite_id: String,
    /// Who invited.
    pub inviter: String,
    /// The group of a group invitation; empty for C2C.
    #[serde(default)]
    pub group_id: String,
    /// App data of the invitation.
    #[serde(default)]
    pub data: String,
    /// Seconds; 0 = never times out.
    pub timeout: u32,
    /// Delivered to online sessions only; nothing is stored in conversations.
    #[serde(default)]
    pub online_only: bool,
    /// Offline push settings carried with the invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_push: Option<OfflinePushInfo>,
    /// When it was made, server Unix ms.
    pub created_ms: i64,
    /// When unanswered invitees time out, server Unix ms; 0 = never.
    pub deadline_ms: i64,
    /// The invitation's state.
    pub state: InvitationState,
    /// The invitees, in the order they were invited.
    pub invitees: Vec<Invitee>,
    /// The action id of the cancel request, once cancelled.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cancel_action_id: String,
}

/// A request that changes an existing invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAct {
    /// `accept` by an invitee.
    Accept,
    /// `reject` by an invitee.
    Reject,
    /// `cancel` by the inviter.
    Cancel,
}

/// What a transition did: the action to tell the participants about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The action.
    pub action: SignalingAction,
    /// Who did it (the inviter for invite, cancel and timeout).
    pub actor: String,
    /// The invitees the action names (all for invite and cancel, the answering one, the ones
    /// that timed out).
    pub invitees: Vec<String>,
    /// The action's app data.
    pub data: String,
    /// The request repeated an action already applied (a retry): nothing changed.
    pub replay: bool,
}

fn invalid(desc: impl Into<String>) -> Refusal {
    Refusal::new(code::SIGNALING_INVALID_INVITE_ID, desc)
}

fn denied(desc: impl Into<String>) -> Refusal {
    Refusal::new(code::SIGNALING_NO_PERMISSION, desc)
}

impl Invitation {
    /// A new invitation by `inviter` as `req` asks, made at `now_ms`, every invitee pending.
    pub fn new(inviter: String, req: InviteReq, now_ms: i64) -> Invitation {
        let deadline_ms = if req.timeout == 0 { 0 } else { now_ms + i64::from(req.timeout) * 1000 };
        Invitation {
            invite_id: req.invite_id,
            inviter,
            group_id: req.group_id,
            data: req.data,
            timeout: req.timeout,
            online_only: req.online_only,
            offline_push: req.offline_push,
            created_ms: now_ms,
            deadline_ms,
            state: InvitationState::Active,
            invitees: req
                .invitees
                .into_iter()
                .map(|user_id| Invitee { user_id, state: InviteeState::Pending, action_id: String::new() })
                .collect(),
            cancel_action_id: String::new(),
        }
    }

    /// The invite step (what the invitation's creation tells the participants).
    pub fn invite_step(&self) -> Step {
        Step {
            action: SignalingAction::Invite,
            actor: self.inviter.clone(),
            invitees: self.invitee_ids(),
            data: self.data.clone(),
            replay: false,
        }
    }

    /// Every invitee's user id.
    pub fn invitee_ids(&self) -> Vec<String> {
        self.invitees.iter().map(|i| i.user_id.clone()).collect()
    }

    /// Whether the deadline has passed at `now_ms`.
    pub fn is_overdue(&self, now_ms: i64) -> bool {
        self.deadline_ms > 0 && now_ms >= self.deadline_ms
    }

    fn open(&self, now_ms: i64) -> Result<(), Refusal> {
        match self.state {
            InvitationState::Cancelled => Err(invalid("the invitation was cancelled")),
            InvitationState::Ended => Err(invalid("the invitation has ended")),
            InvitationState::Active if self.is_overdue(now_ms) => Err(invalid("the invitation has timed out")),
            InvitationState::Active => Ok(()),
        }
    }

    fn settle(&mut self) {
        if self.state == InvitationState::Active && self.invitees.iter().all(|i| i.state != InviteeState::Pending) {
            self.state = InvitationState::Ended;
        }
    }

    /// `accept` or `reject` by `user` at `now_ms`.
    pub fn answer(
        &mut self,
        user: &str,
        accept: bool,
        action_id: &str,
        data: &str,
        now_ms: i64,
    ) -> Result<Step, Refusal> {
        let (action, wanted) = if accept {
            (SignalingAction::Accept, InviteeState::Accepted)
        } else {
            (SignalingAction::Reject, InviteeState::Rejected)
        };
        let Some(i) = self.invitees.iter().position(|i| i.user_id == user) else {
            return Err(denied(format!("{user} is not invited")));
        };
        let step = Step {
            action,
            actor: user.to_owned(),
            invitees: vec![user.to_owned()],
            data: data.to_owned(),
            replay: false,
        };
        let invitee = &self.invitees[i];
        if !action_id.is_empty() && invitee.action_id == action_id && invitee.state == wanted {
            return Ok(Step { replay: true, ..step });
        }
        if invitee.state != InviteeState::Pending {
            return Err(invalid("the invitation was already answered"));
        }
        self.open(now_ms)?;
        let invitee = &mut self.invitees[i];
        invitee.state = wanted;
        invitee.action_id = action_id.to_owned();
        self.settle();
        Ok(step)
    }

    /// `cancel` by `user` at `now_ms`.
    pub fn cancel(&mut self, user: &str, action_id: &str, data: &str, now_ms: i64) -> Result<Step, Refusal> {
        if user != self.inviter {
            return Err(denied("only the inviter may cancel an invitation"));
        }
        let step = Step {
            action: SignalingAction::Cancel,
            actor: user.to_owned(),
            invitees: self.invitee_ids(),
            data: data.to_owned(),
            replay: false,
        };
        if self.state == InvitationState::Cancelled && !action_id.is_empty() && self.cancel_action_id == action_id {
            return Ok(Step { replay: true, ..step });
        }
        self.open(now_ms)?;
        // Active always has someone pending (it ends when nobody is).
        self.state = InvitationState::Cancelled;
        self.cancel_action_id = action_id.to_owned();
        Ok(step)
    }

    /// `act` by `user` at `now_ms` ([`Invitation::answer`] or [`Invitation::cancel`]).
    pub fn act(
        &mut self,
        act: SignalAct,
        user: &str,
        action_id: &str,
        data: &str,
        now_ms: i64,
    ) -> Result<Step, Refusal> {
        match act {
            SignalAct::Accept => self.answer(user, true, action_id, data, now_ms),
            SignalAct::Reject => self.answer(user, false, action_id, data, now_ms),
            SignalAct::Cancel => self.cancel(user, action_id, data, now_ms),
        }
    }

    /// The deadline at `now_ms`: every pending invitee times out. `None` if there is nothing to
    /// do (not active, no deadline, not yet due).
    pub fn expire(&mut self, now_ms: i64) -> Option<Step> {
        if self.state != InvitationState::Active || !self.is_overdue(now_ms) {
            return None;
        }
        let mut timed_out = Vec::new();
        for i in self.invitees.iter_mut().filter(|i| i.state == InviteeState::Pending) {
            i.state = InviteeState::TimedOut;
            timed_out.push(i.user_id.clone());
        }
        self.settle();
        Some(Step {
            action: SignalingAction::Timeout,
            actor: self.inviter.clone(),
            invitees: timed_out,
            data: String::new(),
            replay: false,
        })
    }

    /// The payload telling the participants about `step`.
    pub fn info(&self, step: &Step) -> SignalingInfo {
        SignalingInfo {
            invite_id: self.invite_id.clone(),
            inviter: self.inviter.clone(),
            invitee_list: step.invitees.clone(),
            group_id: self.group_id.clone(),
            data: step.data.clone(),
            timeout: self.timeout,
            action_type: step.action,
        }
    }

    /// The invitation as issued (`signal.get`, `addInvitedSignaling`).
    pub fn issued_info(&self) -> SignalingInfo {
        self.info(&self.invite_step())
    }

    /// Whether `user` takes part as inviter or invitee.
    pub fn involves(&self, user: &str) -> bool {
        self.inviter == user || self.invitees.iter().any(|i| i.user_id == user)
    }
}

/// The messages telling the participants about `step` of `inv`, each with its conversation.
///
/// C2C: one message per invitee the step concerns, in the conversation of the inviter and that
/// invitee, sent by the actor (the inviter for invite, cancel and timeout). Group: one message
/// in the group conversation (`members` are the group's), which every member receives. The ids
/// are made from the invitation, the action and the user (`<inviteID>#<action>#<user>`), so each
/// action has exactly one message and a retry finds it again; `#` keeps them apart from client
/// ids. Invite messages carry the invitation's offline push settings.
pub fn action_messages(inv: &Invitation, step: &Step, members: &[String], now_ms: i64) -> Vec<(Target, WireMessage)> {
    let info = inv.info(step);
    let action = step.action as i32;
    let message = |msg_id: String| {
        let mut msg = WireMessage::new(msg_id, info.to_elem());
        msg.sender = step.actor.clone();
        msg.time_ms = now_ms;
        msg.online_only = inv.online_only;
        if step.action == SignalingAction::Invite {
            msg.offline_push = inv.offline_push.clone();
        }
        msg
    };
    if !inv.group_id.is_empty() {
        let mut msg = message(format!(
            "{}#{action}#{}",
            inv.invite_id,
            if step.actor == inv.inviter { "group" } else { &step.actor }
        ));
        msg.group_id = inv.group_id.clone();
        let target = Target {
            key: group_key(&inv.group_id),
            members: members.iter().map(|u| (u.clone(), ConvId::Group(inv.group_id.clone()))).collect(),
        };
        return vec![(target, msg)];
    }
    let peers: Vec<&String> =
        if step.actor == inv.inviter { step.invitees.iter().collect() } else { vec![&inv.inviter] };
    peers
        .into_iter()
        .map(|peer| {
            let who = if step.actor == inv.inviter { peer } else { &step.actor };
            let mut msg = message(format!("{}#{action}#{who}", inv.invite_id));
            msg.receiver = peer.clone();
            (c2c_target(&step.actor, peer), msg)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(timeout: u32) -> Invitation {
        let req = InviteReq {
            invite_id: "inv".into(),
            group_id: String::new(),
            invitees: vec!["bob".into(), "carol".into()],
            data: "room 7".into(),
            online_only: false,
            timeout,
            offline_push: None,
        };
        Invitation::new("alice".into(), req, 1_000)
    }

    #[test]
    fn answers_end_the_flow_when_nobody_is_pending() {
        let mut inv = call(0);
        let step = inv.answer("bob", true, "a1", "ok", 2_000).unwrap();
        assert_eq!(
            (step.action, step.invitees.clone(), step.replay),
            (SignalingAction::Accept, vec!["bob".into()], false)
        );
        assert_eq!(inv.state, InvitationState::Active);
        // The same request again (a retry) is a replay; another accept by bob is refused.
        assert!(inv.answer("bob", true, "a1", "ok", 2_000).unwrap().replay);
        assert_eq!(inv.answer("bob", true, "a2", "ok", 2_000).unwrap_err().code, 8010);
        assert_eq!(inv.answer("bob", false, "a3", "", 2_000).unwrap_err().code, 8010);
        assert_eq!(inv.answer("dave", true, "a4", "", 2_000).unwrap_err().code, 8011);
        assert_eq!(inv.answer("alice", true, "a5", "", 2_000).unwrap_err().code, 8011);
        inv.answer("carol", false, "a6", "busy", 2_000).unwrap();
        assert_eq!(inv.state, InvitationState::Ended);
        assert_eq!(inv.cancel("alice", "c1", "", 2_000).unwrap_err().code, 8010, "nobody pending: no cancel");
        assert_eq!(inv.expire(i64::MAX), None, "no timeout without a deadline");
    }

    #[test]
    fn cancel_only_by_the_inviter_while_open() {
        let mut inv = call(10);
        assert_eq!(inv.cancel("bob", "c0", "", 2_000).unwrap_err().code, 8011);
        let step = inv.cancel("alice", "c1", "bye", 2_000).unwrap();
        assert_eq!((step.action, step.invitees.len()), (SignalingAction::Cancel, 2));
        assert_eq!(inv.state, InvitationState::Cancelled);
        assert!(inv.cancel("alice", "c1", "bye", 2_000).unwrap().replay);
        assert_eq!(inv.cancel("alice", "c2", "", 2_000).unwrap_err().code, 8010);
        assert_eq!(inv.answer("bob", true, "a1", "", 2_000).unwrap_err().code, 8010);
        assert_eq!(inv.expire(20_000), None, "a cancelled invitation does not time out");
    }

    #[test]
    fn the_deadline_times_out_the_pending_invitees_only() {
        let mut inv = call(2);
        assert_eq!(inv.deadline_ms, 3_000);
        inv.answer("bob", true, "a1", "", 2_999).unwrap();
        assert_eq!(inv.expire(2_999), None, "not yet due");
        // After the deadline nothing may act, even before the timer ran.
        assert_eq!(inv.answer("carol", true, "a2", "", 3_000).unwrap_err().code, 8010);
        assert_eq!(inv.cancel("alice", "c1", "", 3_000).unwrap_err().code, 8010);
        let step = inv.expire(3_000).unwrap();
        assert_eq!((step.action, step.invitees.clone()), (SignalingAction::Timeout, vec!["carol".to_string()]));
        assert_eq!(inv.state, InvitationState::Ended);
        assert_eq!(inv.invitees[1].state, InviteeState::TimedOut);
        assert_eq!(inv.expire(4_000), None, "times out once");
    }

    #[test]
    fn c2c_actions_are_messages_between_inviter_and_invitee_with_stable_ids() {
        let mut inv = call(0);
        inv.offline_push = Some(OfflinePushInfo { desc: "Alice is calling".into(), ..OfflinePushInfo::default() });
        let invite = action_messages(&inv, &inv.invite_step(), &[], 5);
        assert_eq!(invite.len(), 2);
        let (target, msg) = &invite[0];
        assert_eq!((msg.msg_id.as_str(), msg.sender.as_str(), msg.receiver.as_str()), ("inv#1#bob", "alice", "bob"));
        assert_eq!(target.key, "c2c:alice bob");
        assert_eq!(msg.offline_push.as_ref().unwrap().desc, "Alice is calling");
        let info = oxim_proto::signaling::signaling_of(msg).unwrap();
        assert_eq!(
            (info.action_type, info.invitee_list.len(), info.data.as_str()),
            (SignalingAction::Invite, 2, "room 7")
        );

        let step = inv.answer("carol", false, "a1", "busy", 2_000).unwrap();
        let reject = action_messages(&inv, &step, &[], 6);
        assert_eq!(reject.len(), 1);
        let (target, msg) = &reject[0];
        assert_eq!(
            (msg.msg_id.as_str(), msg.sender.as_str(), msg.receiver.as_str()),
            ("inv#4#carol", "carol", "alice")
        );
        assert_eq!(target.key, "c2c:alice carol");
        assert!(msg.offline_push.is_none());
    }

    #[test]
    fn group_actions_are_one_message_to_every_member() {
        let mut inv = call(0);
        inv.group_id = "class".into();
        let members = vec!["alice".to_string(), "bob".into(), "carol".into(), "dave".into()];
        let step = inv.answer("bob", true, "a1", "hand up", 2_000).unwrap();
        let msgs = action_messages(&inv, &step, &members, 7);
        assert_eq!(msgs.len(), 1);
        let (target, msg) = &msgs[0];
        assert_eq!((target.key.as_str(), target.members.len()), ("group:class", 4));
        assert_eq!((msg.msg_id.as_str(), msg.group_id.as_str(), msg.sender.as_str()), ("inv#3#bob", "class", "bob"));
        let invite = action_messages(&inv, &inv.invite_step(), &members, 7);
        assert_eq!(invite[0].1.msg_id, "inv#1#group");
    }
}
