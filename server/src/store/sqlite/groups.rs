//! Groups in the SQLite store: profiles, members, applications, attributes, and the group
//! operations, each one writer job that checks the group-type rules, changes the rows and
//! appends the group tips and user events it causes, all in one savepoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use oxim_proto::code;
use oxim_proto::group::{
    AttrWriteMode, CreateGroupReq, GroupApplication, GroupChange, GroupInfo, GroupTips, MemberChange, MemberInfo,
    MemberOpResult, SetGroupInfoReq, SetMemberReq, WriteAttrsReq, add_opt, info_change, limits, recv_opt, role,
    tip_type,
};
use oxim_proto::ids::ConvId;
use oxim_proto::message::{Elem, UserEvent};
use oxim_proto::payload::WireMessage;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::writer::WriterState;
use crate::domain::group_rules as rules;
use crate::domain::groups::{GroupOp, GroupRow};
use crate::domain::keys::{Target, group_key};
use crate::store::{Appended, GroupOutcome, GroupStore, Queued, StoreError, StoreResult};

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

fn refused(code: i32, desc: impl Into<String>) -> StoreError {
    StoreError::refused(code, desc)
}

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

fn check_len(what: &str, value: &str, max: usize) -> StoreResult<()> {
    if value.len() > max {
        return Err(refused(
            code::SVR_GROUP_INVALID_PARAMETERS,
            format!("{what} is {} bytes; at most {max}", value.len()),
        ));
    }
    Ok(())
}

fn check_custom(info: &BTreeMap<String, String>) -> StoreResult<()> {
    for (k, v) in info {
        if k.is_empty() || k.len() > limits::CUSTOM_KEY || v.len() > limits::CUSTOM_VALUE {
            return Err(refused(
                code::SVR_GROUP_INVALID_PARAMETERS,
                format!("custom field {k:?} exceeds 16/512 bytes"),
            ));
        }
    }
    Ok(())
}

fn group_target(group_id: &str) -> Target {
    crate::domain::keys::group_target(group_id)
}

fn tip(op_user: &str, group_id: &str, tips: GroupTips) -> WireMessage {
    let mut msg = WireMessage::new("", Elem::GroupTips { tips });
    msg.sender = op_user.to_owned();
    msg.group_id = group_id.to_owned();
    msg
}

impl WriterState {
    /// Runs one group write.
    pub(super) fn group_op(&mut self, tx: &Connection, user: &str, op: GroupOp) -> StoreResult<GroupOutcome> {
        match op {
            GroupOp::Create(req) => self.group_create(tx, user, req),
            GroupOp::Join { group_id, message } => self.group_join(tx, user, &group_id, &message),
            GroupOp::Quit { group_id } => self.group_quit(tx, user, &group_id),
            GroupOp::Dismiss { group_id } => self.group_dismiss(tx, user, &group_id),
            GroupOp::SetInfo(req) => self.group_set_info(tx, user, req),
            GroupOp::SetMember(req) => self.group_set_member(tx, user, req),
            GroupOp::Mute { group_id, user_id, seconds } => self.group_mute(tx, user, &group_id, &user_id, seconds),
            GroupOp::Invite { group_id, users } => self.group_invite(tx, user, &group_id, &users),
            GroupOp::Kick { group_id, users } => self.group_kick(tx, user, &group_id, &users),
            GroupOp::SetRole { group_id, user_id, role } => self.group_set_role(tx, user, &group_id, &user_id, role),
            GroupOp::Transfer { group_id, user_id } => self.group_transfer(tx, user, &group_id, &user_id),
            GroupOp::HandleApplication { app_id, accept, reason } => {
                self.group_handle_application(tx, user, &app_id, accept, &reason)
            }
            GroupOp::ApplicationsRead => self.group_applications_read(tx, user),
            GroupOp::RecvOpt { group_id, opt } => self.group_recv_opt(tx, user, &group_id, opt),
            GroupOp::WriteAttrs { req, is_member, max_per_sec } => {
                self.group_write_attrs(tx, user, req, is_member, max_per_sec)
            }
        }
    }

    fn group_or_refuse(&mut self, tx: &Connection, group_id: &str) -> StoreResult<GroupRow> {
        load_group(tx, group_id)?
            .ok_or_else(|| refused(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist")))
    }

    fn member_role(&self, tx: &Connection, group_id: &str, user: &str) -> StoreResult<i32> {
        Ok(load_member(tx, group_id, user)?.map(|m| m.role).unwrap_or(0))
    }

    fn member_or_refuse(&self, tx: &Connection, group_id: &str, user: &str) -> StoreResult<MemberInfo> {
        load_member(tx, group_id, user)?
            .ok_or_else(|| refused(code::SVR_GROUP_PERMISSION_DENY, format!("{user} is not a member of {group_id}")))
    }

    /// Cached member ids of a group (the fan-out list), filled on first use.
    pub(super) fn members_cached(&mut self, tx: &Connection, group_id: &str) -> StoreResult<Arc<Vec<String>>> {
        if let Some(m) = self.group_members.get(group_id) {
            return Ok(m.clone());
        }
        let ids = Arc::new(member_ids(tx, group_id)?);
        self.group_members.insert(group_id.to_owned(), ids.clone());
        Ok(ids)
    }

    fn forget_members(&mut self, group_id: &str) {
        self.group_members.remove(group_id);
    }

    fn count_members(&self, tx: &Connection, group_id: &str) -> StoreResult<u32> {
        Ok(tx
            .prepare_cached("SELECT count(*) FROM grp_member WHERE group_id = ?1")?
            .query_row([group_id], |r| r.get::<_, i64>(0))? as u32)
    }

    /// Adds a stored member and opens (or reopens) their view of the conversation.
    fn add_member(&mut self, tx: &Connection, group: &GroupRow, user: &str, member_role: i32) -> StoreResult<()> {
        let gid = &group.info.group_id;
        let seq: i64 = tx
            .prepare_cached("UPDATE grp SET member_seq = member_seq + 1 WHERE group_id = ?1 RETURNING member_seq")?
            .query_row([gid], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO grp_member (group_id, user_id, role, join_ms, member_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![gid, user, member_role, self.now_ms(), seq])?;
        let key = group_key(gid);
        let max_seq = self.head(tx, &key)?.max_seq;
        // History from before joining is visible in Meeting groups only.
        let visible_from = if group.rules().history_before_join { 0 } else { max_seq };
        let version = self.version + 1;
        self.version = version;
        tx.prepare_cached(
            "INSERT INTO user_conv (user_id, conv_id, conv_key, version, read_seq, cleared_seq, until_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)
             ON CONFLICT (user_id, conv_id) DO UPDATE SET until_seq = 0, version = excluded.version,
                 cleared_seq = max(cleared_seq, excluded.cleared_seq), read_seq = max(read_seq, excluded.read_seq)",
        )?
        .execute(params![
            user,
            ConvId::Group(gid.clone()).to_string(),
            key,
            version as i64,
            visible_from as i64
        ])?;
        self.forget_members(gid);
        Ok(())
    }

    /// Removes a stored member; their view of the conversation ends at `until_seq`.
    fn remove_member(&mut self, tx: &Connection, group_id: &str, user: &str, until_seq: u64) -> StoreResult<()> {
        tx.prepare_cached("DELETE FROM grp_member WHERE group_id = ?1 AND user_id = ?2")?
            .execute(params![group_id, user])?;
        let version = self.version + 1;
        self.version = version;
        tx.prepare_cached("UPDATE user_conv SET until_seq = ?3, version = ?4 WHERE user_id = ?1 AND conv_id = ?2")?
            .execute(params![
                user,
                ConvId::Group(group_id.to_owned()).to_string(),
                until_seq.max(1) as i64,
                version as i64
            ])?;
        self.forget_members(group_id);
        Ok(())
    }

    /// Records a group tip: stored in the conversation (Work, Public) or returned for online
    /// delivery (Meeting). `extra` are recipients beyond the current members (kicked users).
    fn group_tip(
        &mut self,
        tx: &Connection,
        group: &GroupRow,
        op_user: &str,
        mut tips: GroupTips,
        extra: &[String],
        out: &mut GroupOutcome,
    ) -> StoreResult<Option<u64>> {
        let gid = &group.info.group_id;
        tips.member_count = self.count_members(tx, gid)?;
        let msg = tip(op_user, gid, tips);
        let mut recipients: Vec<String> = self.members_cached(tx, gid)?.as_ref().clone();
        recipients.extend(extra.iter().cloned());
        if group.rules().stored_tips {
            let mut appended = self.append(tx, &group_target(gid), msg)?;
            appended.recipients = recipients;
            let seq = appended.msg.seq;
            out.written.appended.push(appended);
            Ok(Some(seq))
        } else {
            let mut msg = msg;
            msg.online_only = true;
            msg.time_ms = self.now_ms();
            out.online_tips.push((msg, recipients));
            Ok(None)
        }
    }

    fn event(&mut self, tx: &Connection, user: &str, event: UserEvent, out: &mut GroupOutcome) -> StoreResult<()> {
        let appended = self.user_event(tx, user, event)?;
        out.written.appended.push(appended);
        Ok(())
    }

    fn group_create(&mut self, tx: &Connection, user: &str, req: CreateGroupReq) -> StoreResult<GroupOutcome> {
        let rules = rules::of(&req.group_type).ok_or_else(|| {
            refused(code::SVR_GROUP_INVALID_PARAMETERS, format!("unknown group type {:?}", req.group_type))
        })?;
        let group_id = if req.group_id.is_empty() {
            format!("{}{:016x}", limits::AUTO_ID_PREFIX, fastrand_u64())
        } else {
            if !oxim_proto::group::is_valid_group_id(&req.group_id) || req.group_id.starts_with(limits::AUTO_ID_PREFIX)
            {
                return Err(refused(
                    code::SVR_GROUP_INVALID_GROUPID,
                    "groupID must be 1-48 printable ASCII bytes, not starting with @TGS#",
                ));
            }
            req.group_id.clone()
        };
        if req.name.is_empty() {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "groupName is empty"));
        }
        check_len("groupName", &req.name, limits::NAME)?;
        check_len("introduction", &req.introduction, limits::INTRODUCTION)?;
        check_len("notification", &req.notification, limits::NOTIFICATION)?;
        check_len("faceURL", &req.face_url, limits::FACE_URL)?;
        check_custom(&req.custom_info)?;
        if load_group(tx, &group_id)?.is_some() {
            return Err(refused(code::SVR_GROUP_GROUPID_IN_USED, format!("group {group_id} already exists")));
        }
        if !rules.create_members && !req.members.is_empty() {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "an AVChatRoom cannot have initial members"));
        }
        if req.members.len() > limits::CREATE_MEMBERS {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "at most 500 initial members"));
        }
        let type_limit = self.member_limits.of(rules.name);
        let max = match (req.max_member_count, type_limit) {
            (0, l) => l,
            (n, 0) => n,
            (n, l) => n.min(l),
        };
        if max > 0 && req.members.len() as u32 + 1 > max {
            return Err(refused(
                code::SVR_GROUP_MEMBER_COUNT_LIMIT,
                format!("the group may have at most {max} members"),
            ));
        }
        for m in &req.members {
            let known: bool = tx
                .prepare_cached("SELECT 1 FROM user WHERE user_id = ?1")?
                .query_row([&m.user_id], |_| Ok(()))
                .optional()?
                .is_some();
            if !known || m.user_id == user {
                return Err(refused(code::SVR_GROUP_ACCOUNT_NOT_FOUND, format!("user {} cannot be added", m.user_id)));
            }
            if m.role == role::OWNER || (m.role == role::ADMIN && !rules.has_admins) {
                return Err(refused(
                    code::SVR_GROUP_INVALID_PARAMETERS,
                    format!("role {} is not allowed here", m.role),
                ));
            }
        }
        let now = self.now_ms();
        // Only Public groups choose how to join; the others have fixed rules.
        let opt =
            if rules.name == oxim_proto::group::group_type::PUBLIC { req.add_opt.clamp(0, 2) } else { add_opt::ANY };
        tx.prepare_cached(
            "INSERT INTO grp (group_id, group_type, name, introduction, notification, face_url, owner, add_opt,
                              custom_info, max_members, create_ms, info_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )?
        .execute(params![
            group_id,
            rules.name,
            req.name,
            req.introduction,
            req.notification,
            req.face_url,
            user,
            opt,
            to_json(&req.custom_info),
            max as i64,
            now
        ])?;
        let group = self.group_or_refuse(tx, &group_id)?;
        let mut out = GroupOutcome { group_id: group_id.clone(), joined: true, ..GroupOutcome::default() };
        if rules.persistent_members {
            self.add_member(tx, &group, user, role::OWNER)?;
            for m in &req.members {
                let r = if m.role == role::ADMIN { role::ADMIN } else { role::MEMBER };
                self.add_member(tx, &group, &m.user_id, r)?;
            }
        }
        self.event(tx, user, UserEvent::GroupCreated { group_id: group_id.clone() }, &mut out)?;
        Ok(out)
    }

    fn group_join(&mut self, tx: &Connection, user: &str, group_id: &str, message: &str) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        if !rules.can_apply {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                format!("a {} group cannot be joined by applying", rules.name),
            ));
        }
        if load_member(tx, group_id, user)?.is_some() {
            return Err(refused(code::SVR_GROUP_ALLREADY_MEMBER, format!("{user} is already a member")));
        }
        let mut out = GroupOutcome::default();
        let free = rules.free_join || group.info.add_opt == add_opt::ANY;
        if !free {
            if group.info.add_opt == add_opt::FORBID {
                return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "this group does not accept members"));
            }
            check_len("application message", message, limits::INTRODUCTION)?;
            let pending: bool = tx
                .prepare_cached("SELECT 1 FROM grp_application WHERE group_id = ?1 AND from_user = ?2 AND status = 0")?
                .query_row(params![group_id, user], |_| Ok(()))
                .optional()?
                .is_some();
            if !pending {
                let app_id = format!("app-{:016x}", fastrand_u64());
                tx.prepare_cached(
                    "INSERT INTO grp_application (app_id, group_id, from_user, app_type, request_msg, add_ms)
                     VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                )?
                .execute(params![app_id, group_id, user, message, self.now_ms()])?;
                for approver in approvers(tx, group_id)? {
                    let event = UserEvent::JoinApplication {
                        group_id: group_id.to_owned(),
                        applicant: user.to_owned(),
                        reason: message.to_owned(),
                    };
                    self.event(tx, &approver, event, &mut out)?;
                }
            }
            out.joined = false;
            return Ok(out);
        }
        self.check_room(tx, &group, 1)?;
        self.add_member(tx, &group, user, role::MEMBER)?;
        let tips = GroupTips::members(tip_type::JOIN, user, vec![user.to_owned()]);
        self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        out.joined = true;
        Ok(out)
    }

    fn check_room(&self, tx: &Connection, group: &GroupRow, adding: u32) -> StoreResult<()> {
        let max = match group.info.member_max_count {
            0 => self.member_limits.of(&group.info.group_type),
            n => n,
        };
        if max > 0 && self.count_members(tx, &group.info.group_id)? + adding > max {
            return Err(refused(code::SVR_GROUP_FULL_MEMBER_COUNT, format!("the group is full ({max} members)")));
        }
        Ok(())
    }

    fn group_quit(&mut self, tx: &Connection, user: &str, group_id: &str) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        let me = self.member_or_refuse(tx, group_id, user)?;
        if me.role == role::OWNER && !rules.owner_may_quit {
            return Err(refused(
                code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT,
                "the owner cannot quit this group; dismiss it or transfer it first",
            ));
        }
        let key = group_key(group_id);
        let before = self.head(tx, &key)?.max_seq;
        self.remove_member(tx, group_id, user, before)?;
        if me.role == role::OWNER {
            // A Work group's owner may quit: the group then has no owner.
            tx.prepare_cached("UPDATE grp SET owner = '' WHERE group_id = ?1")?.execute([group_id])?;
        }
        let mut out = GroupOutcome::default();
        let tips = GroupTips::members(tip_type::QUIT, user, vec![user.to_owned()]);
        self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        self.event(tx, user, UserEvent::QuitGroup { group_id: group_id.to_owned() }, &mut out)?;
        Ok(out)
    }

    fn group_dismiss(&mut self, tx: &Connection, user: &str, group_id: &str) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        if group.info.owner != user {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "only the owner may dismiss the group"));
        }
        if !rules.client_dismiss {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                "a Work group can only be dismissed through the server API",
            ));
        }
        let key = group_key(group_id);
        let before = self.head(tx, &key)?.max_seq;
        let members = member_ids(tx, group_id)?;
        let mut out = GroupOutcome { members: members.clone(), ..GroupOutcome::default() };
        for m in &members {
            self.remove_member(tx, group_id, m, before)?;
        }
        tx.prepare_cached("DELETE FROM grp WHERE group_id = ?1")?.execute([group_id])?;
        tx.prepare_cached("DELETE FROM grp_application WHERE group_id = ?1")?.execute([group_id])?;
        let mut told: Vec<String> = members;
        if !told.iter().any(|m| m == user) {
            told.push(user.to_owned());
        }
        for m in &told {
            let event = UserEvent::GroupDismissed { group_id: group_id.to_owned(), op_user: user.to_owned() };
            self.event(tx, m, event, &mut out)?;
        }
        Ok(out)
    }

    fn group_set_info(&mut self, tx: &Connection, user: &str, req: SetGroupInfoReq) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, &req.group_id)?;
        let rules = group.rules();
        let op_role = if rules.persistent_members {
            self.member_role(tx, &req.group_id, user)?
        } else if group.info.owner == user {
            role::OWNER
        } else {
            role::MEMBER
        };
        if !rules.may_edit_profile(op_role) {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "you may not edit this group's profile"));
        }
        if (req.all_muted.is_some() || req.add_opt.is_some()) && !rules.may_manage_group(op_role) {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "only the owner or an admin may change this"));
        }
        if req.add_opt.is_some() && rules.name != oxim_proto::group::group_type::PUBLIC {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "only Public groups have a join option"));
        }
        let mut changes = Vec::new();
        let gid = req.group_id.clone();
        let set = |column: &str, value: &dyn rusqlite::ToSql| -> StoreResult<()> {
            tx.prepare_cached(&format!("UPDATE grp SET {column} = ?2 WHERE group_id = ?1"))?
                .execute(params![gid, value])?;
            Ok(())
        };
        if let Some(v) = &req.name {
            if v.is_empty() {
                return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "groupName is empty"));
            }
            check_len("groupName", v, limits::NAME)?;
            set("name", v)?;
            changes.push(GroupChange { kind: info_change::NAME, value: v.clone(), key: String::new() });
        }
        if let Some(v) = &req.introduction {
            check_len("introduction", v, limits::INTRODUCTION)?;
            set("introduction", v)?;
            changes.push(GroupChange { kind: info_change::INTRODUCTION, value: v.clone(), key: String::new() });
        }
        if let Some(v) = &req.notification {
            check_len("notification", v, limits::NOTIFICATION)?;
            set("notification", v)?;
            changes.push(GroupChange { kind: info_change::NOTIFICATION, value: v.clone(), key: String::new() });
        }
        if let Some(v) = &req.face_url {
            check_len("faceURL", v, limits::FACE_URL)?;
            set("face_url", v)?;
            changes.push(GroupChange { kind: info_change::FACE, value: v.clone(), key: String::new() });
        }
        if let Some(v) = req.add_opt {
            if !(0..=2).contains(&v) {
                return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "groupAddOpt must be 0, 1 or 2"));
            }
            set("add_opt", &v)?;
            changes.push(GroupChange { kind: info_change::ADD_OPT, value: v.to_string(), key: String::new() });
        }
        if let Some(v) = req.all_muted {
            set("all_muted", &v)?;
            changes.push(GroupChange {
                kind: info_change::SHUT_UP_ALL,
                value: if v { "1" } else { "0" }.into(),
                key: String::new(),
            });
        }
        if let Some(custom) = &req.custom_info {
            check_custom(custom)?;
            let mut merged = group.info.custom_info.clone();
            for (k, v) in custom {
                merged.insert(k.clone(), v.clone());
                changes.push(GroupChange { kind: info_change::CUSTOM, value: v.clone(), key: k.clone() });
            }
            set("custom_info", &to_json(&merged))?;
        }
        set("info_ms", &self.now_ms())?;
        let mut out = GroupOutcome::default();
        if !changes.is_empty() {
            let tips = GroupTips {
                group_changes: changes,
                ..GroupTips::members(tip_type::GROUP_INFO_CHANGE, user, Vec::new())
            };
            self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        }
        Ok(out)
    }

    fn group_set_member(&mut self, tx: &Connection, user: &str, req: SetMemberReq) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, &req.group_id)?;
        let op = self.member_or_refuse(tx, &req.group_id, user)?;
        let target = self.member_or_refuse(tx, &req.group_id, &req.user_id)?;
        if !group.rules().may_set_member_info(op.role, target.role, user == req.user_id) {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "you may not change this member"));
        }
        if let Some(card) = &req.name_card {
            check_len("nameCard", card, limits::NAME_CARD)?;
            tx.prepare_cached("UPDATE grp_member SET name_card = ?3 WHERE group_id = ?1 AND user_id = ?2")?
                .execute(params![req.group_id, req.user_id, card])?;
        }
        if let Some(custom) = &req.custom_info {
            check_custom(custom)?;
            let mut merged = target.custom_info.clone();
            merged.extend(custom.iter().map(|(k, v)| (k.clone(), v.clone())));
            tx.prepare_cached("UPDATE grp_member SET custom_info = ?3 WHERE group_id = ?1 AND user_id = ?2")?
                .execute(params![req.group_id, req.user_id, to_json(&merged)])?;
        }
        Ok(GroupOutcome::default())
    }

    fn group_mute(
        &mut self,
        tx: &Connection,
        user: &str,
        group_id: &str,
        target_id: &str,
        seconds: u32,
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let op = self.member_or_refuse(tx, group_id, user)?;
        let target = self.member_or_refuse(tx, group_id, target_id)?;
        if !group.rules().may_mute(op.role, target.role) {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "you may not mute this member"));
        }
        let until = if seconds == 0 { 0 } else { self.now_ms() + i64::from(seconds) * 1000 };
        tx.prepare_cached("UPDATE grp_member SET mute_until_ms = ?3 WHERE group_id = ?1 AND user_id = ?2")?
            .execute(params![group_id, target_id, until])?;
        let mut out = GroupOutcome::default();
        let tips = GroupTips {
            member_changes: vec![MemberChange { user_id: target_id.to_owned(), mute_time: i64::from(seconds) }],
            ..GroupTips::members(tip_type::MEMBER_INFO_CHANGE, user, vec![target_id.to_owned()])
        };
        self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        Ok(out)
    }

    fn group_invite(
        &mut self,
        tx: &Connection,
        user: &str,
        group_id: &str,
        users: &[String],
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        self.member_or_refuse(tx, group_id, user)?;
        if !rules.members_invite {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                format!("members cannot invite users into a {} group", rules.name),
            ));
        }
        let mut out = GroupOutcome::default();
        let mut added = Vec::new();
        let max = match group.info.member_max_count {
            0 => self.member_limits.of(rules.name),
            n => n,
        };
        for u in users {
            let known: bool = tx
                .prepare_cached("SELECT 1 FROM user WHERE user_id = ?1")?
                .query_row([u], |_| Ok(()))
                .optional()?
                .is_some();
            let result = if !known {
                0
            } else if load_member(tx, group_id, u)?.is_some() {
                2
            } else if max > 0 && self.count_members(tx, group_id)? >= max {
                4
            } else {
                self.add_member(tx, &group, u, role::MEMBER)?;
                added.push(u.clone());
                1
            };
            out.results.push(MemberOpResult { user_id: u.clone(), result });
        }
        if !added.is_empty() {
            let tips = GroupTips::members(tip_type::INVITE, user, added);
            self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        }
        Ok(out)
    }

    fn group_kick(
        &mut self,
        tx: &Connection,
        user: &str,
        group_id: &str,
        users: &[String],
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        let op = self.member_or_refuse(tx, group_id, user)?;
        if !rules.can_kick {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                format!("members of a {} group cannot be kicked", rules.name),
            ));
        }
        let mut out = GroupOutcome::default();
        let mut targets = Vec::new();
        for u in users {
            match load_member(tx, group_id, u)? {
                None => out.results.push(MemberOpResult { user_id: u.clone(), result: 2 }),
                Some(t) if !rules.may_kick(op.role, t.role) => {
                    return Err(refused(code::SVR_GROUP_PERMISSION_DENY, format!("you may not kick {u}")));
                }
                Some(_) => targets.push(u.clone()),
            }
        }
        if targets.is_empty() {
            return Ok(out);
        }
        let key = group_key(group_id);
        for u in &targets {
            // Their view ends with the tip that tells them (its seq is the next one, if stored).
            let next = self.head(tx, &key)?.max_seq + u64::from(rules.stored_tips);
            self.remove_member(tx, group_id, u, next)?;
            out.results.push(MemberOpResult { user_id: u.clone(), result: 1 });
        }
        let tips = GroupTips::members(tip_type::KICKED, user, targets.clone());
        self.group_tip(tx, &group, user, tips, &targets, &mut out)?;
        Ok(out)
    }

    fn group_set_role(
        &mut self,
        tx: &Connection,
        user: &str,
        group_id: &str,
        target_id: &str,
        new_role: i32,
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        let op = self.member_or_refuse(tx, group_id, user)?;
        if !rules.may_set_roles(op.role) {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                "only the owner of a Public or Meeting group may set roles",
            ));
        }
        if new_role != role::ADMIN && new_role != role::MEMBER {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "role must be admin (300) or member (200)"));
        }
        let target = self.member_or_refuse(tx, group_id, target_id)?;
        if target.role == role::OWNER {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                "the owner's role is changed by transferring the group",
            ));
        }
        let mut out = GroupOutcome::default();
        if target.role == new_role {
            return Ok(out);
        }
        tx.prepare_cached("UPDATE grp_member SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")?
            .execute(params![group_id, target_id, new_role])?;
        let tips = GroupTips::members(
            if new_role == role::ADMIN { tip_type::SET_ADMIN } else { tip_type::CANCEL_ADMIN },
            user,
            vec![target_id.to_owned()],
        );
        self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        Ok(out)
    }

    fn group_transfer(
        &mut self,
        tx: &Connection,
        user: &str,
        group_id: &str,
        target_id: &str,
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, group_id)?;
        let rules = group.rules();
        if group.info.owner != user {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "only the owner may transfer the group"));
        }
        if !rules.can_transfer {
            return Err(refused(
                code::SVR_GROUP_PERMISSION_DENY,
                format!("a {} group cannot be transferred", rules.name),
            ));
        }
        if target_id == user {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "you already own the group"));
        }
        self.member_or_refuse(tx, group_id, target_id)?;
        tx.prepare_cached("UPDATE grp_member SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")?.execute(params![
            group_id,
            user,
            role::MEMBER
        ])?;
        tx.prepare_cached("UPDATE grp_member SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")?.execute(params![
            group_id,
            target_id,
            role::OWNER
        ])?;
        tx.prepare_cached("UPDATE grp SET owner = ?2, info_ms = ?3 WHERE group_id = ?1")?.execute(params![
            group_id,
            target_id,
            self.now_ms()
        ])?;
        let mut out = GroupOutcome::default();
        let tips = GroupTips {
            tip_type: tip_type::GROUP_INFO_CHANGE,
            op_user: user.to_owned(),
            member_list: Vec::new(),
            group_changes: vec![GroupChange {
                kind: info_change::OWNER,
                value: target_id.to_owned(),
                key: String::new(),
            }],
            member_changes: Vec::new(),
            member_count: 0,
        };
        self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        Ok(out)
    }

    fn group_handle_application(
        &mut self,
        tx: &Connection,
        user: &str,
        app_id: &str,
        accept: bool,
        reason: &str,
    ) -> StoreResult<GroupOutcome> {
        let row: Option<(String, String, i64)> = tx
            .prepare_cached("SELECT group_id, from_user, status FROM grp_application WHERE app_id = ?1")?
            .query_row([app_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((group_id, applicant, status)) = row else {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, format!("application {app_id} does not exist")));
        };
        let group = self.group_or_refuse(tx, &group_id)?;
        let op_role = self.member_role(tx, &group_id, user)?;
        if !group.rules().may_approve(op_role) {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "only the owner or an admin may handle applications"));
        }
        if status != 0 {
            return Err(refused(code::SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED, "the application was already handled"));
        }
        let mut out = GroupOutcome::default();
        if accept && load_member(tx, &group_id, &applicant)?.is_none() {
            self.check_room(tx, &group, 1)?;
            self.add_member(tx, &group, &applicant, role::MEMBER)?;
            let tips = GroupTips::members(tip_type::JOIN, user, vec![applicant.clone()]);
            self.group_tip(tx, &group, user, tips, &[], &mut out)?;
        }
        tx.prepare_cached(
            "UPDATE grp_application SET status = ?2, handler = ?3, handled_msg = ?4, handled_ms = ?5 WHERE app_id = ?1",
        )?
        .execute(params![app_id, if accept { 1 } else { 2 }, user, reason, self.now_ms()])?;
        let event = UserEvent::ApplicationProcessed {
            group_id,
            op_user: user.to_owned(),
            agree: accept,
            reason: reason.to_owned(),
        };
        self.event(tx, &applicant, event, &mut out)?;
        Ok(out)
    }

    fn group_applications_read(&mut self, tx: &Connection, user: &str) -> StoreResult<GroupOutcome> {
        tx.prepare_cached(
            "INSERT INTO grp_application_read (user_id, read_ms) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET read_ms = excluded.read_ms",
        )?
        .execute(params![user, self.now_ms()])?;
        Ok(GroupOutcome::default())
    }

    fn group_recv_opt(&mut self, tx: &Connection, user: &str, group_id: &str, opt: i32) -> StoreResult<GroupOutcome> {
        if !(0..=2).contains(&opt) {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "the receive option must be 0, 1 or 2"));
        }
        let group = self.group_or_refuse(tx, group_id)?;
        if group.rules().persistent_members {
            self.member_or_refuse(tx, group_id, user)?;
        }
        let version = self.version + 1;
        self.version = version;
        let conv = ConvId::Group(group_id.to_owned());
        let changed = tx
            .prepare_cached(
                "UPDATE user_conv SET recv_opt = ?3, version = ?4 WHERE user_id = ?1 AND conv_id = ?2 AND recv_opt != ?3",
            )?
            .execute(params![user, conv.to_string(), opt, version as i64])?;
        self.forget_members(group_id);
        let mut out = GroupOutcome::default();
        if changed > 0 {
            self.event(tx, user, UserEvent::ConvRecvOpt { conv_id: conv, opt }, &mut out)?;
        }
        Ok(out)
    }

    /// Writes attributes. `is_member` comes from the caller for groups whose membership is not
    /// stored (AVChatRoom).
    fn group_write_attrs(
        &mut self,
        tx: &Connection,
        user: &str,
        req: WriteAttrsReq,
        is_member: bool,
        max_per_sec: u32,
    ) -> StoreResult<GroupOutcome> {
        let group = self.group_or_refuse(tx, &req.group_id)?;
        if group.rules().persistent_members && load_member(tx, &req.group_id, user)?.is_none()
            || !group.rules().persistent_members && !is_member
        {
            return Err(refused(code::SVR_GROUP_PERMISSION_DENY, "only members may write group attributes"));
        }
        let mut attrs = group.attrs.clone();
        // Keys this write touches; a conflict is any of them written after the writer's view.
        let touched: Vec<String> = match req.mode {
            AttrWriteMode::Init => attrs.keys().chain(req.attrs.keys()).cloned().collect(),
            AttrWriteMode::Set => req.attrs.keys().cloned().collect(),
            AttrWriteMode::Delete => match &req.keys {
                Some(keys) => keys.clone(),
                None => attrs.keys().cloned().collect(),
            },
        };
        let conflict = touched.iter().any(|k| attrs.get(k).is_some_and(|(_, v)| *v > req.base_version))
            || (matches!(req.mode, AttrWriteMode::Init)
                || req.keys.is_none() && matches!(req.mode, AttrWriteMode::Delete))
                && group.attr_version > req.base_version
            || req.base_version > group.attr_version;
        if conflict {
            return Err(refused(
                code::SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT,
                format!(
                    "the attributes changed since version {} (now {}); read them and retry",
                    req.base_version, group.attr_version
                ),
            ));
        }
        let version = group.attr_version + 1;
        match req.mode {
            AttrWriteMode::Init => {
                attrs = req.attrs.iter().map(|(k, v)| (k.clone(), (v.clone(), version))).collect();
            }
            AttrWriteMode::Set => {
                for (k, v) in &req.attrs {
                    attrs.insert(k.clone(), (v.clone(), version));
                }
            }
            AttrWriteMode::Delete => match &req.keys {
                Some(keys) => keys.iter().for_each(|k| drop(attrs.remove(k))),
                None => attrs.clear(),
            },
        }
        check_attrs(&attrs)?;
        // The rate is checked last: only writes that would succeed count against it.
        let now = self.clock.instant();
        let second = std::time::Duration::from_secs(1);
        if self.attr_writes.count(&req.group_id, second, now) as u32 >= max_per_sec {
            return Err(refused(
                code::SVR_GROUP_ATTR_FREQUENCY_LIMIT,
                format!("at most {max_per_sec} attribute writes per second per group"),
            ));
        }
        self.attr_writes.record(&req.group_id, now);
        tx.prepare_cached("UPDATE grp SET attrs = ?2, attr_version = ?3 WHERE group_id = ?1")?.execute(params![
            req.group_id,
            to_json(&attrs),
            version as i64
        ])?;
        let row = GroupRow { info: group.info.clone(), attrs, attr_version: version };
        let members = if group.rules().persistent_members { member_ids(tx, &req.group_id)? } else { Vec::new() };
        Ok(GroupOutcome { attrs: Some(row.attrs()), members, ..GroupOutcome::default() })
    }

    /// Appends a member's message to a group conversation (stored types), checking membership
    /// and mutes. Recipients are the members who receive messages.
    pub(super) fn group_send(&mut self, tx: &Connection, msg: WireMessage) -> StoreResult<Appended> {
        let group_id = msg.group_id.clone();
        let group = self.group_or_refuse(tx, &group_id)?;
        let member = self.member_or_refuse(tx, &group_id, &msg.sender)?;
        let now = self.now_ms();
        if member.mute_until * 1000 > now {
            return Err(refused(
                code::SVR_GROUP_SHUTUP_DENY,
                format!("you are muted for {} more seconds", (member.mute_until * 1000 - now) / 1000),
            ));
        }
        if group.info.all_muted && member.role < role::ADMIN {
            return Err(refused(code::SVR_GROUP_SHUTUP_DENY, "the whole group is muted"));
        }
        let recipients = self.receivers(tx, &group_id)?;
        let mut appended = self.append(tx, &group_target(&group_id), msg)?;
        appended.recipients = recipients;
        Ok(appended)
    }

    /// Members who receive the group's messages (not those who chose NOT_RECEIVE).
    fn receivers(&mut self, tx: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
        let members = self.members_cached(tx, group_id)?;
        let mut muted: HashMap<String, ()> = HashMap::new();
        let mut stmt = tx.prepare_cached("SELECT user_id FROM user_conv WHERE conv_id = ?1 AND recv_opt = ?2")?;
        for u in stmt
            .query_map(params![ConvId::Group(group_id.to_owned()).to_string(), recv_opt::NOT_RECEIVE], |r| {
                r.get::<_, String>(0)
            })?
        {
            muted.insert(u?, ());
        }
        Ok(members.iter().filter(|m| !muted.contains_key(*m)).cloned().collect())
    }
}

/// Owner and administrators of a group.
fn approvers(tx: &Connection, group_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = tx.prepare_cached("SELECT user_id FROM grp_member WHERE group_id = ?1 AND role IN (300, 400)")?;
    let rows = stmt.query_map([group_id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// V2TIM's attribute limits: 16 keys, 4 KB each (key + value), 16 KB in all.
pub fn check_attrs(attrs: &BTreeMap<String, (String, u64)>) -> StoreResult<()> {
    if attrs.len() > limits::ATTR_KEYS {
        return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, format!("at most {} attributes", limits::ATTR_KEYS)));
    }
    let mut total = 0;
    for (k, (v, _)) in attrs {
        if k.is_empty() {
            return Err(refused(code::SVR_GROUP_INVALID_PARAMETERS, "an attribute key is empty"));
        }
        let size = k.len() + v.len();
        if size > limits::ATTR_BYTES {
            return Err(refused(
                code::SVR_GROUP_INVALID_PARAMETERS,
                format!("attribute {k:?} is {size} bytes; at most {}", limits::ATTR_BYTES),
            ));
        }
        total += size;
    }
    if total > limits::ATTR_TOTAL_BYTES {
        return Err(refused(
            code::SVR_GROUP_INVALID_PARAMETERS,
            format!("attributes are {total} bytes; at most {}", limits::ATTR_TOTAL_BYTES),
        ));
    }
    Ok(())
}

fn fastrand_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("random bytes");
    u64::from_le_bytes(b)
}

#[async_trait]
impl GroupStore for SqliteStore {
    fn group_write(&self, user: &str, op: GroupOp) -> Queued<GroupOutcome> {
        let user = user.to_owned();
        self.write(move |tx, state| state.group_op(tx, &user, op))
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
