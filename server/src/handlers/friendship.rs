//! Relationship requests (`friend.*`, `black.*`, `fgroup.*`): reads answer from the store;
//! writes run one [`FriendOp`] in the store, whose events (`onFriendListAdded` and the rest, to
//! exactly the users the rules name) are pushed to every session of those users, the
//! requesting one too (a user event in the user's own stream, applied once per device).

use oxim_proto::code;
use oxim_proto::friendship::{
    AddFriendReq, ApplicationReq, ApplicationsRes, CheckFriendsReq, CheckRes, DeleteFriendsReq, FriendGroupReq,
    FriendGroupsReq, FriendGroupsRes, FriendInfoRes, FriendsRes, OpResult, OpResultsRes, Problem, RenameFriendGroupReq,
    SetFriendInfoReq, UsersReq, check_add, check_group_name, check_set_info, check_some_users, check_type, check_users,
};
use serde_json::{Value, json};

use super::{Caller, Ctx, Effects, Reply, appended_pushes, refusal};
use crate::domain::friendship::FriendOp;
use crate::domain::refusal::Refusal;

/// The server's refusal of what the SDK would have refused (30001).
fn invalid(p: Problem) -> Refusal {
    Refusal::new(code::SVR_FRIENDSHIP_INVALID_PARAMETERS, p.to_string())
}

/// Runs `op` for the caller; its results and the pushes of what it appended.
async fn write(ctx: &Ctx, caller: &Caller, op: FriendOp) -> Result<(Vec<OpResult>, Effects), Refusal> {
    let settings = ctx.config.friendship;
    let outcome = ctx.write(|s| s.friend_write(&caller.user, op, settings)).await.map_err(refusal)?;
    if let Some((version, list)) = outcome.blacklist {
        ctx.blacklists.replace(&caller.user, version, list);
    }
    Ok((outcome.results, appended_pushes(outcome.appended, true)))
}

/// Handles `friend.list`.
pub async fn list(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<FriendsRes> {
    let friends = ctx.store.friends(&caller.user).await.map_err(refusal)?;
    Ok((FriendsRes { friends }, Vec::new()))
}

/// Handles `friend.info`.
pub async fn info(ctx: &Ctx, caller: &Caller, req: UsersReq) -> Reply<FriendInfoRes> {
    check_users(&req.user_ids).map_err(invalid)?;
    let results = ctx.store.friend_infos(&caller.user, req.user_ids).await.map_err(refusal)?;
    Ok((FriendInfoRes { results }, Vec::new()))
}

/// Handles `friend.set_info`.
pub async fn set_info(ctx: &Ctx, caller: &Caller, req: SetFriendInfoReq) -> Reply<Value> {
    check_set_info(&req).map_err(invalid)?;
    let (_, effects) = write(ctx, caller, FriendOp::SetInfo(req)).await?;
    Ok((json!({}), effects))
}

/// Handles `friend.add`: a refusal of the relationship (blacklists, DENY_ANY, limits) is the
/// result's code, as is 30539 for a request that waits for confirmation.
pub async fn add(ctx: &Ctx, caller: &Caller, req: AddFriendReq) -> Reply<OpResult> {
    check_add(&req).map_err(invalid)?;
    let (mut results, effects) = write(ctx, caller, FriendOp::Add(req)).await?;
    Ok((results.remove(0), effects))
}

/// Handles `friend.delete`.
pub async fn delete(ctx: &Ctx, caller: &Caller, req: DeleteFriendsReq) -> Reply<OpResultsRes> {
    check_users(&req.user_ids).map_err(invalid)?;
    check_type(req.delete_type, "deleteType").map_err(invalid)?;
    let op = FriendOp::Delete { user_ids: req.user_ids, delete_type: req.delete_type };
    let (results, effects) = write(ctx, caller, op).await?;
    Ok((OpResultsRes { results }, effects))
}

/// Handles `friend.check`.
pub async fn check(ctx: &Ctx, caller: &Caller, req: CheckFriendsReq) -> Reply<CheckRes> {
    check_users(&req.user_ids).map_err(invalid)?;
    check_type(req.check_type, "checkType").map_err(invalid)?;
    let results = ctx.store.check_friends(&caller.user, req.user_ids, req.check_type).await.map_err(refusal)?;
    Ok((CheckRes { results }, Vec::new()))
}

/// Handles `friend.apps`.
pub async fn applications(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<ApplicationsRes> {
    let (unread, apps) = ctx.store.friend_applications(&caller.user).await.map_err(refusal)?;
    Ok((ApplicationsRes { unread, apps }, Vec::new()))
}

fn check_other(req: &ApplicationReq) -> Result<(), Refusal> {
    check_users(std::slice::from_ref(&req.user_id)).map_err(invalid)
}

/// Handles `friend.app.accept`.
pub async fn accept(ctx: &Ctx, caller: &Caller, req: ApplicationReq) -> Reply<OpResult> {
    check_other(&req)?;
    let (mut results, effects) = write(ctx, caller, FriendOp::Accept { user_id: req.user_id, kind: req.kind }).await?;
    Ok((results.remove(0), effects))
}

/// Handles `friend.app.refuse`.
pub async fn refuse(ctx: &Ctx, caller: &Caller, req: ApplicationReq) -> Reply<OpResult> {
    check_other(&req)?;
    let (mut results, effects) = write(ctx, caller, FriendOp::Refuse { user_id: req.user_id }).await?;
    Ok((results.remove(0), effects))
}

/// Handles `friend.app.delete`.
pub async fn delete_application(ctx: &Ctx, caller: &Caller, req: ApplicationReq) -> Reply<Value> {
    check_other(&req)?;
    let op = FriendOp::DeleteApplication { user_id: req.user_id, app_type: req.kind };
    let (_, effects) = write(ctx, caller, op).await?;
    Ok((json!({}), effects))
}

/// Handles `friend.apps.read`.
pub async fn read_applications(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<Value> {
    let (_, effects) = write(ctx, caller, FriendOp::ReadApplications).await?;
    Ok((json!({}), effects))
}

/// Handles `black.add`.
pub async fn block(ctx: &Ctx, caller: &Caller, req: UsersReq) -> Reply<OpResultsRes> {
    check_users(&req.user_ids).map_err(invalid)?;
    let (results, effects) = write(ctx, caller, FriendOp::Block(req.user_ids)).await?;
    Ok((OpResultsRes { results }, effects))
}

/// Handles `black.delete`.
pub async fn unblock(ctx: &Ctx, caller: &Caller, req: UsersReq) -> Reply<OpResultsRes> {
    check_users(&req.user_ids).map_err(invalid)?;
    let (results, effects) = write(ctx, caller, FriendOp::Unblock(req.user_ids)).await?;
    Ok((OpResultsRes { results }, effects))
}

/// Handles `black.list`.
pub async fn blacklist(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<FriendsRes> {
    let friends = ctx.store.blacklist(&caller.user).await.map_err(refusal)?;
    Ok((FriendsRes { friends }, Vec::new()))
}

fn check_group(req: &FriendGroupReq) -> Result<(), Refusal> {
    check_group_name(&req.name).map_err(invalid)?;
    check_some_users(&req.user_ids).map_err(invalid)
}

/// Handles `fgroup.create`.
pub async fn create_group(ctx: &Ctx, caller: &Caller, req: FriendGroupReq) -> Reply<OpResultsRes> {
    check_group(&req)?;
    let (results, effects) =
        write(ctx, caller, FriendOp::CreateGroup { name: req.name, user_ids: req.user_ids }).await?;
    Ok((OpResultsRes { results }, effects))
}

/// Handles `fgroup.get`.
pub async fn groups(ctx: &Ctx, caller: &Caller, req: FriendGroupsReq) -> Reply<FriendGroupsRes> {
    for name in &req.names {
        check_group_name(name).map_err(invalid)?;
    }
    let groups = ctx.store.friend_groups(&caller.user, req.names).await.map_err(refusal)?;
    Ok((FriendGroupsRes { groups }, Vec::new()))
}

/// Handles `fgroup.delete`.
pub async fn delete_groups(ctx: &Ctx, caller: &Caller, req: FriendGroupsReq) -> Reply<Value> {
    if req.names.is_empty() {
        return Err(Refusal::new(code::SVR_FRIENDSHIP_INVALID_PARAMETERS, "name the friend groups to delete"));
    }
    for name in &req.names {
        check_group_name(name).map_err(invalid)?;
    }
    let (_, effects) = write(ctx, caller, FriendOp::DeleteGroups(req.names)).await?;
    Ok((json!({}), effects))
}

/// Handles `fgroup.rename`.
pub async fn rename_group(ctx: &Ctx, caller: &Caller, req: RenameFriendGroupReq) -> Reply<Value> {
    check_group_name(&req.old_name).map_err(invalid)?;
    check_group_name(&req.new_name).map_err(invalid)?;
    let (_, effects) =
        write(ctx, caller, FriendOp::RenameGroup { old_name: req.old_name, new_name: req.new_name }).await?;
    Ok((json!({}), effects))
}

/// Handles `fgroup.add`.
pub async fn add_to_group(ctx: &Ctx, caller: &Caller, req: FriendGroupReq) -> Reply<OpResultsRes> {
    check_group(&req)?;
    let (results, effects) =
        write(ctx, caller, FriendOp::AddToGroup { name: req.name, user_ids: req.user_ids }).await?;
    Ok((OpResultsRes { results }, effects))
}

/// Handles `fgroup.remove`.
pub async fn remove_from_group(ctx: &Ctx, caller: &Caller, req: FriendGroupReq) -> Reply<OpResultsRes> {
    check_group(&req)?;
    let op = FriendOp::RemoveFromGroup { name: req.name, user_ids: req.user_ids };
    let (results, effects) = write(ctx, caller, op).await?;
    Ok((OpResultsRes { results }, effects))
}

#[cfg(test)]
mod tests {
    use oxim_proto::friendship::{friend_type, relation};
    use oxim_proto::profile::{ProfileChange, allow_type};

    use super::*;
    use crate::handlers::profiles;
    use crate::handlers::testing::{Bench, pushes, users};

    fn add_req(user: &str, add_type: i32) -> AddFriendReq {
        AddFriendReq { user_id: user.into(), add_type, ..Default::default() }
    }

    #[tokio::test]
    async fn an_add_tells_exactly_the_users_the_flow_names() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob", "carol"]).await;
        let (ctx, alice, bob) = (bench.ctx(), Caller::new("alice"), Caller::new("bob"));
        let any = ProfileChange { allow_type: Some(allow_type::ALLOW_ANY), ..Default::default() };
        profiles::set(&ctx, &bob, any).await.unwrap();
        let (res, effects) = add(&ctx, &alice, add_req("bob", friend_type::SINGLE)).await.unwrap();
        assert_eq!(res.code, 0);
        let told: Vec<_> = pushes(&effects).into_iter().map(|p| p.2).collect();
        assert_eq!(told, vec![users(&["alice"])], "SINGLE: only the adder");
        let (res, effects) = add(&ctx, &carol(), add_req("alice", friend_type::BOTH)).await.unwrap();
        assert_eq!(res.code, code::SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM);
        let told: Vec<_> = pushes(&effects).into_iter().map(|p| p.2).collect();
        assert_eq!(told, vec![users(&["carol"]), users(&["alice"])], "both hear of the application");
        let (checked, _) =
            check(&ctx, &alice, CheckFriendsReq { user_ids: vec!["bob".into()], check_type: 2 }).await.unwrap();
        assert_eq!(checked.results[0].relation, relation::IN_MY_FRIEND_LIST);
        let bad = add(&ctx, &alice, AddFriendReq { remark: "r".repeat(97), ..add_req("bob", 1) }).await;
        assert_eq!(bad.unwrap_err().code, code::SVR_FRIENDSHIP_INVALID_PARAMETERS);
    }

    fn carol() -> Caller {
        Caller::new("carol")
    }
}
