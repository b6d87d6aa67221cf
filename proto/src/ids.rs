//! Identifiers: V2TIM conversation ids and user id rules.

/// Longest user id, in bytes (V2TIM: 32 bytes).
pub const MAX_USER_ID_BYTES: usize = 32;

/// Whether `user_id` is acceptable: 1–32 bytes of printable ASCII without spaces.
///
/// V2TIM recommends `a-z A-Z 0-9 _ -`; Oxim also accepts the other printable ASCII characters
/// (e.g. `@` and `.` for e-mail style ids) but never control characters or whitespace, which
/// keeps ids safe inside conversation keys and logs.
pub fn is_valid_user_id(user_id: &str) -> bool {
    !user_id.is_empty() && user_id.len() <= MAX_USER_ID_BYTES && user_id.bytes().all(|b| b.is_ascii_graphic())
}

/// Kind of conversation, with V2TIM's numeric values (`V2TIMConversationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConvType {
    /// One-to-one chat.
    C2C = 1,
    /// Group chat.
    Group = 2,
}

/// A conversation as seen by one user: the peer for C2C, the group for groups.
///
/// Its string form is V2TIM's conversation id: `c2c_<userID>` or `group_<groupID>`. The user's
/// own event stream (read positions, deletions, receipts; never shown as a conversation) is
/// `@self`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConvId {
    /// `c2c_<peer user id>`.
    C2C(String),
    /// `group_<group id>`.
    Group(String),
    /// `@self`: the user's own event stream.
    System,
}

/// String form of [`ConvId::System`].
pub const SYSTEM_STREAM: &str = "@self";

impl ConvId {
    /// Parses a V2TIM conversation id; `None` if it is malformed.
    pub fn parse(s: &str) -> Option<ConvId> {
        if s == SYSTEM_STREAM {
            return Some(ConvId::System);
        }
        if let Some(user) = s.strip_prefix("c2c_") {
            is_valid_user_id(user).then(|| ConvId::C2C(user.to_owned()))
        } else if let Some(group) = s.strip_prefix("group_") {
            (!group.is_empty()).then(|| ConvId::Group(group.to_owned()))
        } else {
            None
        }
    }

    /// Parses a V2TIM conversation id an app may use (`c2c_…` or `group_…`, not the stream).
    pub fn parse_public(s: &str) -> Option<ConvId> {
        ConvId::parse(s).filter(|c| *c != ConvId::System)
    }

    /// The conversation type (the user stream counts as C2C).
    pub fn conv_type(&self) -> ConvType {
        match self {
            ConvId::C2C(_) | ConvId::System => ConvType::C2C,
            ConvId::Group(_) => ConvType::Group,
        }
    }

    /// The peer user id (C2C) or group id (empty for the user stream).
    pub fn target(&self) -> &str {
        match self {
            ConvId::C2C(s) | ConvId::Group(s) => s,
            ConvId::System => "",
        }
    }
}

impl std::fmt::Display for ConvId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConvId::C2C(user) => write!(f, "c2c_{user}"),
            ConvId::Group(group) => write!(f, "group_{group}"),
            ConvId::System => f.write_str(SYSTEM_STREAM),
        }
    }
}

impl serde::Serialize for ConvId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ConvId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ConvId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("malformed conversation id {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_round_trip() {
        for s in ["c2c_alice", "group_g1"] {
            assert_eq!(ConvId::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(ConvId::parse("c2c_bob").unwrap(), ConvId::C2C("bob".into()));
        for bad in ["", "c2c_", "group_", "C2Calice", "bob", "c2c_with space"] {
            assert!(ConvId::parse(bad).is_none(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn user_id_rules() {
        assert!(is_valid_user_id("alice_01-x@y.z"));
        assert!(is_valid_user_id(&"a".repeat(32)));
        assert!(!is_valid_user_id(&"a".repeat(33)));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id("a b"));
        assert!(!is_valid_user_id("a\u{1}"));
        assert!(!is_valid_user_id("é"));
    }
}
