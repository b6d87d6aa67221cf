//! User profiles on the wire (V2TIM's `V2TIMUserFullInfo`): the record, the changes a user may
//! make to their own, the bodies of the `profile.*` operations, and the checks a change must
//! pass: one definition for the SDK (which checks custom fields early, as V2TIM does, with
//! 9001) and the server (which checks everything again, with its 40xxx codes). Pure: no I/O.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::code;

/// Who may add the user as a friend (`V2TIMFriendAllowType`).
pub mod allow_type {
    /// Anyone, at once.
    pub const ALLOW_ANY: i32 = 0;
    /// The user confirms each request (V2TIM's default).
    pub const NEED_CONFIRM: i32 = 1;
    /// Nobody.
    pub const DENY_ANY: i32 = 2;

    /// Whether `v` is one of the three.
    pub fn is_valid(v: i32) -> bool {
        (ALLOW_ANY..=DENY_ANY).contains(&v)
    }
}

/// Gender (`V2TIMGender`).
pub mod gender {
    /// Not set.
    pub const UNKNOWN: i32 = 0;
    /// Male.
    pub const MALE: i32 = 1;
    /// Female.
    pub const FEMALE: i32 = 2;

    /// Whether `v` is one of the three.
    pub fn is_valid(v: i32) -> bool {
        (UNKNOWN..=FEMALE).contains(&v)
    }
}

/// Longest nickname, avatar URL and signature, in bytes (Tencent's profile field limit).
pub const MAX_FIELD_BYTES: usize = 500;
/// Longest custom field key, in bytes (letters only; without V2TIM's `Tag_Profile_Custom_`
/// prefix).
pub const MAX_CUSTOM_KEY_BYTES: usize = 8;
/// Longest custom field value, in bytes.
pub const MAX_CUSTOM_VALUE_BYTES: usize = 500;
/// Most custom fields a profile (or a friend entry) may hold (Tencent's console allows 20).
pub const MAX_CUSTOM_KEYS: usize = 20;
/// Most users one `getUsersInfo` may name (Tencent: 100).
pub const MAX_USERS_PER_GET: usize = 100;

/// A user's profile (`V2TIMUserFullInfo`). A user who never set anything has the defaults:
/// empty strings, zeros, and [`allow_type::NEED_CONFIRM`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user.
    pub user_id: String,
    /// Nickname.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nick_name: String,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub face_url: String,
    /// Signature.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub self_signature: String,
    /// [`gender`] value.
    #[serde(default)]
    pub gender: i32,
    /// App-defined role (a uint32 in V2TIM).
    #[serde(default)]
    pub role: u32,
    /// App-defined level (a uint32 in V2TIM).
    #[serde(default)]
    pub level: u32,
    /// Birthday, app-defined (V2TIM suggests 20000101).
    #[serde(default)]
    pub birthday: u32,
    /// [`allow_type`] value.
    #[serde(default = "default_allow_type")]
    pub allow_type: i32,
    /// Custom fields (keys without the `Tag_Profile_Custom_` prefix).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_info: BTreeMap<String, String>,
}

fn default_allow_type() -> i32 {
    allow_type::NEED_CONFIRM
}

impl Profile {
    /// The profile of a user who never set anything.
    pub fn new(user_id: impl Into<String>) -> Profile {
        Profile {
            user_id: user_id.into(),
            nick_name: String::new(),
            face_url: String::new(),
            self_signature: String::new(),
            gender: gender::UNKNOWN,
            role: 0,
            level: 0,
            birthday: 0,
            allow_type: allow_type::NEED_CONFIRM,
            custom_info: BTreeMap::new(),
        }
    }

    /// This profile with `change` applied (custom fields merge; an empty value removes one).
    pub fn with(mut self, change: &ProfileChange) -> Profile {
        if let Some(v) = &change.nick_name {
            self.nick_name = v.clone();
        }
        if let Some(v) = &change.face_url {
            self.face_url = v.clone();
        }
        if let Some(v) = &change.self_signature {
            self.self_signature = v.clone();
        }
        if let Some(v) = change.gender {
            self.gender = v;
        }
        if let Some(v) = change.role {
            self.role = v;
        }
        if let Some(v) = change.level {
            self.level = v;
        }
        if let Some(v) = change.birthday {
            self.birthday = v;
        }
        if let Some(v) = change.allow_type {
            self.allow_type = v;
        }
        if let Some(custom) = &change.custom_info {
            merge_custom(&mut self.custom_info, custom);
        }
        self
    }
}

/// Merges custom fields: each key of `change` is set, or removed when its value is empty.
pub fn merge_custom(into: &mut BTreeMap<String, String>, change: &BTreeMap<String, String>) {
    for (k, v) in change {
        if v.is_empty() {
            into.remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// `profile.set` request: the fields the user changes in their own profile (`setSelfInfo`);
/// `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    /// Nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_url: Option<String>,
    /// Signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signature: Option<String>,
    /// [`gender`] value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<i32>,
    /// Role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<u32>,
    /// Level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// Birthday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<u32>,
    /// [`allow_type`] value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_type: Option<i32>,
    /// Custom fields to set (an empty value removes the field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_info: Option<BTreeMap<String, String>>,
}

impl ProfileChange {
    /// Whether the change sets nothing.
    pub fn is_empty(&self) -> bool {
        *self == ProfileChange::default()
    }
}

/// `profile.get` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetProfilesReq {
    /// 1 to [`MAX_USERS_PER_GET`] users.
    pub user_ids: Vec<String>,
}

/// `profile.get` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilesRes {
    /// The profiles of the users that exist, in request order (unknown users are left out).
    pub profiles: Vec<Profile>,
}

/// Which side found a problem: the SDK and the server report with different codes, as V2TIM's
/// do (the SDK's 9001 for custom fields; the server's 40xxx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The SDK, before sending.
    Sdk,
    /// The server, on receipt.
    Server,
}

/// Why a profile change (or a friend's custom fields) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The change sets nothing.
    Empty,
    /// Nickname, avatar URL or signature longer than [`MAX_FIELD_BYTES`].
    FieldTooLong(&'static str, usize),
    /// Gender or allow type out of range.
    BadValue(&'static str, i32),
    /// A custom key that is not 1-8 letters.
    BadCustomKey(String),
    /// A custom value longer than [`MAX_CUSTOM_VALUE_BYTES`].
    CustomValueTooLong(String, usize),
    /// More than [`MAX_CUSTOM_KEYS`] custom fields.
    TooManyCustomKeys(usize),
}

impl Problem {
    /// The V2TIM error code, as `side` reports it.
    pub fn code(&self, side: Side) -> i32 {
        match (self, side) {
            (Problem::BadCustomKey(_) | Problem::CustomValueTooLong(..) | Problem::TooManyCustomKeys(_), Side::Sdk) => {
                code::SDK_FRIENDSHIP_INVALID_PROFILE_KEY
            }
            (_, Side::Sdk) => code::INVALID_PARAMETERS,
            (Problem::FieldTooLong(..) | Problem::CustomValueTooLong(..), Side::Server) => code::SVR_PROFILE_SIZE_LIMIT,
            (Problem::BadValue(..), Side::Server) => code::SVR_PROFILE_VALUE_ERROR,
            (Problem::Empty | Problem::BadCustomKey(_) | Problem::TooManyCustomKeys(_), Side::Server) => {
                code::SVR_PROFILE_INVALID_PARAMETERS
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => write!(f, "the change sets no field"),
            Problem::FieldTooLong(what, len) => write!(f, "{what} is {len} bytes; at most {MAX_FIELD_BYTES}"),
            Problem::BadValue(what, v) => write!(f, "{what} {v} is not a valid value"),
            Problem::BadCustomKey(k) => {
                write!(f, "custom key {k:?} must be 1-{MAX_CUSTOM_KEY_BYTES} letters (without the Tag_ prefix)")
            }
            Problem::CustomValueTooLong(k, len) => {
                write!(f, "custom value of {k:?} is {len} bytes; at most {MAX_CUSTOM_VALUE_BYTES}")
            }
            Problem::TooManyCustomKeys(n) => write!(f, "{n} custom fields; at most {MAX_CUSTOM_KEYS}"),
        }
    }
}

impl std::error::Error for Problem {}

/// Whether `key` is an acceptable custom field key: 1-8 ASCII letters.
pub fn is_valid_custom_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_CUSTOM_KEY_BYTES && key.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Checks custom fields (a profile's or a friend entry's): keys 1-8 letters, values at most
/// 500 bytes.
pub fn check_custom(custom: &BTreeMap<String, String>) -> Result<(), Problem> {
    for (k, v) in custom {
        if !is_valid_custom_key(k) {
            return Err(Problem::BadCustomKey(k.clone()));
        }
        if v.len() > MAX_CUSTOM_VALUE_BYTES {
            return Err(Problem::CustomValueTooLong(k.clone(), v.len()));
        }
    }
    Ok(())
}

/// Checks a profile change: something set, strings at most 500 bytes, gender and allow type in
/// range, custom fields as [`check_custom`]. (The number of custom fields after merging is
/// checked against the stored profile with [`check_custom_count`].)
pub fn check_change(change: &ProfileChange) -> Result<(), Problem> {
    if change.is_empty() {
        return Err(Problem::Empty);
    }
    for (what, v) in
        [("nickName", &change.nick_name), ("faceURL", &change.face_url), ("selfSignature", &change.self_signature)]
    {
        if let Some(v) = v
            && v.len() > MAX_FIELD_BYTES
        {
            return Err(Problem::FieldTooLong(what, v.len()));
        }
    }
    if let Some(g) = change.gender
        && !gender::is_valid(g)
    {
        return Err(Problem::BadValue("gender", g));
    }
    if let Some(a) = change.allow_type
        && !allow_type::is_valid(a)
    {
        return Err(Problem::BadValue("allowType", a));
    }
    if let Some(custom) = &change.custom_info {
        check_custom(custom)?;
        check_custom_count(custom.len())?;
    }
    Ok(())
}

/// Checks the number of custom fields a profile or friend entry would hold.
pub fn check_custom_count(n: usize) -> Result<(), Problem> {
    if n > MAX_CUSTOM_KEYS {
        return Err(Problem::TooManyCustomKeys(n));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn custom_keys_are_one_to_eight_letters_and_values_at_most_500_bytes() {
        let ok = ProfileChange {
            custom_info: custom(&[("Blood", "A"), ("abcdefgh", &"x".repeat(500))]),
            ..Default::default()
        };
        assert_eq!(check_change(&ok), Ok(()));
        for bad in ["", "abcdefghi", "key1", "Tag_x", "é"] {
            let c = ProfileChange { custom_info: custom(&[(bad, "v")]), ..Default::default() };
            let e = check_change(&c).unwrap_err();
            assert_eq!(e.code(Side::Sdk), 9001, "{bad:?}");
            assert_eq!(e.code(Side::Server), 40001, "{bad:?}");
        }
        let long = ProfileChange { custom_info: custom(&[("k", &"x".repeat(501))]), ..Default::default() };
        let e = check_change(&long).unwrap_err();
        assert_eq!((e.code(Side::Sdk), e.code(Side::Server)), (9001, 40601));
    }

    #[test]
    fn standard_fields_are_checked_at_their_limits() {
        let nick = |n| ProfileChange { nick_name: Some("n".repeat(n)), ..Default::default() };
        assert_eq!(check_change(&nick(500)), Ok(()));
        assert_eq!(check_change(&nick(501)).unwrap_err().code(Side::Server), 40601);
        let gender = |g| ProfileChange { gender: Some(g), ..Default::default() };
        assert_eq!(check_change(&gender(2)), Ok(()));
        assert_eq!(check_change(&gender(3)).unwrap_err().code(Side::Server), 40605);
        let allow = |a| ProfileChange { allow_type: Some(a), ..Default::default() };
        assert_eq!(check_change(&allow(-1)).unwrap_err().code(Side::Sdk), 6017);
        assert_eq!(check_change(&ProfileChange::default()), Err(Problem::Empty));
    }

    #[test]
    fn a_change_merges_custom_fields_and_an_empty_value_removes_one() {
        let p = Profile::new("alice").with(&ProfileChange {
            nick_name: Some("Alice".into()),
            custom_info: custom(&[("a", "1"), ("b", "2")]),
            ..Default::default()
        });
        let p = p.with(&ProfileChange { custom_info: custom(&[("a", ""), ("c", "3")]), ..Default::default() });
        assert_eq!(p.nick_name, "Alice");
        assert_eq!(p.custom_info, custom(&[("b", "2"), ("c", "3")]).unwrap());
        assert_eq!(p.allow_type, allow_type::NEED_CONFIRM, "V2TIM's default");
        let json = serde_json::to_string(&Profile::new("bob")).unwrap();
        assert_eq!(json, r#"{"user_id":"bob","gender":0,"role":0,"level":0,"birthday":0,"allow_type":1}"#);
        assert_eq!(serde_json::from_str::<Profile>(r#"{"user_id":"bob"}"#).unwrap(), Profile::new("bob"));
    }
}
