//! Invitations in SQLite: one row per invitation (its state and deadline as columns for the
//! timer's query, the whole [`Invitation`] as JSON), changed by the writer together with the
//! action messages the change appends.

use async_trait::async_trait;
use oxim_proto::code;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::writer::WriterState;
use crate::domain::signaling::{self as machine, Invitation, InvitationState, SignalAct, Step};
use crate::store::{Appended, Queued, Signaled, SignalingStore, StoreError, StoreResult};

fn state_name(state: InvitationState) -> &'static str {
    match state {
        InvitationState::Active => "active",
        InvitationState::Ended => "ended",
        InvitationState::Cancelled => "cancelled",
    }
}

/// The invitation `invite_id`, if there is one.
fn load(c: &Connection, invite_id: &str) -> StoreResult<Option<Invitation>> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM invitation WHERE invite_id = ?1")?
        .query_row([invite_id], |r| r.get(0))
        .optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("stored invitation: {e}"))))
        .transpose()
}

/// The invitation, or 8010 (unknown invitation id).
fn load_or_refuse(tx: &Connection, invite_id: &str) -> StoreResult<Invitation> {
    load(tx, invite_id)?
        .ok_or_else(|| StoreError::refused(code::SIGNALING_INVALID_INVITE_ID, format!("no invitation {invite_id}")))
}

/// Active invitations with a deadline.
fn deadlines(c: &Connection) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT invite_id, deadline_ms FROM invitation WHERE state = 'active' AND deadline_ms > 0 ORDER BY deadline_ms",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn save(tx: &Connection, inv: &Invitation) -> StoreResult<()> {
    let body = serde_json::to_string(inv).expect("invitation serialisation");
    tx.prepare_cached(
        "INSERT INTO invitation (invite_id, inviter, state, deadline_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (invite_id) DO UPDATE SET state = excluded.state, body = excluded.body",
    )?
    .execute(params![inv.invite_id, inv.inviter, state_name(inv.state), inv.deadline_ms, body])?;
    Ok(())
}

impl WriterState {
    /// Appends (or, online-only, only makes) the messages telling the participants about `step`.
    fn emit(
        &mut self,
        tx: &Connection,
        inv: Invitation,
        step: &Step,
        members: Option<Vec<String>>,
    ) -> StoreResult<Signaled> {
        let now = self.now_ms();
        let mut appended = Vec::new();
        for (target, msg) in machine::action_messages(&inv, step, members.as_deref().unwrap_or_default(), now) {
            appended.push(if inv.online_only {
                let recipients = target.members.into_iter().map(|(u, _)| u).collect();
                Appended { msg, duplicate: step.replay, recipients }
            } else {
                // A replay appends the same (deterministic) msgID again: the original comes back.
                self.append(tx, &target, msg)?
            });
        }
        Ok(Signaled { invitation: inv, appended })
    }

    pub(super) fn signal_invite(
        &mut self,
        tx: &Connection,
        inv: Invitation,
        members: Option<Vec<String>>,
    ) -> StoreResult<Signaled> {
        if let Some(existing) = load(tx, &inv.invite_id)? {
            if existing.inviter != inv.inviter {
                return Err(StoreError::refused(code::INVALID_PARAMETERS, "the inviteID is already used"));
            }
            let step = Step { replay: true, ..existing.invite_step() };
            return self.emit(tx, existing, &step, members);
        }
        save(tx, &inv)?;
        let step = inv.invite_step();
        self.emit(tx, inv, &step, members)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn signal_act(
        &mut self,
        tx: &Connection,
        invite_id: &str,
        user: &str,
        act: SignalAct,
        action_id: &str,
        data: &str,
        members: Option<Vec<String>>,
    ) -> StoreResult<Signaled> {
        let mut inv = load_or_refuse(tx, invite_id)?;
        let step = inv.act(act, user, action_id, data, self.now_ms())?;
        if !step.replay {
            save(tx, &inv)?;
        }
        self.emit(tx, inv, &step, members)
    }

    pub(super) fn signal_expire(
        &mut self,
        tx: &Connection,
        invite_id: &str,
        members: Option<Vec<String>>,
    ) -> StoreResult<Signaled> {
        let mut inv = load_or_refuse(tx, invite_id)?;
        match inv.expire(self.now_ms()) {
            Some(step) => {
                save(tx, &inv)?;
                self.emit(tx, inv, &step, members)
            }
            None => Ok(Signaled { invitation: inv, appended: Vec::new() }),
        }
    }
}

#[async_trait]
impl SignalingStore for SqliteStore {
    fn signal_invite(&self, invitation: Invitation, members: Option<Vec<String>>) -> Queued<Signaled> {
        self.write(move |tx, state| state.signal_invite(tx, invitation, members))
    }

    fn signal_act(
        &self,
        invite_id: &str,
        user: &str,
        act: SignalAct,
        action_id: &str,
        data: &str,
        members: Option<Vec<String>>,
    ) -> Queued<Signaled> {
        let (id, user, action_id, data) =
            (invite_id.to_owned(), user.to_owned(), action_id.to_owned(), data.to_owned());
        self.write(move |tx, state| state.signal_act(tx, &id, &user, act, &action_id, &data, members))
    }

    fn signal_expire(&self, invite_id: &str, members: Option<Vec<String>>) -> Queued<Signaled> {
        let id = invite_id.to_owned();
        self.write(move |tx, state| state.signal_expire(tx, &id, members))
    }

    async fn invitation(&self, invite_id: &str) -> StoreResult<Option<Invitation>> {
        let id = invite_id.to_owned();
        self.read(move |c| load(c, &id)).await
    }

    async fn invitation_deadlines(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(deadlines).await
    }
}

#[cfg(test)]
mod tests {
    use oxim_proto::clock::now_ms;
    use oxim_proto::ids::ConvId;

    use super::*;
    use crate::store::{MessageStore, Store};

    fn invitation(id: &str, group: &str, invitees: &[&str], timeout: u32, online_only: bool, at_ms: i64) -> Invitation {
        let req = oxim_proto::signaling::InviteReq {
            invite_id: id.into(),
            group_id: group.into(),
            invitees: invitees.iter().map(|u| u.to_string()).collect(),
            data: "d".into(),
            online_only,
            timeout,
            offline_push: None,
        };
        Invitation::new("alice".into(), req, at_ms)
    }
    #[tokio::test]
    async fn invitations_change_state_with_their_messages_and_survive_a_restart() {
        use crate::domain::signaling::InviteeState;
        let dir = tempfile::tempdir().unwrap();
        let members = vec!["alice".to_string(), "bob".into(), "carol".into(), "dave".into()];
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            // A group invitation: one message in the group conversation, for every member.
            let inv = invitation("g-inv", "g1", &["bob", "carol"], 0, false, now_ms());
            let done = store.signal_invite(inv.clone(), Some(members.clone())).await.unwrap();
            assert_eq!(done.appended.len(), 1);
            let a = &done.appended[0];
            assert_eq!((a.msg.seq, a.msg.group_id.as_str(), a.msg.msg_id.as_str()), (1, "g1", "g-inv#1#group"));
            assert_eq!(a.recipients, members);
            // A retry gets the original back; another inviter cannot take the id.
            let again = store.signal_invite(inv.clone(), Some(members.clone())).await.unwrap();
            assert!(again.appended[0].duplicate);
            assert_eq!(again.appended[0].msg.seq, 1);
            let mut stolen = inv.clone();
            stolen.inviter = "mallory".into();
            let err = store.signal_invite(stolen, Some(members.clone())).await.unwrap_err();
            assert!(matches!(err, StoreError::Refused { code: 6017, .. }));

            // Answers: refusals change nothing, an accept appends one message.
            let refused = store.signal_act("g-inv", "dave", SignalAct::Accept, "x1", "", Some(members.clone())).await;
            assert!(matches!(refused.unwrap_err(), StoreError::Refused { code: 8011, .. }));
            let ok = store.signal_act("g-inv", "bob", SignalAct::Accept, "x2", "yes", Some(members.clone())).await;
            assert_eq!(ok.unwrap().appended[0].msg.seq, 2);
            let (msgs, max) = store.messages_after("dave", &ConvId::Group("g1".into()), 0, 0, 10).await.unwrap();
            assert_eq!((msgs.len(), max), (2, 2));

            // An overdue C2C invitation (made 5 s ago with a 1 s timeout) and an online-only one.
            let old = invitation("c-inv", "", &["carol"], 1, false, now_ms() - 5_000);
            store.signal_invite(old, None).await.unwrap();
            let live = invitation("o-inv", "", &["bob"], 0, true, now_ms());
            let pushed = store.signal_invite(live, None).await.unwrap();
            assert_eq!((pushed.appended[0].msg.seq, pushed.appended[0].recipients.len()), (0, 2));
            assert!(store.messages_after("bob", &ConvId::C2C("alice".into()), 0, 0, 10).await.unwrap().0.is_empty());
            store.close().await;
        }
        // After a restart: the states and the deadline are still there.
        let store = SqliteStore::open(dir.path()).unwrap();
        let g = store.invitation("g-inv").await.unwrap().unwrap();
        assert_eq!(
            (g.state, g.invitees[0].state, g.invitees[1].state),
            (InvitationState::Active, InviteeState::Accepted, InviteeState::Pending)
        );
        let deadlines = store.invitation_deadlines().await.unwrap();
        assert_eq!(deadlines.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["c-inv"]);
        let expired = store.signal_expire("c-inv", None).await.unwrap();
        assert_eq!(expired.invitation.state, InvitationState::Ended);
        let msg = &expired.appended[0].msg;
        assert_eq!(
            (msg.msg_id.as_str(), msg.sender.as_str(), msg.receiver.as_str(), msg.seq),
            ("c-inv#5#carol", "alice", "carol", 2)
        );
        assert!(store.signal_expire("c-inv", None).await.unwrap().appended.is_empty(), "times out once");
        assert!(store.invitation_deadlines().await.unwrap().is_empty());
        store.close().await;
    }
}
