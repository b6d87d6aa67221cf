//! Invitations in SQLite: one row per invitation (its state and deadline as columns for the
//! timer's query, the whole [`Invitation`] as JSON), changed by the writer together with the
//! action messages the change appends.

use oxim_proto::code;
use rusqlite::{Connection, OptionalExtension, params};

use super::{WriterState, now_ms};
use crate::domain::signaling::{self as machine, Invitation, InvitationState, Step};
use crate::store::{Appended, SignalAct, Signaled, StoreError, StoreResult};

fn state_name(state: InvitationState) -> &'static str {
    match state {
        InvitationState::Active => "active",
        InvitationState::Ended => "ended",
        InvitationState::Cancelled => "cancelled",
    }
}

/// The invitation `invite_id`, if there is one.
pub(super) fn load(c: &Connection, invite_id: &str) -> StoreResult<Option<Invitation>> {
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
pub(super) fn deadlines(c: &Connection) -> StoreResult<Vec<(String, i64)>> {
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
        let now = now_ms();
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
        let now = now_ms();
        let step = match act {
            SignalAct::Accept => inv.answer(user, true, action_id, data, now),
            SignalAct::Reject => inv.answer(user, false, action_id, data, now),
            SignalAct::Cancel => inv.cancel(user, action_id, data, now),
        }
        .map_err(|r| StoreError::refused(r.code, r.desc))?;
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
        match inv.expire(now_ms()) {
            Some(step) => {
                save(tx, &inv)?;
                self.emit(tx, inv, &step, members)
            }
            None => Ok(Signaled { invitation: inv, appended: Vec::new() }),
        }
    }
}
