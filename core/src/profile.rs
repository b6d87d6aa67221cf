//! Profiles: `getUsersInfo` and `setSelfInfo` (on `V2TIMManager` in V2TIM).
//!
//! The server keeps every profile; the SDK asks it (one round trip for up to 100 users) and
//! checks early what V2TIM checks in its SDK: the custom fields (9001) and the batch size. A
//! change reaches every device of the user, this one included, as `onSelfInfoUpdated`: the
//! server appends it to the user's own stream, so a device that was offline hears of it when it
//! comes back, exactly once.

use std::sync::Arc;

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::op;
use oxim_proto::profile::{
    GetProfilesReq, MAX_USERS_PER_GET, Problem, Profile, ProfileChange, ProfilesRes, Side, check_change,
};

pub use crate::model::profile::{UserFullInfo, UserInfoChange, allow_type, gender};

use crate::error::{Error, Result};
use crate::session::Session;

/// Checks a list of user ids an app named: 1 to `max` valid ids.
pub(crate) fn check_user_ids(user_ids: &[String], max: usize) -> Result<()> {
    if user_ids.is_empty() {
        return Err(Error::invalid("the userID list is empty"));
    }
    if user_ids.len() > max {
        return Err(Error::new(code::SDK_FRIENDSHIP_EXCEED_THE_LIMIT, format!("at most {max} userIDs per call")));
    }
    if let Some(bad) = user_ids.iter().find(|u| !is_valid_user_id(u)) {
        return Err(Error::invalid(format!("{bad:?} is not a valid userID")));
    }
    Ok(())
}

/// `getUsersInfo`: the profiles of up to 100 users (the logged-in user's own included), in the
/// order asked; users that do not exist are left out.
pub async fn users_info(session: &Arc<Session>, user_ids: Vec<String>) -> Result<Vec<UserFullInfo>> {
    check_user_ids(&user_ids, MAX_USERS_PER_GET)?;
    let res: ProfilesRes =
        session.link.current_or_err()?.request(op::PROFILE_GET, &GetProfilesReq { user_ids }).await?;
    Ok(res.profiles.into_iter().map(Into::into).collect())
}

/// `setSelfInfo`: changes the fields `change` sets; returns the profile after the change.
/// `onSelfInfoUpdated` follows on every device of the user.
pub async fn set_self_info(session: &Arc<Session>, change: UserInfoChange) -> Result<UserFullInfo> {
    let change = ProfileChange::from(change);
    check_self_info(&change)?;
    let after: Profile = session.link.current_or_err()?.request(op::PROFILE_SET, &change).await?;
    Ok(after.into())
}

/// What the SDK refuses before sending, as V2TIM's SDK does: custom fields (9001), values out of
/// range and an empty change (6017). Field lengths are the server's to judge (40601).
fn check_self_info(change: &ProfileChange) -> Result<()> {
    match check_change(change) {
        Ok(()) | Err(Problem::FieldTooLong(..)) => Ok(()),
        Err(p) => Err(Error::new(p.code(Side::Sdk), p.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_sdk_refuses_bad_custom_fields_and_batches_but_leaves_lengths_to_the_server() {
        let custom = |k: &str| ProfileChange {
            custom_info: Some(BTreeMap::from([(k.to_owned(), "v".to_owned())])),
            ..Default::default()
        };
        assert_eq!(check_self_info(&custom("Level2")).unwrap_err().code, 9001);
        assert!(check_self_info(&custom("Level")).is_ok());
        let long_nick = ProfileChange { nick_name: Some("n".repeat(600)), ..Default::default() };
        assert!(check_self_info(&long_nick).is_ok(), "the server answers 40601");
        assert_eq!(check_self_info(&ProfileChange::default()).unwrap_err().code, 6017);
        let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
        assert!(check_user_ids(&ids(100), 100).is_ok());
        assert_eq!(check_user_ids(&ids(101), 100).unwrap_err().code, 9006);
        assert_eq!(check_user_ids(&[], 100).unwrap_err().code, 6017);
        assert_eq!(check_user_ids(&["a b".into()], 100).unwrap_err().code, 6017);
    }
}
