//! Profile requests (`profile.*`): anyone's profile, and changes to the caller's own. A change
//! is an event in the caller's own stream, pushed to all of their sessions (the requesting one
//! too: V2TIM tells `onSelfInfoUpdated` on the device that made the change as well).

use oxim_proto::profile::{GetProfilesReq, Profile, ProfileChange, ProfilesRes};

use super::{Caller, Ctx, Reply, appended_pushes, refusal};
use crate::domain::profiles::check_get;

/// Handles `profile.get`.
pub async fn get(ctx: &Ctx, _caller: &Caller, req: GetProfilesReq) -> Reply<ProfilesRes> {
    check_get(&req.user_ids)?;
    let profiles = ctx.store.profiles(req.user_ids).await.map_err(refusal)?;
    Ok((ProfilesRes { profiles }, Vec::new()))
}

/// Handles `profile.set`.
pub async fn set(ctx: &Ctx, caller: &Caller, req: ProfileChange) -> Reply<Profile> {
    let (after, written) = ctx.write(|s| s.set_profile(&caller.user, req)).await.map_err(refusal)?;
    Ok((after, appended_pushes(written.appended, true)))
}

#[cfg(test)]
mod tests {
    use oxim_proto::code;

    use super::*;
    use crate::handlers::testing::{Bench, pushes, users};

    #[tokio::test]
    async fn a_change_is_pushed_to_every_session_of_the_user_and_readable_by_anyone() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let change = ProfileChange { nick_name: Some("Alice".into()), ..Default::default() };
        let (after, effects) = set(&ctx, &alice, change).await.unwrap();
        assert_eq!(after.nick_name, "Alice");
        let pushed = pushes(&effects);
        assert_eq!(pushed.len(), 1);
        assert_eq!((&pushed[0].2, pushed[0].3), (&users(&["alice"]), true), "every session of alice, this one too");

        let ask = GetProfilesReq { user_ids: vec!["carol".into(), "alice".into(), "bob".into()] };
        let (res, effects) = get(&ctx, &Caller::new("bob"), ask).await.unwrap();
        assert!(effects.is_empty());
        assert_eq!(res.profiles, vec![after, Profile::new("bob")], "request order, unknown users left out");

        let refused = set(&ctx, &alice, ProfileChange { allow_type: Some(3), ..Default::default() }).await;
        assert_eq!(refused.unwrap_err().code, code::SVR_PROFILE_VALUE_ERROR);
        let refused = get(&ctx, &alice, GetProfilesReq { user_ids: vec![] }).await;
        assert_eq!(refused.unwrap_err().code, code::SVR_PROFILE_INVALID_PARAMETERS);
    }
}
