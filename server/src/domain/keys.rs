//! Storage keys: every stream of messages has one, and all of them get gapless seqs and the
//! same exactly-once delivery.
//!
//! - `c2c:<a> <b>`: the C2C conversation of two users, `a < b` (user ids never contain spaces);
//! - `group:<id>`: a group's conversation;
//! - `sys:<user>`: the user's own event stream (read positions, deletions, receipts, group
//!   events addressed to the user).

use oxim_proto::ids::ConvId;

const GROUP: &str = "group:";

/// The key of the C2C conversation between two users (the same from both sides).
pub fn c2c_key(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("c2c:{lo} {hi}")
}

/// The key of a group's conversation.
pub fn group_key(group_id: &str) -> String {
    format!("{GROUP}{group_id}")
}

/// The key of `user`'s own event stream.
pub fn sys_key(user: &str) -> String {
    format!("sys:{user}")
}

/// The key of `user`'s conversation `conv`.
pub fn conv_key(user: &str, conv: &ConvId) -> String {
    match conv {
        ConvId::C2C(peer) => c2c_key(user, peer),
        ConvId::Group(group) => group_key(group),
        ConvId::System => sys_key(user),
    }
}

/// `user`'s conversation id for stream `key`: the inverse of [`conv_key`]. `None` when the
/// stream is not one `user` can take part in (another pair's C2C, another user's events).
pub fn conv_id_of(user: &str, key: &str) -> Option<ConvId> {
    if let Some(group) = group_of_key(key) {
        return Some(ConvId::Group(group.to_owned()));
    }
    if let Some(pair) = key.strip_prefix("c2c:") {
        let (lo, hi) = pair.split_once(' ')?;
        return match user {
            u if u == lo => Some(ConvId::C2C(hi.to_owned())),
            u if u == hi => Some(ConvId::C2C(lo.to_owned())),
            _ => None,
        };
    }
    (key.strip_prefix("sys:")? == user).then_some(ConvId::System)
}

/// The group id of a group stream's key (`None` for other streams).
pub fn group_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(GROUP)
}

/// Where a message goes: its stream key and the users taking part, each with their view of the
/// conversation (so the stream shows up in their sync).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Storage key.
    pub key: String,
    /// Participants and their conversation id.
    pub members: Vec<(String, ConvId)>,
}

/// The target of a C2C message between `sender` and `receiver`.
pub fn c2c_target(sender: &str, receiver: &str) -> Target {
    let mut members = vec![(sender.to_owned(), ConvId::C2C(receiver.to_owned()))];
    if sender != receiver {
        members.push((receiver.to_owned(), ConvId::C2C(sender.to_owned())));
    }
    Target { key: c2c_key(sender, receiver), members }
}

/// The target of `user`'s own event stream.
pub fn sys_target(user: &str) -> Target {
    Target { key: sys_key(user), members: vec![(user.to_owned(), ConvId::System)] }
}

/// The target of a group's conversation, without participants (a group's members are its
/// participants; the store knows them).
pub fn group_target(group_id: &str) -> Target {
    Target { key: group_key(group_id), members: Vec::new() }
}

/// The target of `user`'s conversation `conv` (group participants left to the store).
pub fn target_of(user: &str, conv: &ConvId) -> Target {
    match conv {
        ConvId::C2C(peer) => c2c_target(user, peer),
        ConvId::Group(g) => group_target(g),
        ConvId::System => sys_target(user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_conversation_id_comes_back_from_its_key() {
        for (user, conv) in [
            ("alice", ConvId::C2C("bob".into())),
            ("bob", ConvId::C2C("alice".into())),
            ("alice", ConvId::C2C("alice".into())),
            ("alice", ConvId::Group("g 1".into())),
            ("alice", ConvId::System),
        ] {
            assert_eq!(conv_id_of(user, &conv_key(user, &conv)), Some(conv));
        }
        assert_eq!(conv_id_of("carol", &c2c_key("alice", "bob")), None, "another pair's conversation");
        assert_eq!(conv_id_of("carol", &sys_key("alice")), None, "another user's events");
        assert_eq!(conv_id_of("alice", "c2c:alice"), None, "not a key");
    }

    #[test]
    fn both_sides_of_a_c2c_conversation_share_one_key() {
        assert_eq!(c2c_key("bob", "alice"), "c2c:alice bob");
        assert_eq!(conv_key("alice", &ConvId::C2C("bob".into())), conv_key("bob", &ConvId::C2C("alice".into())));
        assert_eq!(conv_key("alice", &ConvId::Group("g".into())), "group:g");
        assert_eq!(conv_key("alice", &ConvId::System), "sys:alice");
        assert_eq!(group_of_key("group:g 1"), Some("g 1"));
        assert_eq!(group_of_key("c2c:a b"), None);
        let t = c2c_target("alice", "bob");
        assert_eq!(
            t.members,
            [("alice".into(), ConvId::C2C("bob".into())), ("bob".into(), ConvId::C2C("alice".into()))]
        );
        assert_eq!(c2c_target("alice", "alice").members.len(), 1, "a note to self has one participant");
    }
}
