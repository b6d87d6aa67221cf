//! The relationship chain in the SQLite store ([`FriendshipStore`]): friend lists, pending
//! applications, blacklists and friend groups. A write loads the [`Pair`] of (caller, peer) for
//! each peer it names, lets [`crate::domain::friendship`] decide, applies the decision and
//! appends the user events it tells, all in one savepoint. No relationship rule is checked here.

use std::collections::BTreeMap;

use async_trait::async_trait;
use oxim_proto::code;
use oxim_proto::friendship::{
    AddFriendReq, CheckResult, FriendApplication, FriendEntry, FriendGroup, FriendInfoResult, MAX_FRIEND_GROUPS,
    OpResult, application_type, friend_type,
};
use oxim_proto::message::UserEvent;
use oxim_proto::profile::{Profile, merge_custom};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::profiles::profile_of;
use super::writer::WriterState;
use crate::domain::friendship::{
    Decision, FriendOp, FriendshipSettings, Pair, Told, accept, add, block, check, delete, refuse, unblock,
};
use crate::store::{Appended, FriendOutcome, FriendshipStore, Queued, StoreError, StoreResult};

/// Migration 7: the relationship chain.
pub(super) const MIGRATION: &str = "
    -- friend is in owner's list.
    CREATE TABLE friend (
        owner       TEXT NOT NULL,
        friend      TEXT NOT NULL,
        remark      TEXT NOT NULL DEFAULT '',
        custom_info TEXT NOT NULL DEFAULT '{}',  -- JSON object
        add_source  TEXT NOT NULL DEFAULT '',
        add_wording TEXT NOT NULL DEFAULT '',
        add_ms      INTEGER NOT NULL,
        PRIMARY KEY (owner, friend)
    ) WITHOUT ROWID;
    CREATE INDEX friend_by_friend ON friend(friend);
    -- applicant asked target; pending until accepted, refused or deleted.
    CREATE TABLE friend_app (
        applicant TEXT NOT NULL,
        target    TEXT NOT NULL,
        add_type  INTEGER NOT NULL,
        remark    TEXT NOT NULL,
        grp       TEXT NOT NULL,
        wording   TEXT NOT NULL,
        source    TEXT NOT NULL,
        time_ms   INTEGER NOT NULL,
        PRIMARY KEY (applicant, target)
    ) WITHOUT ROWID;
    CREATE INDEX friend_app_by_target ON friend_app(target);
    -- Applications to the user up to read_ms are read.
    CREATE TABLE friend_app_read (
        user_id TEXT PRIMARY KEY,
        read_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE blacklist (
        owner   TEXT NOT NULL,
        blocked TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        PRIMARY KEY (owner, blocked)
    ) WITHOUT ROWID;
    CREATE TABLE friend_group (
        owner TEXT NOT NULL,
        name  TEXT NOT NULL,
        PRIMARY KEY (owner, name)
    ) WITHOUT ROWID;
    CREATE TABLE friend_group_member (
        owner  TEXT NOT NULL,
        name   TEXT NOT NULL,
        friend TEXT NOT NULL,
        PRIMARY KEY (owner, name, friend)
    ) WITHOUT ROWID;";

fn exists(c: &Connection, sql: &str, a: &str, b: &str) -> StoreResult<bool> {
    Ok(c.prepare_cached(sql)?.query_row(params![a, b], |_| Ok(())).optional()?.is_some())
}

fn count(c: &Connection, sql: &str, a: &str) -> StoreResult<u32> {
    Ok(c.prepare_cached(sql)?.query_row([a], |r| r.get::<_, i64>(0))? as u32)
}

fn is_friend(c: &Connection, owner: &str, friend: &str) -> StoreResult<bool> {
    exists(c, "SELECT 1 FROM friend WHERE owner = ?1 AND friend = ?2", owner, friend)
}

fn application(c: &Connection, applicant: &str, target: &str) -> StoreResult<Option<i32>> {
    Ok(c.prepare_cached("SELECT add_type FROM friend_app WHERE applicant = ?1 AND target = ?2")?
        .query_row(params![applicant, target], |r| r.get(0))
        .optional()?)
}

/// What is stored between `me` and `peer`.
pub(super) fn load_pair(c: &Connection, me: &str, peer: &str) -> StoreResult<Pair> {
    let profile = profile_of(c, peer)?;
    Ok(Pair {
        peer_exists: profile.is_some(),
        peer_allow_type: profile.map_or(oxim_proto::profile::allow_type::NEED_CONFIRM, |p| p.allow_type),
        mine_has_peer: is_friend(c, me, peer)?,
        peers_has_me: is_friend(c, peer, me)?,
        i_block: exists(c, "SELECT 1 FROM blacklist WHERE owner = ?1 AND blocked = ?2", me, peer)?,
        peer_blocks: exists(c, "SELECT 1 FROM blacklist WHERE owner = ?1 AND blocked = ?2", peer, me)?,
        my_application: application(c, me, peer)?,
        peers_application: application(c, peer, me)?,
        my_friends: count(c, "SELECT count(*) FROM friend WHERE owner = ?1", me)?,
        peer_friends: count(c, "SELECT count(*) FROM friend WHERE owner = ?1", peer)?,
        my_blocked: count(c, "SELECT count(*) FROM blacklist WHERE owner = ?1", me)?,
    })
}

fn profile_or_default(c: &Connection, user: &str) -> StoreResult<Profile> {
    Ok(profile_of(c, user)?.unwrap_or_else(|| Profile::new(user)))
}

fn groups_of(c: &Connection, owner: &str, friend: &str) -> StoreResult<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT name FROM friend_group_member WHERE owner = ?1 AND friend = ?2 ORDER BY name")?;
    let rows = stmt.query_map(params![owner, friend], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `friend` as `owner`'s list has them (`None`: not a friend).
fn entry(c: &Connection, owner: &str, friend: &str) -> StoreResult<Option<FriendEntry>> {
    let row: Option<(String, String, String, String, i64)> = c
        .prepare_cached(
            "SELECT remark, custom_info, add_source, add_wording, add_ms FROM friend WHERE owner = ?1 AND friend = ?2",
        )?
        .query_row(params![owner, friend], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    let Some((remark, custom, add_source, add_wording, add_ms)) = row else { return Ok(None) };
    let custom_info: BTreeMap<String, String> =
        serde_json::from_str(&custom).map_err(|e| StoreError::Corrupt(format!("friend custom info: {e}")))?;
    Ok(Some(FriendEntry {
        user_id: friend.to_owned(),
        remark,
        groups: groups_of(c, owner, friend)?,
        custom_info,
        add_source,
        add_wording,
        add_time: add_ms / 1000,
        profile: profile_or_default(c, friend)?,
    }))
}

fn friend_ids(c: &Connection, owner: &str) -> StoreResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT friend FROM friend WHERE owner = ?1 ORDER BY friend")?;
    let rows = stmt.query_map([owner], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The application between `applicant` and `target` as `viewer` (one of them) sees it.
fn application_view(c: &Connection, applicant: &str, target: &str, viewer: &str) -> StoreResult<FriendApplication> {
    let (wording, source, time_ms): (String, String, i64) = c
        .prepare_cached("SELECT wording, source, time_ms FROM friend_app WHERE applicant = ?1 AND target = ?2")?
        .query_row(params![applicant, target], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let (other, app_type) =
        if viewer == target { (applicant, application_type::COME_IN) } else { (target, application_type::SEND_OUT) };
    let profile = profile_or_default(c, other)?;
    Ok(FriendApplication {
        user_id: other.to_owned(),
        nick_name: profile.nick_name,
        face_url: profile.face_url,
        add_time: time_ms / 1000,
        add_source: source,
        add_wording: wording,
        app_type,
    })
}

fn refused(code: i32) -> OpResult {
    OpResult::new("", code, describe(code))
}

/// What a result code means, for `resultInfo`.
fn describe(code: i32) -> &'static str {
    match code {
        0 => "",
        code::SVR_FRIENDSHIP_INVALID_PARAMETERS => "invalid parameters (already a friend, yourself, or not a friend)",
        code::SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND => "the user does not exist",
        code::SVR_FRIENDSHIP_COUNT_LIMIT => "your friend list is full",
        code::SVR_FRIENDSHIP_PEER_FRIEND_LIMIT => "the other user's friend list is full",
        code::SVR_FRIENDSHIP_BLACKLIST_LIMIT => "your blacklist is full",
        code::SVR_FRIENDSHIP_IN_SELF_BLACKLIST => "the user is on your blacklist",
        code::SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY => "the user accepts no friend requests",
        code::SVR_FRIENDSHIP_IN_PEER_BLACKLIST => "you are on the user's blacklist",
        code::SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM => "waiting for the user's confirmation",
        code::SVR_FRIENDSHIP_PENDENCY_NOT_FOUND => "no such friend application",
        code::SVR_FRIENDSHIP_DEL_NONFRIEND => "not a friend",
        _ => "refused",
    }
}

fn result(user: &str, code: i32) -> OpResult {
    OpResult { user_id: user.to_owned(), ..refused(code) }
}

/// Row details a decision's new friendships and applications carry.
#[derive(Default)]
struct Details<'a> {
    /// The add request (add).
    add: Option<&'a AddFriendReq>,
}

impl WriterState {
    fn insert_friend(
        &mut self,
        tx: &Connection,
        owner: &str,
        friend: &str,
        remark: &str,
        source: &str,
        wording: &str,
    ) -> StoreResult<()> {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO friend (owner, friend, remark, add_source, add_wording, add_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![owner, friend, remark, source, wording, self.now_ms()])?;
        Ok(())
    }

    fn put_in_group(&mut self, tx: &Connection, owner: &str, name: &str, friend: &str) -> StoreResult<()> {
        if name.is_empty() {
            return Ok(());
        }
        let groups = count(tx, "SELECT count(*) FROM friend_group WHERE owner = ?1", owner)? as usize;
        let exists = exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", owner, name)?;
        if !exists && groups >= MAX_FRIEND_GROUPS {
            // The friendship stands; the group it asked for does not fit.
            return Ok(());
        }
        tx.prepare_cached("INSERT OR IGNORE INTO friend_group (owner, name) VALUES (?1, ?2)")?
            .execute(params![owner, name])?;
        tx.prepare_cached("INSERT OR IGNORE INTO friend_group_member (owner, name, friend) VALUES (?1, ?2, ?3)")?
            .execute(params![owner, name, friend])?;
        Ok(())
    }

    fn remove_friend(&mut self, tx: &Connection, owner: &str, friend: &str) -> StoreResult<()> {
        tx.prepare_cached("DELETE FROM friend WHERE owner = ?1 AND friend = ?2")?.execute(params![owner, friend])?;
        tx.prepare_cached("DELETE FROM friend_group_member WHERE owner = ?1 AND friend = ?2")?
            .execute(params![owner, friend])?;
        Ok(())
    }

    /// Applies `d` between `me` and `peer` (the pair was `before`) and appends what it tells.
    fn apply_pair(
        &mut self,
        tx: &Connection,
        me: &str,
        peer: &str,
        before: &Pair,
        d: &Decision,
        details: Details<'_>,
    ) -> StoreResult<Vec<Appended>> {
        let after = &d.after;
        // Applications first: a new friendship made from one takes its details.
        let mut from_app: Option<(String, String, String, String)> = None;
        if before.peers_application.is_some() && after.peers_application.is_none() {
            from_app = tx
                .prepare_cached(
                    "SELECT remark, grp, wording, source FROM friend_app WHERE applicant = ?1 AND target = ?2",
                )?
                .query_row(params![peer, me], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
        }
        // Events that describe an application read it before it goes.
        let mut appended = Vec::new();
        for told in &d.told {
            if let Told::ApplicationAdded { .. } = told {
                continue; // after the row exists, below
            }
            if let Told::ApplicationDeleted { to_me } = told {
                let (user, other) = if *to_me { (me, peer) } else { (peer, me) };
                let event = UserEvent::FriendAppsDeleted { user_ids: vec![other.to_owned()] };
                appended.push(self.user_event(tx, user, event)?);
            }
        }
        if before.my_application.is_some() && after.my_application.is_none() {
            tx.prepare_cached("DELETE FROM friend_app WHERE applicant = ?1 AND target = ?2")?
                .execute(params![me, peer])?;
        }
        if before.peers_application.is_some() && after.peers_application.is_none() {
            tx.prepare_cached("DELETE FROM friend_app WHERE applicant = ?1 AND target = ?2")?
                .execute(params![peer, me])?;
        }
        if let (None, Some(add_type), Some(req)) = (before.my_application, after.my_application, details.add) {
            tx.prepare_cached(
                "INSERT INTO friend_app (applicant, target, add_type, remark, grp, wording, source, time_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                me,
                peer,
                add_type,
                req.remark,
                req.group,
                req.wording,
                req.source,
                self.now_ms()
            ])?;
        }
        // Friendships.
        if before.mine_has_peer && !after.mine_has_peer {
            self.remove_friend(tx, me, peer)?;
        }
        if before.peers_has_me && !after.peers_has_me {
            self.remove_friend(tx, peer, me)?;
        }
        if !before.mine_has_peer && after.mine_has_peer {
            match (details.add, &from_app) {
                (Some(req), _) => {
                    self.insert_friend(tx, me, peer, &req.remark, &req.source, &req.wording)?;
                    self.put_in_group(tx, me, &req.group, peer)?;
                }
                (None, Some((_, _, wording, source))) => self.insert_friend(tx, me, peer, "", source, wording)?,
                (None, None) => self.insert_friend(tx, me, peer, "", "", "")?,
            }
        }
        if !before.peers_has_me && after.peers_has_me {
            match (&from_app, details.add) {
                (Some((remark, grp, wording, source)), _) => {
                    self.insert_friend(tx, peer, me, remark, source, wording)?;
                    self.put_in_group(tx, peer, grp, me)?;
                }
                (None, Some(req)) => self.insert_friend(tx, peer, me, "", &req.source, &req.wording)?,
                (None, None) => self.insert_friend(tx, peer, me, "", "", "")?,
            }
        }
        // The blacklist.
        if !before.i_block && after.i_block {
            tx.prepare_cached("INSERT OR IGNORE INTO blacklist (owner, blocked, time_ms) VALUES (?1, ?2, ?3)")?
                .execute(params![me, peer, self.now_ms()])?;
        }
        if before.i_block && !after.i_block {
            tx.prepare_cached("DELETE FROM blacklist WHERE owner = ?1 AND blocked = ?2")?.execute(params![me, peer])?;
        }
        // What the rest tells, in the decision's order.
        for told in &d.told {
            let (user, event) = match *told {
                Told::FriendAdded { to_me } => {
                    let (owner, friend) = if to_me { (me, peer) } else { (peer, me) };
                    let friends = entry(tx, owner, friend)?.into_iter().collect();
                    (owner, UserEvent::FriendsAdded { friends })
                }
                Told::FriendDeleted { to_me } => {
                    let (owner, friend) = if to_me { (me, peer) } else { (peer, me) };
                    (owner, UserEvent::FriendsDeleted { user_ids: vec![friend.to_owned()] })
                }
                Told::ApplicationAdded { to_me } => {
                    let user = if to_me { me } else { peer };
                    (user, UserEvent::FriendAppsAdded { apps: vec![application_view(tx, me, peer, user)?] })
                }
                Told::ApplicationDeleted { .. } => continue,
                Told::BlackAdded => {
                    let friends = vec![FriendEntry::of(profile_or_default(tx, peer)?)];
                    (me, UserEvent::BlackAdded { friends })
                }
                Told::BlackDeleted => (me, UserEvent::BlackDeleted { user_ids: vec![peer.to_owned()] }),
            };
            appended.push(self.user_event(tx, user, event)?);
        }
        Ok(appended)
    }

    /// Tells `owner`'s devices that these friends' entries changed.
    fn entries_changed(&mut self, tx: &Connection, owner: &str, friends: &[String]) -> StoreResult<Option<Appended>> {
        let mut entries = Vec::new();
        for f in friends {
            entries.extend(entry(tx, owner, f)?);
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.user_event(tx, owner, UserEvent::FriendsChanged { friends: entries })?))
    }

    /// Tells everyone who has `user` as a friend that `user`'s profile changed.
    pub(super) fn friend_profile_changed(&mut self, tx: &Connection, user: &str) -> StoreResult<Vec<Appended>> {
        let owners: Vec<String> = {
            let mut stmt = tx.prepare_cached("SELECT owner FROM friend WHERE friend = ?1")?;
            let rows = stmt.query_map([user], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for owner in owners {
            out.extend(self.entries_changed(tx, &owner, &[user.to_owned()])?);
        }
        Ok(out)
    }

    /// Runs `op` for `me` as the domain decides.
    pub(super) fn friend_write(
        &mut self,
        tx: &Connection,
        me: &str,
        op: &FriendOp,
        settings: &FriendshipSettings,
    ) -> StoreResult<FriendOutcome> {
        let mut out = FriendOutcome::default();
        let per_peer = |state: &mut WriterState,
                        out: &mut FriendOutcome,
                        peer: &str,
                        decide: &dyn Fn(Pair) -> Result<Decision, i32>,
                        details: Details<'_>|
         -> StoreResult<()> {
            let before = load_pair(tx, me, peer)?;
            match decide(before) {
                Ok(d) => {
                    out.appended.extend(state.apply_pair(tx, me, peer, &before, &d, details)?);
                    out.results.push(result(peer, d.result_code));
                }
                Err(code) => out.results.push(result(peer, code)),
            }
            Ok(())
        };
        match op {
            FriendOp::Add(req) => {
                let me_is_peer = req.user_id == me;
                per_peer(
                    self,
                    &mut out,
                    &req.user_id,
                    &|p| add(me_is_peer, p, req.add_type, settings),
                    Details { add: Some(req) },
                )?;
            }
            FriendOp::Delete { user_ids, delete_type } => {
                for peer in user_ids {
                    per_peer(self, &mut out, peer, &|p| delete(p, *delete_type), Details::default())?;
                }
            }
            FriendOp::Accept { user_id, kind } => {
                per_peer(self, &mut out, user_id, &|p| accept(p, *kind, settings), Details::default())?;
            }
            FriendOp::Refuse { user_id } => per_peer(self, &mut out, user_id, &refuse, Details::default())?,
            FriendOp::DeleteApplication { user_id, app_type } => {
                let (applicant, target) = if *app_type == application_type::COME_IN {
                    (user_id.as_str(), me)
                } else {
                    (me, user_id.as_str())
                };
                let gone = tx
                    .prepare_cached("DELETE FROM friend_app WHERE applicant = ?1 AND target = ?2")?
                    .execute(params![applicant, target])?;
                if gone == 0 {
                    return Err(StoreError::refused(
                        code::SVR_FRIENDSHIP_PENDENCY_NOT_FOUND,
                        "no such friend application",
                    ));
                }
                for (user, other) in [(me, user_id.as_str()), (user_id.as_str(), me)] {
                    let event = UserEvent::FriendAppsDeleted { user_ids: vec![other.to_owned()] };
                    out.appended.push(self.user_event(tx, user, event)?);
                }
            }
            FriendOp::ReadApplications => {
                tx.prepare_cached(
                    "INSERT INTO friend_app_read (user_id, read_ms) VALUES (?1, ?2)
                     ON CONFLICT (user_id) DO UPDATE SET read_ms = excluded.read_ms",
                )?
                .execute(params![me, self.now_ms()])?;
                out.appended.push(self.user_event(tx, me, UserEvent::FriendAppsRead)?);
            }
            FriendOp::Block(user_ids) => {
                out.blacklist = Some((self.next_version(), Vec::new()));
                for peer in user_ids {
                    if peer == me || profile_of(tx, peer)?.is_none() {
                        let code = if peer == me {
                            code::SVR_FRIENDSHIP_INVALID_PARAMETERS
                        } else {
                            code::SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
                        };
                        out.results.push(result(peer, code));
                        continue;
                    }
                    per_peer(self, &mut out, peer, &|p| block(p, settings), Details::default())?;
                }
            }
            FriendOp::Unblock(user_ids) => {
                out.blacklist = Some((self.next_version(), Vec::new()));
                for peer in user_ids {
                    per_peer(
                        self,
                        &mut out,
                        peer,
                        &|p| if p.i_block { Ok(unblock(p)) } else { Err(code::SVR_FRIENDSHIP_INVALID_PARAMETERS) },
                        Details::default(),
                    )?;
                }
            }
            FriendOp::SetInfo(req) => {
                let Some(current) = entry(tx, me, &req.user_id)? else {
                    return Err(StoreError::refused(code::SVR_FRIENDSHIP_DEL_NONFRIEND, "not a friend"));
                };
                let mut custom = current.custom_info;
                if let Some(change) = &req.custom_info {
                    merge_custom(&mut custom, change);
                }
                oxim_proto::profile::check_custom_count(custom.len())
                    .map_err(|p| StoreError::refused(code::SVR_FRIENDSHIP_INVALID_PARAMETERS, p.to_string()))?;
                let remark = req.remark.clone().unwrap_or(current.remark);
                let custom = serde_json::to_string(&custom).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tx.prepare_cached("UPDATE friend SET remark = ?3, custom_info = ?4 WHERE owner = ?1 AND friend = ?2")?
                    .execute(params![me, req.user_id, remark, custom])?;
                out.appended.extend(self.entries_changed(tx, me, std::slice::from_ref(&req.user_id))?);
            }
            FriendOp::CreateGroup { name, user_ids } => {
                if exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", me, name)? {
                    return Err(StoreError::refused(
                        code::SVR_FRIENDSHIP_INVALID_PARAMETERS,
                        format!("friend group {name:?} exists"),
                    ));
                }
                if count(tx, "SELECT count(*) FROM friend_group WHERE owner = ?1", me)? as usize >= MAX_FRIEND_GROUPS {
                    return Err(StoreError::refused(
                        code::SVR_FRIENDSHIP_GROUP_COUNT_LIMIT,
                        format!("at most {MAX_FRIEND_GROUPS} friend groups"),
                    ));
                }
                tx.prepare_cached("INSERT INTO friend_group (owner, name) VALUES (?1, ?2)")?
                    .execute(params![me, name])?;
                self.group_members(tx, me, name, user_ids, true, &mut out)?;
            }
            FriendOp::DeleteGroups(names) => {
                let mut affected = Vec::new();
                for name in names {
                    if !exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", me, name)? {
                        return Err(StoreError::refused(
                            code::SVR_FRIENDSHIP_INVALID_PARAMETERS,
                            format!("no friend group {name:?}"),
                        ));
                    }
                    affected.extend(group_member_ids(tx, me, name)?);
                    tx.prepare_cached("DELETE FROM friend_group_member WHERE owner = ?1 AND name = ?2")?
                        .execute(params![me, name])?;
                    tx.prepare_cached("DELETE FROM friend_group WHERE owner = ?1 AND name = ?2")?
                        .execute(params![me, name])?;
                }
                affected.sort();
                affected.dedup();
                out.appended.extend(self.entries_changed(tx, me, &affected)?);
            }
            FriendOp::RenameGroup { old_name, new_name } => {
                if !exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", me, old_name)?
                    || exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", me, new_name)?
                {
                    return Err(StoreError::refused(
                        code::SVR_FRIENDSHIP_INVALID_PARAMETERS,
                        format!("no friend group {old_name:?}, or {new_name:?} exists"),
                    ));
                }
                tx.prepare_cached("UPDATE friend_group SET name = ?3 WHERE owner = ?1 AND name = ?2")?
                    .execute(params![me, old_name, new_name])?;
                tx.prepare_cached("UPDATE friend_group_member SET name = ?3 WHERE owner = ?1 AND name = ?2")?
                    .execute(params![me, old_name, new_name])?;
                let affected = group_member_ids(tx, me, new_name)?;
                out.appended.extend(self.entries_changed(tx, me, &affected)?);
            }
            FriendOp::AddToGroup { name, user_ids } | FriendOp::RemoveFromGroup { name, user_ids } => {
                if !exists(tx, "SELECT 1 FROM friend_group WHERE owner = ?1 AND name = ?2", me, name)? {
                    return Err(StoreError::refused(
                        code::SVR_FRIENDSHIP_INVALID_PARAMETERS,
                        format!("no friend group {name:?}"),
                    ));
                }
                let put = matches!(op, FriendOp::AddToGroup { .. });
                self.group_members(tx, me, name, user_ids, put, &mut out)?;
            }
        }
        if let Some((_, list)) = &mut out.blacklist {
            *list = blocked_ids(tx, me)?;
        }
        Ok(out)
    }

    /// Puts friends in (or takes them out of) `owner`'s group `name`; one result each (30001
    /// for a user who is not a friend), one `FriendsChanged` for those that changed.
    fn group_members(
        &mut self,
        tx: &Connection,
        owner: &str,
        name: &str,
        user_ids: &[String],
        put: bool,
        out: &mut FriendOutcome,
    ) -> StoreResult<()> {
        let mut changed = Vec::new();
        for friend in user_ids {
            if !is_friend(tx, owner, friend)? {
                out.results.push(result(friend, code::SVR_FRIENDSHIP_INVALID_PARAMETERS));
                continue;
            }
            let n = if put {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO friend_group_member (owner, name, friend) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![owner, name, friend])?
            } else {
                tx.prepare_cached("DELETE FROM friend_group_member WHERE owner = ?1 AND name = ?2 AND friend = ?3")?
                    .execute(params![owner, name, friend])?
            };
            if n > 0 {
                changed.push(friend.clone());
            }
            out.results.push(result(friend, 0));
        }
        out.appended.extend(self.entries_changed(tx, owner, &changed)?);
        Ok(())
    }
}

fn blocked_ids(c: &Connection, owner: &str) -> StoreResult<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT blocked FROM blacklist WHERE owner = ?1 ORDER BY blocked")?;
    let rows = stmt.query_map([owner], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn group_member_ids(c: &Connection, owner: &str, name: &str) -> StoreResult<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT friend FROM friend_group_member WHERE owner = ?1 AND name = ?2 ORDER BY friend")?;
    let rows = stmt.query_map(params![owner, name], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl FriendshipStore for SqliteStore {
    async fn friends(&self, owner: &str) -> StoreResult<Vec<FriendEntry>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let mut out = Vec::new();
            for f in friend_ids(c, &owner)? {
                out.extend(entry(c, &owner, &f)?);
            }
            Ok(out)
        })
        .await
    }

    async fn friend_infos(&self, owner: &str, user_ids: Vec<String>) -> StoreResult<Vec<FriendInfoResult>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let mut out = Vec::new();
            for user in &user_ids {
                let Some(profile) = profile_of(c, user)? else {
                    out.push(FriendInfoResult {
                        code: code::SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND,
                        info: describe(code::SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND).into(),
                        relation: 0,
                        friend: FriendEntry::of(Profile::new(user.clone())),
                    });
                    continue;
                };
                let pair = load_pair(c, &owner, user)?;
                let friend = entry(c, &owner, user)?.unwrap_or_else(|| FriendEntry::of(profile));
                out.push(FriendInfoResult {
                    code: 0,
                    info: String::new(),
                    relation: check(&pair, friend_type::BOTH),
                    friend,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn check_friends(
        &self,
        owner: &str,
        user_ids: Vec<String>,
        check_type: i32,
    ) -> StoreResult<Vec<CheckResult>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let mut out = Vec::new();
            for user in &user_ids {
                let pair = Pair {
                    mine_has_peer: is_friend(c, &owner, user)?,
                    peers_has_me: is_friend(c, user, &owner)?,
                    ..Pair::default()
                };
                out.push(CheckResult { user_id: user.clone(), code: 0, relation: check(&pair, check_type) });
            }
            Ok(out)
        })
        .await
    }

    async fn friend_applications(&self, user: &str) -> StoreResult<(u32, Vec<FriendApplication>)> {
        let user = user.to_owned();
        self.read(move |c| {
            let read_ms: i64 = c
                .prepare_cached("SELECT read_ms FROM friend_app_read WHERE user_id = ?1")?
                .query_row([&user], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let pairs: Vec<(String, String, i64)> = {
                let mut stmt = c.prepare_cached(
                    "SELECT applicant, target, time_ms FROM friend_app WHERE applicant = ?1 OR target = ?1
                      ORDER BY time_ms DESC, applicant, target",
                )?;
                let rows = stmt.query_map([&user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut unread = 0;
            let mut apps = Vec::new();
            for (applicant, target, time_ms) in pairs {
                if target == user && time_ms > read_ms {
                    unread += 1;
                }
                apps.push(application_view(c, &applicant, &target, &user)?);
            }
            Ok((unread, apps))
        })
        .await
    }

    async fn blacklist(&self, owner: &str) -> StoreResult<Vec<FriendEntry>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            blocked_ids(c, &owner)?.iter().map(|b| Ok(FriendEntry::of(profile_or_default(c, b)?))).collect()
        })
        .await
    }

    async fn all_blacklists(&self) -> StoreResult<Vec<(String, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT owner, blocked FROM blacklist")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn friend_groups(&self, owner: &str, names: Vec<String>) -> StoreResult<Vec<FriendGroup>> {
        let owner = owner.to_owned();
        self.read(move |c| {
            let all: Vec<String> = {
                let mut stmt = c.prepare_cached("SELECT name FROM friend_group WHERE owner = ?1 ORDER BY name")?;
                let rows = stmt.query_map([&owner], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            all.into_iter()
                .filter(|n| names.is_empty() || names.contains(n))
                .map(|name| Ok(FriendGroup { members: group_member_ids(c, &owner, &name)?, name }))
                .collect()
        })
        .await
    }

    async fn c2c_pair(&self, sender: &str, receiver: &str) -> StoreResult<Pair> {
        let (sender, receiver) = (sender.to_owned(), receiver.to_owned());
        self.read(move |c| {
            Ok(Pair {
                mine_has_peer: is_friend(c, &sender, &receiver)?,
                peers_has_me: is_friend(c, &receiver, &sender)?,
                peer_blocks: exists(
                    c,
                    "SELECT 1 FROM blacklist WHERE owner = ?1 AND blocked = ?2",
                    &receiver,
                    &sender,
                )?,
                ..Pair::default()
            })
        })
        .await
    }

    fn friend_write(&self, user: &str, op: FriendOp, settings: FriendshipSettings) -> Queued<FriendOutcome> {
        let user = user.to_owned();
        self.write(move |tx, state| state.friend_write(tx, &user, &op, &settings))
    }
}
