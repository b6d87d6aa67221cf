//! Profiles (`V2TIMUserFullInfo`): what `getUsersInfo` returns and `onSelfInfoUpdated` tells,
//! and the change `setSelfInfo` makes. They convert from and to the protocol's profile records
//! here; those records are never public API.

use std::collections::BTreeMap;

use oxim_proto::profile::{Profile, ProfileChange};

pub use oxim_proto::profile::{allow_type, gender};

/// `V2TIMUserFullInfo`: a user's profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserFullInfo {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nick_name: String,
    /// Avatar URL.
    pub face_url: String,
    /// Signature.
    pub self_signature: String,
    /// [`gender`] value.
    pub gender: i32,
    /// App-defined role.
    pub role: u32,
    /// App-defined level.
    pub level: u32,
    /// Birthday (app-defined, e.g. 20000101).
    pub birthday: u32,
    /// [`allow_type`] value: who may add the user as a friend.
    pub allow_type: i32,
    /// Custom fields (keys without V2TIM's `Tag_Profile_Custom_` prefix).
    pub custom_info: BTreeMap<String, String>,
}

impl From<Profile> for UserFullInfo {
    fn from(p: Profile) -> Self {
        UserFullInfo {
            user_id: p.user_id,
            nick_name: p.nick_name,
            face_url: p.face_url,
            self_signature: p.self_signature,
            gender: p.gender,
            role: p.role,
            level: p.level,
            birthday: p.birthday,
            allow_type: p.allow_type,
            custom_info: p.custom_info,
        }
    }
}

/// The argument of `setSelfInfo`: the fields to change (`None` leaves a field as it is; a
/// custom field set to an empty value is removed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfoChange {
    /// Nickname.
    pub nick_name: Option<String>,
    /// Avatar URL.
    pub face_url: Option<String>,
    /// Signature.
    pub self_signature: Option<String>,
    /// [`gender`] value.
    pub gender: Option<i32>,
    /// Role.
    pub role: Option<u32>,
    /// Level.
    pub level: Option<u32>,
    /// Birthday.
    pub birthday: Option<u32>,
    /// [`allow_type`] value.
    pub allow_type: Option<i32>,
    /// Custom fields to set.
    pub custom_info: Option<BTreeMap<String, String>>,
}

impl From<UserInfoChange> for ProfileChange {
    fn from(c: UserInfoChange) -> Self {
        ProfileChange {
            nick_name: c.nick_name,
            face_url: c.face_url,
            self_signature: c.self_signature,
            gender: c.gender,
            role: c.role,
            level: c.level,
            birthday: c.birthday,
            allow_type: c.allow_type,
            custom_info: c.custom_info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_converts_field_by_field() {
        let mut p = Profile::new("alice");
        p.nick_name = "Alice".into();
        p.level = 7;
        p.custom_info.insert("Blood".into(), "A".into());
        let info = UserFullInfo::from(p);
        assert_eq!((info.user_id.as_str(), info.nick_name.as_str(), info.level), ("alice", "Alice", 7));
        assert_eq!(info.allow_type, allow_type::NEED_CONFIRM);
        assert_eq!(info.custom_info["Blood"], "A");
        let change = ProfileChange::from(UserInfoChange { gender: Some(gender::FEMALE), ..Default::default() });
        assert_eq!(change.gender, Some(2));
        assert!(change.nick_name.is_none());
    }
}
