//! Profile rules: what a `profile.set` may change and what a `profile.get` may ask, with the
//! server's V2TIM codes (40001 bad parameters, 40601 too long, 40605 bad value). The checks
//! themselves are shared with the SDK ([`oxim_proto::profile`]); this decides the profile after
//! a change, given the stored one.

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::profile::{MAX_USERS_PER_GET, Profile, ProfileChange, Side, check_change, check_custom_count};

use crate::domain::refusal::Refusal;

/// The profile after `change`, or why the change is refused: the change is checked on its own,
/// then the custom fields it leaves are counted (at most 20).
pub fn change_profile(current: Profile, change: &ProfileChange) -> Result<Profile, Refusal> {
    let refuse = |p: oxim_proto::profile::Problem| Refusal::new(p.code(Side::Server), p.to_string());
    check_change(change).map_err(refuse)?;
    let after = current.with(change);
    check_custom_count(after.custom_info.len()).map_err(refuse)?;
    Ok(after)
}

/// Checks the users a `profile.get` names: 1 to 100 valid user ids.
pub fn check_get(user_ids: &[String]) -> Result<(), Refusal> {
    if user_ids.is_empty() || user_ids.len() > MAX_USERS_PER_GET {
        return Err(Refusal::new(code::SVR_PROFILE_INVALID_PARAMETERS, format!("name 1 to {MAX_USERS_PER_GET} users")));
    }
    if let Some(bad) = user_ids.iter().find(|u| !is_valid_user_id(u)) {
        return Err(Refusal::new(code::SVR_PROFILE_INVALID_PARAMETERS, format!("{bad:?} is not a valid userID")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn custom(n: usize, from: usize) -> ProfileChange {
        let key = |i: usize| format!("k{}", char::from(b'a' + i as u8));
        ProfileChange {
            custom_info: Some((from..from + n).map(|i| (key(i), "v".to_owned())).collect::<BTreeMap<_, _>>()),
            ..Default::default()
        }
    }

    #[test]
    fn twenty_custom_fields_are_the_most_a_profile_holds_after_merging() {
        let p = change_profile(Profile::new("alice"), &custom(19, 0)).unwrap();
        let p = change_profile(p, &custom(1, 19)).unwrap();
        assert_eq!(p.custom_info.len(), 20);
        let refused = change_profile(p.clone(), &custom(1, 20)).unwrap_err();
        assert_eq!(refused.code, code::SVR_PROFILE_INVALID_PARAMETERS);
        // Removing one makes room again.
        let mut swap = custom(1, 20);
        swap.custom_info.as_mut().unwrap().insert("ka".into(), String::new());
        assert_eq!(change_profile(p, &swap).unwrap().custom_info.len(), 20);
    }

    #[test]
    fn changes_and_gets_are_refused_with_the_servers_codes() {
        let nick = ProfileChange { nick_name: Some("n".repeat(501)), ..Default::default() };
        assert_eq!(change_profile(Profile::new("a"), &nick).unwrap_err().code, code::SVR_PROFILE_SIZE_LIMIT);
        let gender = ProfileChange { gender: Some(9), ..Default::default() };
        assert_eq!(change_profile(Profile::new("a"), &gender).unwrap_err().code, code::SVR_PROFILE_VALUE_ERROR);
        assert_eq!(
            change_profile(Profile::new("a"), &ProfileChange::default()).unwrap_err().code,
            code::SVR_PROFILE_INVALID_PARAMETERS
        );
        let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
        assert!(check_get(&ids(100)).is_ok());
        assert_eq!(check_get(&ids(101)).unwrap_err().code, code::SVR_PROFILE_INVALID_PARAMETERS);
        assert_eq!(check_get(&[]).unwrap_err().code, code::SVR_PROFILE_INVALID_PARAMETERS);
        assert_eq!(check_get(&["a b".into()]).unwrap_err().code, code::SVR_PROFILE_INVALID_PARAMETERS);
    }
}
