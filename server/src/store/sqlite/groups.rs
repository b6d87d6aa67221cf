//! Groups in the SQLite store: profiles, members, applications, attributes. A group write is
//! one writer job: load what the operation needs ([`needs`]), let the domain decide
//! ([`decide`]), apply the changes and append the tips and events, all in one savepoint. No
//! group rule is checked here.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oxim_proto::group::{GroupApplication, GroupInfo, MemberInfo, role};
use oxim_proto::ids::ConvId;
use oxim_proto::message::Elem;
use oxim_proto::payload::WireMessage;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::writer::WriterState;
use crate::domain::groups::{
    Application, Change, Decision, Env, Facts, GroupOp, GroupRow, Needs, Profile, decide, may_send, needs,
};
use crate::domain::keys::{group_key, group_target};
use crate::store::{AfterCommit, Appended, GroupOutcome, GroupStore, Queued, StoreResult};

/// Migration 3: groups.
pub(super) const MIGRATION: &str = "
    CREATE TABLE grp (
        group_id      TEXT PRIMARY KEY,
        group_type    TEXT NOT NULL,
        name          TEXT NOT NULL,
        introduction  TEXT NOT NULL DEFAULT '',
        notification  TEXT NOT NULL DEFAULT '',
        face_url      TEXT NOT NULL DEFAULT '',
        owner         TEXT NOT NULL DEFAULT '',   -- '' once a Work group's owner quit
        add_opt       INTEGER NOT NULL DEFAULT 1,
        all_muted     INTEGER NOT NULL DEFAULT 0,
        custom_info   TEXT NOT NULL DEFAULT '{}', -- JSON object
        max_members   INTEGER NOT NULL DEFAULT 0, -- 0 = unlimited
        create_ms     INTEGER NOT NULL,
        info_ms       INTEGER NOT NULL,
        attrs         TEXT NOT NULL DEFAULT '{}', -- JSON: key -> [value, version written]
        attr_version  INTEGER NOT NULL DEFAULT 0,
        member_seq    INTEGER NOT NULL DEFAULT 0  -- last member_seq handed out
    ) WITHOUT ROWID;
    -- Members of groups whose membership is stored (not AVChatRoom: those are online only).
    CREATE TABLE grp_member (
        group_id      TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        role          INTEGER NOT NULL,
        join_ms       INTEGER NOT NULL,
        mute_until_ms INTEGER NOT NULL DEFAULT 0,
        name_card     TEXT NOT NULL DEFAULT '',
        custom_info   TEXT NOT NULL DEFAULT '{}',
        member_seq    INTEGER NOT NULL,           -- join order, for paging
        PRIMARY KEY (group_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX grp_member_by_user ON grp_member(user_id);
    CREATE INDEX grp_member_page ON grp_member(group_id, member_seq);
    CREATE TABLE grp_application (
        app_id      TEXT PRIMARY KEY,
        group_id    TEXT NOT NULL,
        from_user   TEXT NOT NULL,
        to_user     TEXT NOT NULL DEFAULT '',
        app_type    INTEGER NOT NULL,             -- 0 join, 1 invite
        request_msg TEXT NOT NULL,
        add_ms      INTEGER NOT NULL,
        status      INTEGER NOT NULL DEFAULT 0,   -- 0 unhandled, 1 agreed, 2 refused
        handler     TEXT NOT NULL DEFAULT '',
        handled_msg TEXT NOT NULL DEFAULT '',
        handled_ms  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX grp_application_by_group ON grp_application(group_id, status);
    CREATE TABLE grp_application_read (
        user_id TEXT PRIMARY KEY,
        read_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- A former member's view of a group conversation ends at until_seq (0 = still a member).
    ALTER TABLE user_conv ADD COLUMN until_seq INTEGER NOT NULL DEFAULT 0;
    -- The user's receive option for the conversation (V2TIMReceiveMessageOpt).
    ALTER TABLE user_conv ADD COLUMN recv_opt INTEGER NOT NULL DEFAULT 0;";

fn json_map(s: &str) -> BTreeMap<String, String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("json")
}

const GROUP_COLUMNS: &str = "group_id, group_type, name, introduction, notification, face_url, owner, add_opt,
    all_muted, custom_info, max_members, create_ms, info_ms, attrs, attr_version";

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    let attrs: String = r.get(13)?;
    Ok(GroupRow {
        info: GroupInfo {
            group_id: r.get(0)?,
            group_type: r.get(1)?,
            name: r.get(2)?,
            introduction: r.get(3)?,
            notification: r.get(4)?,
            face_url: r.get(5)?,
            owner: r.get(6)?,
            add_opt: r.get(7)?,
            all_muted: r.get::<_, i64>(8)? != 0,
            custom_info: json_map(&r.get::<_, String>(9)?),
            member_count: 0,
            member_max_count: r.get::<_, i64>(10)? as u32,
            create_time: r.get::<_, i64>(11)? / 1000,
            last_info_time: r.get::<_, i64>(12)? / 1000,
            role: 0,
            recv_opt: 0,
            join_time: 0,
        },
        attrs: serde_json::from_str(&attrs).unwrap_or_default(),
        attr_version: r.get::<_, i64>(14)? as u64,
    })
}

const MEMBER_COLUMNS: &str = "user_id, name_card, role, join_ms, mute_until_ms, custom_info";

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<MemberInfo> {
    Ok(MemberInfo {
        user_id: r.get(0)?,
        name_card: r.get(1)?,
        role: r.get(2)?,
        join_time: r.get::<_, i64>(3)? / 1000,
        mute_until: r.get::<_, i64>(4)? / 1000,
        custom_info: json_map(&r.get::<_, String>(5)?),
    })
}

/// Reads a group (without member count).
pub fn load_group(c: &Connection, group_id: &str) -> StoreResult<Option<GroupRow>> {
    Ok(c.prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM grp WHERE group_id = ?1"))?
        .query_row([group_id], group_from_row)
        .optional()?)
}

/// A group with its member count and `user`'s standing in it.
pub fn group_info_for(c: &Connection, group_id: &str, user: &str) -> StoreResult<Option<GroupInfo>> {
    let Some(row) = load_group(c, group_id)? else { return Ok(None) };
    let mut info = row.info;
    info.member_count = c
        .prepare_cached("SELECT count(*) FROM grp_member WHERE group_id = ?1")?
        .query_row([group_id], |r| r.get::<_, i64>(0))? as u32;
    if let Some(m) = load_member(c, group_id, user)? {
        info.role = m.role;
        info.join_time = m.join_time;
    }
    info.recv_opt = c
        .prepare_cached("SELECT recv_opt FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?
        .query_row(params![user, ConvId::Group(group_id.to_owned()).to_string()], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    Ok(Some(info))
}

/// A member row.
pub fn load_member(c: &Connection, group_id: &str, user: &str) -> StoreResult<Option<MemberInfo>> {
    Ok(c.prepare_cached(&format!("SELECT {MEMBER_COLUMNS} FROM grp_member WHERE group_id = ?1 AND user_id = ?2"))?
        .query_row(params![group_id, user], member_from_row)
        .optional()?)
}

/// All members' ids, in join order.
pub fn member_ids(c: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT user_id FROM grp_member WHERE group_id = ?1 ORDER BY member_seq")?;
    let rows = stmt.query_map([group_id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A page of members after `after_seq` (join order), filtered by role bits (0 = all).
pub fn member_page(
    c: &Connection,
    group_id: &str,
    filter: i32,
    after_seq: u64,
    limit: u32,
) -> StoreResult<(Vec<MemberInfo>, u64)> {
    let roles: Vec<i32> = [(1, role::OWNER), (2, role::ADMIN), (4, role::MEMBER)]
        .iter()
        .filter(|(bit, _)| filter == 0 || filter & bit != 0)
        .map(|(_, r)| *r)
        .collect();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {MEMBER_COLUMNS}, member_seq FROM grp_member
          WHERE group_id = ?1 AND member_seq > ?2 AND role IN (?3, ?4, ?5)
          ORDER BY member_seq LIMIT ?6"
    ))?;
    let r = |i: usize| roles.get(i).copied().unwrap_or(-1);
    let rows = stmt.query_map(params![group_id, after_seq as i64, r(0), r(1), r(2), limit as i64 + 1], |row| {
        Ok((member_from_row(row)?, row.get::<_, i64>(6)? as u64))
    })?;
    let mut members: Vec<(MemberInfo, u64)> = rows.collect::<rusqlite::Result<_>>()?;
    let next = if members.len() as u32 > limit {
        members.truncate(limit as usize);
        members.last().map(|(_, s)| *s).unwrap_or(0)
    } else {
        0
    };
    Ok((members.into_iter().map(|(m, _)| m).collect(), next))
}

/// The groups `user` is a stored member of.
pub fn joined_groups(c: &Connection, user: &str) -> StoreResult<Vec<GroupInfo>> {
    let ids: Vec<String> = c
        .prepare_cached("SELECT group_id FROM grp_member WHERE user_id = ?1 ORDER BY join_ms")?
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(info) = group_info_for(c, &id, user)? {
            out.push(info);
        }
    }
    Ok(out)
}

/// Applications to groups `user` owns or administers, newest first, and the unread count.
pub fn applications_for(c: &Connection, user: &str) -> StoreResult<(u32, Vec<GroupApplication>)> {
    let read_ms: i64 = c
        .prepare_cached("SELECT read_ms FROM grp_application_read WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let mut stmt = c.prepare_cached(
        "SELECT a.app_id, a.group_id, a.from_user, a.to_user, a.app_type, a.request_msg, a.add_ms, a.status,
                a.handler, a.handled_msg
           FROM grp_application a JOIN grp_member m ON m.group_id = a.group_id
          WHERE m.user_id = ?1 AND m.role IN (300, 400)
          ORDER BY a.add_ms DESC",
    )?;
    let rows = stmt.query_map([user], |r| {
        let status: i64 = r.get(7)?;
        let handler: String = r.get(8)?;
        Ok((
            GroupApplication {
                app_id: r.get(0)?,
                group_id: r.get(1)?,
                from_user: r.get(2)?,
                to_user: r.get(3)?,
                app_type: r.get(4)?,
                request_msg: r.get(5)?,
                add_time: r.get::<_, i64>(6)? / 1000,
                handled_msg: r.get(9)?,
                handle_status: match (status, handler == user) {
                    (0, _) => 0,
                    (_, true) => 2,
                    (_, false) => 1,
                },
                handle_result: i32::from(status == 1),
            },
            r.get::<_, i64>(6)?,
            status,
        ))
    })?;
    let mut unread = 0;
    let mut list = Vec::new();
    for row in rows {
        let (app, add_ms, status) = row?;
        if status == 0 && add_ms > read_ms {
            unread += 1;
        }
        list.push(app);
    }
    Ok((unread, list))
}

/// The owner and administrators of a group.
fn approvers(tx: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = tx.prepare_cached("SELECT user_id FROM grp_member WHERE group_id = ?1 AND role IN (300, 400)")?;
    let rows = stmt.query_map([group_id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn count_members(tx: &Connection, group_id: &str) -> StoreResult<u32> {
    Ok(tx
        .prepare_cached("SELECT count(*) FROM grp_member WHERE group_id = ?1")?
        .query_row([group_id], |r| r.get::<_, i64>(0))? as u32)
}

fn user_exists(tx: &Connection, user: &str) -> StoreResult<bool> {
    Ok(tx.prepare_cached("SELECT 1 FROM user WHERE user_id = ?1")?.query_row([user], |_| Ok(())).optional()?.is_some())
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("random bytes");
    u64::from_le_bytes(b)
}

impl WriterState {
    /// Runs one group write: load, decide, apply.
    pub(super) fn group_op(&mut self, tx: &Connection, user: &str, op: GroupOp) -> StoreResult<GroupOutcome> {
        let env = Env { now_ms: self.now_ms(), nonce: random_u64(), member_limits: self.member_limits };
        let needs = needs(&op, user, &env);
        let facts = self.load_facts(tx, user, &needs)?;
        let decision = decide(op, user, &facts, &env)?;
        self.apply(tx, user, decision, env.now_ms)
    }

    /// Loads what `needs` asks for, for an operation by `user`.
    fn load_facts(&mut self, tx: &Connection, user: &str, needs: &Needs) -> StoreResult<Facts> {
        let mut facts = Facts::default();
        let mut group_id = needs.group.clone();
        let mut members = needs.members.clone();
        if let Some(app_id) = &needs.application {
            let row: Option<(String, String, i64)> = tx
                .prepare_cached("SELECT group_id, from_user, status FROM grp_application WHERE app_id = ?1")?
                .query_row([app_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            if let Some((group, applicant, status)) = row {
                group_id = Some(group.clone());
                members.push(applicant.clone());
                facts.application = Some(Application { group_id: group, applicant, handled: status != 0 });
            }
        }
        let users: HashSet<&String> = needs.users.iter().collect();
        for u in users {
            if user_exists(tx, u)? {
                facts.users.insert(u.clone());
            }
        }
        let Some(gid) = group_id else { return Ok(facts) };
        facts.group = load_group(tx, &gid)?;
        for u in &members {
            if !facts.members.contains_key(u)
                && let Some(m) = load_member(tx, &gid, u)?
            {
                facts.members.insert(u.clone(), m);
            }
        }
        if needs.member_count {
            facts.member_count = count_members(tx, &gid)?;
        }
        if needs.member_ids {
            facts.member_ids = member_ids(tx, &gid)?;
        }
        if needs.approvers {
            facts.approvers = approvers(tx, &gid)?;
        }
        if needs.pending_application {
            facts.pending_application = tx
                .prepare_cached("SELECT 1 FROM grp_application WHERE group_id = ?1 AND from_user = ?2 AND status = 0")?
                .query_row(params![gid, user], |_| Ok(()))
                .optional()?
                .is_some();
        }
        if needs.recv_opt {
            facts.recv_opt = tx
                .prepare_cached("SELECT recv_opt FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?
                .query_row(params![user, ConvId::Group(gid.clone()).to_string()], |r| r.get(0))
                .optional()?;
        }
        if needs.attr_writes {
            let now = self.clock.instant();
            facts.attr_writes = self.attr_writes.count(&gid, Duration::from_secs(1), now) as u32;
        }
        Ok(facts)
    }

    /// Applies a decision's changes in order; returns what to answer and push.
    fn apply(&mut self, tx: &Connection, user: &str, decision: Decision, now: i64) -> StoreResult<GroupOutcome> {
        let gid = decision.group_id;
        let mut out = GroupOutcome {
            joined: decision.joined,
            results: decision.results,
            attrs: decision.attrs,
            members: decision.members,
            ..GroupOutcome::default()
        };
        for change in decision.changes {
            match change {
                Change::Create { group_type, req, owner, add_opt, max_members } => {
                    tx.prepare_cached(
                        "INSERT INTO grp (group_id, group_type, name, introduction, notification, face_url, owner,
                                          add_opt, custom_info, max_members, create_ms, info_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                    )?
                    .execute(params![
                        gid,
                        group_type,
                        req.name,
                        req.introduction,
                        req.notification,
                        req.face_url,
                        owner,
                        add_opt,
                        to_json(&req.custom_info),
                        max_members as i64,
                        now
                    ])?;
                }
                Change::AddMember { user, role, sees_history } => {
                    self.add_member(tx, &gid, &user, role, sees_history, now)?;
                }
                Change::RemoveMember { user, sees_next_tip } => {
                    let until = self.head(tx, &group_key(&gid))?.max_seq + u64::from(sees_next_tip);
                    self.remove_member(tx, &gid, &user, until)?;
                }
                Change::SetRole { user, role } => {
                    tx.prepare_cached("UPDATE grp_member SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")?
                        .execute(params![gid, user, role])?;
                }
                Change::Profile(profile) => set_profile(tx, &gid, profile, now)?,
                Change::MemberFields { user, name_card, custom_info } => {
                    if let Some(card) = name_card {
                        tx.prepare_cached("UPDATE grp_member SET name_card = ?3 WHERE group_id = ?1 AND user_id = ?2")?
                            .execute(params![gid, user, card])?;
                    }
                    if let Some(custom) = custom_info {
                        tx.prepare_cached(
                            "UPDATE grp_member SET custom_info = ?3 WHERE group_id = ?1 AND user_id = ?2",
                        )?
                        .execute(params![gid, user, to_json(&custom)])?;
                    }
                }
                Change::Mute { user, until_ms } => {
                    tx.prepare_cached("UPDATE grp_member SET mute_until_ms = ?3 WHERE group_id = ?1 AND user_id = ?2")?
                        .execute(params![gid, user, until_ms])?;
                }
                Change::Delete => {
                    tx.prepare_cached("DELETE FROM grp WHERE group_id = ?1")?.execute([&gid])?;
                    tx.prepare_cached("DELETE FROM grp_application WHERE group_id = ?1")?.execute([&gid])?;
                }
                Change::Apply { app_id, user, message } => {
                    tx.prepare_cached(
                        "INSERT INTO grp_application (app_id, group_id, from_user, app_type, request_msg, add_ms)
                         VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                    )?
                    .execute(params![app_id, gid, user, message, now])?;
                }
                Change::Handle { app_id, accepted, handler, reason } => {
                    tx.prepare_cached(
                        "UPDATE grp_application SET status = ?2, handler = ?3, handled_msg = ?4, handled_ms = ?5
                          WHERE app_id = ?1",
                    )?
                    .execute(params![
                        app_id,
                        if accepted { 1 } else { 2 },
                        handler,
                        reason,
                        now
                    ])?;
                }
                Change::ApplicationsRead { user } => {
                    tx.prepare_cached(
                        "INSERT INTO grp_application_read (user_id, read_ms) VALUES (?1, ?2)
                         ON CONFLICT (user_id) DO UPDATE SET read_ms = excluded.read_ms",
                    )?
                    .execute(params![user, now])?;
                }
                Change::RecvOpt { user, opt } => {
                    let version = self.next_version();
                    tx.prepare_cached(
                        "UPDATE user_conv SET recv_opt = ?3, version = ?4 WHERE user_id = ?1 AND conv_id = ?2",
                    )?
                    .execute(params![
                        user,
                        ConvId::Group(gid.clone()).to_string(),
                        opt,
                        version as i64
                    ])?;
                }
                Change::Attrs { attrs, version } => {
                    tx.prepare_cached("UPDATE grp SET attrs = ?2, attr_version = ?3 WHERE group_id = ?1")?
                        .execute(params![gid, to_json(&attrs), version as i64])?;
                    let now = self.clock.instant();
                    self.attr_writes.record(&gid, now);
                }
                Change::Tip { mut tips, extra, stored } => {
                    tips.member_count = count_members(tx, &gid)?;
                    let mut msg = WireMessage::new("", Elem::GroupTips { tips });
                    msg.sender = user.to_owned();
                    msg.group_id = gid.clone();
                    let mut recipients: Vec<String> = self.members_cached(tx, &gid)?.as_ref().clone();
                    recipients.extend(extra);
                    if stored {
                        let mut appended = self.append(tx, &group_target(&gid), msg)?;
                        appended.recipients = recipients;
                        out.written.appended.push(appended);
                    } else {
                        msg.online_only = true;
                        msg.time_ms = now;
                        out.online_tips.push((msg, recipients));
                    }
                }
                Change::Event { user, event } => {
                    let appended = self.user_event(tx, &user, event)?;
                    out.written.appended.push(appended);
                }
            }
        }
        out.group_id = gid;
        Ok(out)
    }

    /// Cached member ids of a group (the fan-out list), filled on first use.
    fn members_cached(&mut self, tx: &Connection, group_id: &str) -> StoreResult<Arc<Vec<String>>> {
        if let Some(m) = self.group_members.get(group_id) {
            return Ok(m.clone());
        }
        let ids = Arc::new(member_ids(tx, group_id)?);
        self.group_members.insert(group_id.to_owned(), ids.clone());
        Ok(ids)
    }

    /// Adds a stored member and opens (or reopens) their view of the conversation: from its
    /// start (`sees_history`) or from now.
    fn add_member(
        &mut self,
        tx: &Connection,
        gid: &str,
        user: &str,
        member_role: i32,
        sees_history: bool,
        now: i64,
    ) -> StoreResult<()> {
        let seq: i64 = tx
            .prepare_cached("UPDATE grp SET member_seq = member_seq + 1 WHERE group_id = ?1 RETURNING member_seq")?
            .query_row([gid], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO grp_member (group_id, user_id, role, join_ms, member_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![gid, user, member_role, now, seq])?;
        let key = group_key(gid);
        let max_seq = self.head(tx, &key)?.max_seq;
        let visible_from = if sees_history { 0 } else { max_seq };
        let version = self.next_version();
        tx.prepare_cached(
            "INSERT INTO user_conv (user_id, conv_id, conv_key, version, read_seq, cleared_seq, until_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)
             ON CONFLICT (user_id, conv_id) DO UPDATE SET until_seq = 0, version = excluded.version,
                 cleared_seq = max(cleared_seq, excluded.cleared_seq), read_seq = max(read_seq, excluded.read_seq)",
        )?
        .execute(params![
            user,
            ConvId::Group(gid.to_owned()).to_string(),
            key,
            version as i64,
            visible_from as i64
        ])?;
        self.group_members.remove(gid);
        Ok(())
    }

    /// Removes a stored member; their view of the conversation ends at `until_seq`.
    fn remove_member(&mut self, tx: &Connection, group_id: &str, user: &str, until_seq: u64) -> StoreResult<()> {
        tx.prepare_cached("DELETE FROM grp_member WHERE group_id = ?1 AND user_id = ?2")?
            .execute(params![group_id, user])?;
        let version = self.next_version();
        tx.prepare_cached("UPDATE user_conv SET until_seq = ?3, version = ?4 WHERE user_id = ?1 AND conv_id = ?2")?
            .execute(params![
                user,
                ConvId::Group(group_id.to_owned()).to_string(),
                until_seq.max(1) as i64,
                version as i64
            ])?;
        self.group_members.remove(group_id);
        Ok(())
    }

    /// Appends a member's message to a group conversation (stored types), if the domain lets
    /// them send. Recipients are the members who receive messages.
    pub(super) fn group_send(&mut self, tx: &Connection, msg: WireMessage) -> StoreResult<Appended> {
        let group_id = msg.group_id.clone();
        let group = load_group(tx, &group_id)?;
        let group = group.ok_or_else(|| {
            crate::domain::refusal::Refusal::new(
                oxim_proto::code::SVR_GROUP_NOT_FOUND,
                format!("group {group_id} does not exist"),
            )
        })?;
        let member = load_member(tx, &group_id, &msg.sender)?;
        may_send(&group, member.as_ref(), &msg.sender, self.now_ms())?;
        let recipients = self.receivers(tx, &group_id)?;
        let mut appended = self.append(tx, &group_target(&group_id), msg)?;
        appended.recipients = recipients;
        Ok(appended)
    }

    /// Members who receive the group's messages (not those who chose NOT_RECEIVE): one probe
    /// of the `user_conv_muted` index (this was a scan of every user's every conversation,
    /// on every group message).
    fn receivers(&mut self, tx: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
        let silent: HashSet<String> = self.receiving_nothing(tx, &group_key(group_id))?.into_iter().collect();
        let members = self.members_cached(tx, group_id)?;
        Ok(members.iter().filter(|m| !silent.contains(*m)).cloned().collect())
    }
}

/// Writes the profile fields `profile` sets.
fn set_profile(tx: &Connection, gid: &str, profile: Profile, now: i64) -> StoreResult<()> {
    let set = |column: &str, value: &dyn rusqlite::ToSql| -> StoreResult<()> {
        tx.prepare_cached(&format!("UPDATE grp SET {column} = ?2 WHERE group_id = ?1"))?
            .execute(params![gid, value])?;
        Ok(())
    };
    if let Some(v) = &profile.name {
        set("name", v)?;
    }
    if let Some(v) = &profile.introduction {
        set("introduction", v)?;
    }
    if let Some(v) = &profile.notification {
        set("notification", v)?;
    }
    if let Some(v) = &profile.face_url {
        set("face_url", v)?;
    }
    if let Some(v) = &profile.add_opt {
        set("add_opt", v)?;
    }
    if let Some(v) = &profile.all_muted {
        set("all_muted", v)?;
    }
    if let Some(v) = &profile.custom_info {
        set("custom_info", &to_json(v))?;
    }
    if let Some(v) = &profile.owner {
        set("owner", v)?;
    }
    if profile.touch {
        set("info_ms", &now)?;
    }
    Ok(())
}

#[async_trait]
impl GroupStore for SqliteStore {
    fn group_write(&self, user: &str, op: GroupOp) -> Queued<GroupOutcome> {
        let user = user.to_owned();
        self.write(move |tx, state| state.group_op(tx, &user, op))
    }

    fn group_write_then(
        &self,
        user: &str,
        op: GroupOp,
        after_commit: AfterCommit<GroupOutcome>,
    ) -> Queued<GroupOutcome> {
        let user = user.to_owned();
        self.write_then(move |tx, state| state.group_op(tx, &user, op), Some(after_commit))
    }

    fn group_send(&self, msg: WireMessage) -> Queued<Appended> {
        self.write(move |tx, state| state.group_send(tx, msg))
    }

    async fn group(&self, group_id: &str) -> StoreResult<Option<GroupRow>> {
        let id = group_id.to_owned();
        self.read(move |c| load_group(c, &id)).await
    }

    async fn groups_info(&self, user: &str, group_ids: Vec<String>) -> StoreResult<Vec<Option<GroupInfo>>> {
        let user = user.to_owned();
        self.read(move |c| group_ids.iter().map(|id| group_info_for(c, id, &user)).collect()).await
    }

    async fn joined_groups(&self, user: &str) -> StoreResult<Vec<GroupInfo>> {
        let user = user.to_owned();
        self.read(move |c| joined_groups(c, &user)).await
    }

    async fn group_member_page(
        &self,
        group_id: &str,
        filter: i32,
        next_seq: u64,
        limit: u32,
    ) -> StoreResult<(Vec<MemberInfo>, u64)> {
        let id = group_id.to_owned();
        self.read(move |c| member_page(c, &id, filter, next_seq, limit)).await
    }

    async fn group_members_info(&self, group_id: &str, users: Vec<String>) -> StoreResult<Vec<MemberInfo>> {
        let id = group_id.to_owned();
        self.read(move |c| {
            let mut out = Vec::new();
            for u in &users {
                out.extend(load_member(c, &id, u)?);
            }
            Ok(out)
        })
        .await
    }

    async fn group_members(&self, group_id: &str) -> StoreResult<Option<Vec<String>>> {
        let id = group_id.to_owned();
        self.read(move |c| match load_group(c, &id)? {
            Some(g) if g.rules().persistent_members => Ok(Some(member_ids(c, &id)?)),
            _ => Ok(None),
        })
        .await
    }

    async fn group_applications(&self, user: &str) -> StoreResult<(u32, Vec<GroupApplication>)> {
        let user = user.to_owned();
        self.read(move |c| applications_for(c, &user)).await
    }
}

#[cfg(test)]
mod tests {
    use oxim_proto::group::{AttrWriteMode, WriteAttrsReq, group_type};

    use super::*;
    use crate::domain::clock::ManualClock;
    use crate::store::sqlite::Options;
    use crate::store::sqlite::testing::text;
    use crate::store::{MessageStore, Store, StoreError, UserStore};

    fn create(kind: &str, id: &str, members: &[&str]) -> GroupOp {
        let members: Vec<_> = members.iter().map(|u| (*u, role::MEMBER)).collect();
        GroupOp::Create(crate::domain::groups::create_req(kind, id, 2, &members))
    }

    fn group_msg(id: &str, from: &str, group: &str) -> WireMessage {
        let mut m = text(id, from, "");
        m.receiver.clear();
        m.group_id = group.into();
        m
    }

    #[tokio::test]
    async fn a_group_write_applies_what_the_domain_decided_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let store = SqliteStore::open_with(dir.path(), Options { clock: clock.clone(), ..Options::default() }).unwrap();
        for u in ["alice", "bob", "carol"] {
            store.register_user(u).await.unwrap();
        }
        let made = store.group_write("alice", create(group_type::PUBLIC, "g", &["bob", "carol"])).await.unwrap();
        assert_eq!(made.group_id, "g");
        assert_eq!(store.group_members("g").await.unwrap().unwrap(), ["alice", "bob", "carol"]);
        store.group_send(group_msg("m1", "bob", "g")).await.unwrap();

        // Kicking carol: her view ends with the tip that tells her, which all three receive.
        let kick = GroupOp::Kick { group_id: "g".into(), users: vec!["carol".into()] };
        let kicked = store.group_write("alice", kick).await.unwrap();
        let tip = &kicked.written.appended[0];
        assert_eq!((tip.msg.seq, tip.msg.time_ms), (2, 1_700_000_000_000));
        assert_eq!(tip.recipients, ["alice", "bob", "carol"]);
        store.group_send(group_msg("m2", "bob", "g")).await.unwrap();
        let (seen, max) = store.messages_after("carol", &ConvId::Group("g".into()), 0, 0, 10).await.unwrap();
        assert_eq!((seen.len(), max), (2, 2), "the message and the tip, not what came after");
        let refused = store.group_send(group_msg("m3", "carol", "g")).await.unwrap_err();
        assert!(matches!(refused, StoreError::Refused { code: 10007, .. }));

        // A refused write changes nothing (the owner of a Public group cannot quit).
        let quit = store.group_write("alice", GroupOp::Quit { group_id: "g".into() }).await.unwrap_err();
        assert!(matches!(quit, StoreError::Refused { code: 10009, .. }));
        assert_eq!(store.group_members("g").await.unwrap().unwrap(), ["alice", "bob"]);

        // Attribute writes: five a second per group, counted on the store's clock.
        let write = |base| GroupOp::WriteAttrs {
            req: WriteAttrsReq {
                group_id: "g".into(),
                mode: AttrWriteMode::Set,
                attrs: BTreeMap::from([("k".to_owned(), format!("v{base}"))]),
                keys: None,
                base_version: base,
            },
            is_member: false,
            max_per_sec: 5,
        };
        for base in 0..5 {
            let out = store.group_write("bob", write(base)).await.unwrap();
            assert_eq!(out.attrs.unwrap().version, base + 1);
        }
        let limited = store.group_write("bob", write(5)).await.unwrap_err();
        assert!(matches!(limited, StoreError::Refused { code: 10049, .. }));
        clock.advance(Duration::from_secs(1));
        assert_eq!(store.group_write("bob", write(5)).await.unwrap().attrs.unwrap().version, 6);
        assert_eq!(store.group("g").await.unwrap().unwrap().attrs().attrs["k"], "v5");
        store.close().await;
    }

    /// VM steps SQLite runs for one group message (`group_send`), with `others` C2C
    /// conversations of other users stored beside the group.
    async fn group_send_steps(others: usize) -> u64 {
        use crate::domain::keys::c2c_target;

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .write(move |tx, state| {
                for u in ["alice", "bob", "carol"] {
                    state.register_user(tx, u)?;
                }
                state.group_op(tx, "alice", create(group_type::PUBLIC, "g", &["bob", "carol"]))?;
                for i in 0..others {
                    let (a, b) = (format!("u{i}"), format!("v{i}"));
                    state.append(tx, &c2c_target(&a, &b), text(&format!("m{i}"), &a, &b))?;
                }
                Ok(())
            })
            .await
            .unwrap();
        // The writer's statements stay prepared on its connection: count what the send ran.
        let (steps, sent) = store
            .write(|tx, state| {
                vm_steps(tx, true);
                let sent = state.group_send(tx, group_msg("hello", "alice", "g"))?;
                Ok((vm_steps(tx, false), sent))
            })
            .await
            .unwrap();
        let mut recipients = sent.recipients;
        recipients.sort();
        assert_eq!(recipients, ["alice", "bob", "carol"]);
        store.close().await;
        steps
    }

    /// The VM steps every statement prepared on `conn` ran since the last reset (`reset`: and
    /// starts counting again).
    fn vm_steps(conn: &Connection, reset: bool) -> u64 {
        use rusqlite::ffi;
        let mut steps = 0u64;
        // SAFETY: the handle is `conn`'s, used on this thread only, and no statement is
        // finalized while the list is walked.
        unsafe {
            let db = conn.handle();
            let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
            while !stmt.is_null() {
                steps += ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_VM_STEP, reset as i32) as u64;
                stmt = ffi::sqlite3_next_stmt(db, stmt);
            }
        }
        steps
    }

    #[tokio::test]
    async fn a_group_message_costs_the_same_however_many_conversations_are_stored() {
        // Finding who receives nothing of the group once passed over every row of `user_conv`
        // (every user's every conversation) on each group message.
        let few = group_send_steps(10).await;
        let many = group_send_steps(3_000).await;
        assert!(
            many < few + few / 2,
            "VM steps of a group send: {few} with 20 conversations stored, {many} with 6,000"
        );
    }
}
