//! AVChatRoom membership and message rate, kept in memory.
//!
//! An AVChatRoom's profile and attributes are stored like any group's, but its members are
//! whoever joined and is still online: V2TIM keeps no member list and no messages for live
//! rooms. A user leaves every room when their last session ends; the SDK joins again after a
//! reconnect. Each room passes at most `limit` messages per window; low-priority messages are
//! refused first, so high-priority ones (gifts, likes, admin notices) still get through.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oxim_proto::group::{MemberInfo, role};

/// `V2TIMMessagePriority`: HIGH.
const PRIORITY_HIGH: i32 = 1;
/// `V2TIMMessagePriority`: LOW.
const PRIORITY_LOW: i32 = 3;

#[derive(Debug, Clone)]
struct RoomMember {
    join_ms: i64,
    mute_until_ms: i64,
    seq: u64,
}

#[derive(Debug, Default)]
struct Room {
    members: HashMap<String, RoomMember>,
    /// Join order → user, for paging.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    window_start: Option<Instant>,
    used: u32,
}

impl Room {
    /// Starts a new window if the current one is over; returns what it has used.
    fn used_now(&mut self, window: Duration, now: Instant) -> u32 {
        match self.window_start {
            Some(start) if now.duration_since(start) < window => {}
            _ => {
                self.window_start = Some(now);
                self.used = 0;
            }
        }
        self.used
    }
}

/// The rate rule: how much of the window each priority may use.
#[derive(Debug, Clone, Copy)]
pub struct RoomRate {
    /// Messages per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

impl RoomRate {
    /// The share of the window a message of `priority` may still enter: low-priority messages
    /// only the first half, default/normal ones all but a tenth kept for high priority, high
    /// priority all of it.
    fn ceiling(&self, priority: i32) -> u32 {
        match priority {
            PRIORITY_LOW => self.limit / 2,
            PRIORITY_HIGH => self.limit,
            _ => self.limit - self.limit / 10,
        }
    }
}

/// Every live room of the server.
#[derive(Debug, Default)]
pub struct Rooms {
    inner: Mutex<RoomsInner>,
}

#[derive(Debug, Default)]
struct RoomsInner {
    rooms: HashMap<String, Room>,
    /// User → rooms they are in (to leave them all when the user goes offline).
    by_user: HashMap<String, HashSet<String>>,
}

impl Rooms {
    /// Adds `user` to room `group`; false if they were already in it.
    pub fn join(&self, group: &str, user: &str, now_ms: i64) -> bool {
        let mut inner = self.inner.lock().expect("rooms lock");
        let room = inner.rooms.entry(group.to_owned()).or_default();
        if room.members.contains_key(user) {
            return false;
        }
        room.next_seq += 1;
        let seq = room.next_seq;
        room.members.insert(user.to_owned(), RoomMember { join_ms: now_ms, mute_until_ms: 0, seq });
        room.order.insert(seq, user.to_owned());
        inner.by_user.entry(user.to_owned()).or_default().insert(group.to_owned());
        true
    }

    /// Removes `user` from room `group`; false if they were not in it.
    pub fn quit(&self, group: &str, user: &str) -> bool {
        let mut inner = self.inner.lock().expect("rooms lock");
        Self::remove(&mut inner, group, user)
    }

    fn remove(inner: &mut RoomsInner, group: &str, user: &str) -> bool {
        let Some(room) = inner.rooms.get_mut(group) else { return false };
        let Some(member) = room.members.remove(user) else { return false };
        room.order.remove(&member.seq);
        if let Some(set) = inner.by_user.get_mut(user) {
            set.remove(group);
            if set.is_empty() {
                inner.by_user.remove(user);
            }
        }
        true
    }

    /// Takes `user` out of every room (their last session ended); returns the rooms.
    pub fn leave_all(&self, user: &str) -> Vec<String> {
        let mut inner = self.inner.lock().expect("rooms lock");
        let groups: Vec<String> = inner.by_user.get(user).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        for g in &groups {
            Self::remove(&mut inner, g, user);
        }
        groups
    }

    /// Closes room `group` (dismissed); returns who was in it.
    pub fn close(&self, group: &str) -> Vec<String> {
        let mut inner = self.inner.lock().expect("rooms lock");
        let Some(room) = inner.rooms.remove(group) else { return Vec::new() };
        let members: Vec<String> = room.order.into_values().collect();
        for m in &members {
            if let Some(set) = inner.by_user.get_mut(m) {
                set.remove(group);
                if set.is_empty() {
                    inner.by_user.remove(m);
                }
            }
        }
        members
    }

    /// Whether `user` is in room `group`.
    pub fn is_member(&self, group: &str, user: &str) -> bool {
        let inner = self.inner.lock().expect("rooms lock");
        inner.rooms.get(group).is_some_and(|r| r.members.contains_key(user))
    }

    /// Everyone in room `group`, in join order.
    pub fn members(&self, group: &str) -> Vec<String> {
        let inner = self.inner.lock().expect("rooms lock");
        inner.rooms.get(group).map(|r| r.order.values().cloned().collect()).unwrap_or_default()
    }

    /// How many are in room `group`.
    pub fn count(&self, group: &str) -> u32 {
        let inner = self.inner.lock().expect("rooms lock");
        inner.rooms.get(group).map_or(0, |r| r.members.len() as u32)
    }

    fn info(user: &str, m: &RoomMember, owner: &str) -> MemberInfo {
        MemberInfo {
            user_id: user.to_owned(),
            role: if user == owner { role::OWNER } else { role::MEMBER },
            join_time: m.join_ms / 1000,
            mute_until: m.mute_until_ms / 1000,
            ..MemberInfo::default()
        }
    }

    /// A page of room members after `after` (join order) and the next page's cursor.
    pub fn page(&self, group: &str, owner: &str, after: u64, limit: u32) -> (Vec<MemberInfo>, u64) {
        let inner = self.inner.lock().expect("rooms lock");
        let Some(room) = inner.rooms.get(group) else { return (Vec::new(), 0) };
        let mut out = Vec::new();
        let mut last = 0;
        let mut rest = room.order.range(after + 1..);
        for (seq, user) in rest.by_ref().take(limit as usize) {
            out.push(Self::info(user, &room.members[user], owner));
            last = *seq;
        }
        (out, if rest.next().is_some() { last } else { 0 })
    }

    /// The room members among `users`.
    pub fn members_info(&self, group: &str, owner: &str, users: &[String]) -> Vec<MemberInfo> {
        let inner = self.inner.lock().expect("rooms lock");
        let Some(room) = inner.rooms.get(group) else { return Vec::new() };
        users.iter().filter_map(|u| room.members.get(u).map(|m| Self::info(u, m, owner))).collect()
    }

    /// Mutes `user` until `until_ms` (0 = unmute); false if they are not in the room.
    pub fn mute(&self, group: &str, user: &str, until_ms: i64) -> bool {
        let mut inner = self.inner.lock().expect("rooms lock");
        match inner.rooms.get_mut(group).and_then(|r| r.members.get_mut(user)) {
            Some(m) => {
                m.mute_until_ms = until_ms;
                true
            }
            None => false,
        }
    }

    /// When `user`'s mute in the room ends (0 = not muted or not in the room).
    pub fn mute_until(&self, group: &str, user: &str) -> i64 {
        let inner = self.inner.lock().expect("rooms lock");
        inner.rooms.get(group).and_then(|r| r.members.get(user)).map_or(0, |m| m.mute_until_ms)
    }

    /// Admits a message of `priority` under the room's rate at `now`, counting it; false =
    /// refused.
    pub fn admit(&self, group: &str, priority: i32, rate: RoomRate, now: Instant) -> bool {
        let mut inner = self.inner.lock().expect("rooms lock");
        let Some(room) = inner.rooms.get_mut(group) else { return false };
        if room.used_now(rate.window, now) >= rate.ceiling(priority) {
            return false;
        }
        room.used += 1;
        true
    }

    /// Admits a room notice (join/quit/mute tip): it counts like a low-priority message, so a
    /// crowd joining at once cannot flood the room (V2TIM drops such notices first too).
    pub fn admit_notice(&self, group: &str, rate: RoomRate, now: Instant) -> bool {
        self.admit(group, PRIORITY_LOW, rate, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_paging_and_leaving() {
        let rooms = Rooms::default();
        for u in ["a", "b", "c"] {
            assert!(rooms.join("live", u, 0));
        }
        assert!(!rooms.join("live", "a", 0));
        let (page, next) = rooms.page("live", "a", 0, 2);
        assert_eq!(page.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(page[0].role, role::OWNER);
        let (rest, next2) = rooms.page("live", "a", next, 2);
        assert_eq!((rest.len(), rest[0].user_id.as_str(), next2), (1, "c", 0));
        assert_eq!(rooms.leave_all("b"), ["live"]);
        assert_eq!(rooms.members("live"), ["a", "c"]);
        assert_eq!(rooms.close("live"), ["a", "c"]);
        assert_eq!(rooms.count("live"), 0);
    }

    #[test]
    fn low_priority_is_refused_first() {
        let rooms = Rooms::default();
        rooms.join("live", "a", 0);
        let rate = RoomRate { limit: 40, window: Duration::from_secs(60) };
        let (mut low, mut high) = (0, 0);
        let now = Instant::now();
        for _ in 0..30 {
            low += u32::from(rooms.admit("live", PRIORITY_LOW, rate, now));
            high += u32::from(rooms.admit("live", PRIORITY_HIGH, rate, now));
        }
        assert_eq!((low, high), (10, 30));
        assert!(!rooms.admit_notice("live", rate, now));
        assert!(!rooms.admit("live", 2, rate, now), "a normal message past 90 % of the window");
        // The next window starts empty.
        let later = now + Duration::from_secs(60);
        assert!(rooms.admit_notice("live", rate, later));
        assert!(!rooms.admit("elsewhere", PRIORITY_HIGH, rate, later), "no such room");
    }
}
