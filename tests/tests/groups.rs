//! Groups end to end: V2TIM's group-type table row by row (allowed and forbidden), group
//! messages, listener callbacks reaching exactly their recipients, the application flow, and
//! bad input. Attributes and AVChatRoom crowds are in `group_attrs.rs` and `rooms.rs`.

use std::time::Duration;

use oxim_core::group::{
    CreateMember, GroupCreation, GroupEvent, GroupInfoChange, GroupMemberChange, add_opt, group_type, info_change,
    member_filter, role,
};
use oxim_core::{HistoryGetType, HistoryOption};
use oxim_tests::{Seen, TestClient, TestServer};

/// Users logged in on their own devices, with the recorder as group listener.
async fn users(server: &TestServer, names: &[&str]) -> Vec<TestClient> {
    let mut out = Vec::new();
    for n in names {
        let c = TestClient::logged_in(server, n, "android").await;
        c.listen_group();
        out.push(c);
    }
    out
}

fn creation(ty: &str, id: &str, members: &[&str]) -> GroupCreation {
    GroupCreation {
        group_type: ty.into(),
        group_id: id.into(),
        name: format!("{ty} group"),
        members: members.iter().map(|m| CreateMember { user_id: (*m).into(), role: 0 }).collect(),
        ..GroupCreation::default()
    }
}

fn ids(list: &[oxim_core::group::GroupMemberFullInfo]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|m| m.user_id.clone()).collect();
    v.sort();
    v
}

async fn member_ids(c: &TestClient, group: &str) -> Vec<String> {
    let page = c.gm().group_member_list(group.into(), member_filter::ALL, 0).await.expect("member list");
    ids(&page.members)
}

fn code<T: std::fmt::Debug>(r: Result<T, oxim_core::Error>) -> i32 {
    r.expect_err("should be refused").code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn work_group_rules() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob", "carol", "dave"]).await;
    let (alice, bob, carol, dave) = (&u[0], &u[1], &u[2], &u[3]);
    let g = alice.gm().create_group(creation(group_type::WORK, "work1", &["bob"])).await.unwrap();
    assert_eq!(g, "work1");
    assert_eq!(member_ids(alice, &g).await, ["alice", "bob"]);

    // Nobody applies to a Work group.
    assert_eq!(code(carol.sdk.join_group(g.clone(), "let me in".into()).await), 10007);
    // Any member pulls others in, without their consent.
    let results =
        bob.gm().invite_user_to_group(g.clone(), vec!["carol".into(), "bob".into(), "nobody".into()]).await.unwrap();
    let r: Vec<(String, i32)> = results.into_iter().map(|r| (r.user_id, r.result)).collect();
    assert_eq!(r, [("carol".into(), 1), ("bob".into(), 2), ("nobody".into(), 0)]);
    assert_eq!(member_ids(alice, &g).await, ["alice", "bob", "carol"]);
    // Any member edits the profile.
    let change = GroupInfoChange { group_id: g.clone(), name: Some("renamed".into()), ..GroupInfoChange::default() };
    bob.gm().set_group_info(change).await.unwrap();
    // ...but not the join option (only Public groups have one), nor whole-group mute.
    let opt = GroupInfoChange { group_id: g.clone(), add_opt: Some(add_opt::ANY), ..GroupInfoChange::default() };
    assert_eq!(code(alice.gm().set_group_info(opt).await), 10004);
    // Only the owner kicks.
    assert_eq!(code(bob.gm().kick_group_member(g.clone(), vec!["carol".into()], String::new()).await), 10007);
    // No mutes and no administrators in Work groups.
    assert_eq!(code(alice.gm().mute_group_member(g.clone(), "bob".into(), 60).await), 10007);
    assert_eq!(code(alice.gm().set_group_member_role(g.clone(), "bob".into(), role::ADMIN).await), 10007);
    // The owner cannot dismiss a Work group from a client.
    assert_eq!(code(alice.sdk.dismiss_group(g.clone()).await), 10007);
    alice.gm().kick_group_member(g.clone(), vec!["carol".into()], "bye".into()).await.unwrap();
    assert_eq!(member_ids(alice, &g).await, ["alice", "bob"]);
    // A non-member can do nothing inside.
    assert_eq!(code(dave.gm().invite_user_to_group(g.clone(), vec!["dave".into()]).await), 10007);
    assert_eq!(code(dave.gm().group_member_list(g.clone(), 0, 0).await), 10007);
    assert_eq!(code(dave.sdk.send_group_text_message("hi".into(), g.clone(), 0).await), 10007);
    // Transfer, then the (new) owner may quit: the group then has no owner.
    alice.gm().transfer_group_owner(g.clone(), "bob".into()).await.unwrap();
    bob.sdk.quit_group(g.clone()).await.unwrap();
    let info = alice.gm().groups_info(vec![g.clone()]).await.unwrap().remove(0);
    assert_eq!(
        (info.code, info.info.owner.as_str(), info.info.member_count, info.info.name.as_str()),
        (0, "", 1, "renamed")
    );
    assert_eq!(info.info.role, role::MEMBER);
    // Joined list: Work groups are listed.
    let joined = alice.gm().joined_group_list().await.unwrap();
    assert_eq!(joined.iter().map(|g| g.group_id.as_str()).collect::<Vec<_>>(), ["work1"]);
    assert!(bob.gm().joined_group_list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn public_group_rules() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob", "carol", "dave"]).await;
    let (alice, bob, carol, dave) = (&u[0], &u[1], &u[2], &u[3]);
    let g = alice.gm().create_group(creation(group_type::PUBLIC, "pub1", &["bob", "dave"])).await.unwrap();

    // Members do not invite in a Public group.
    assert_eq!(code(bob.gm().invite_user_to_group(g.clone(), vec!["carol".into()]).await), 10007);
    // Only the owner sets roles; an admin manages ordinary members only.
    assert_eq!(code(bob.gm().set_group_member_role(g.clone(), "dave".into(), role::ADMIN).await), 10007);
    alice.gm().set_group_member_role(g.clone(), "bob".into(), role::ADMIN).await.unwrap();
    assert_eq!(code(bob.gm().mute_group_member(g.clone(), "alice".into(), 60).await), 10007);
    assert_eq!(code(bob.gm().kick_group_member(g.clone(), vec!["alice".into()], String::new()).await), 10007);
    assert_eq!(code(dave.gm().kick_group_member(g.clone(), vec!["bob".into()], String::new()).await), 10007);
    // The admin edits the profile and opens the group; an ordinary member does not.
    let notice = GroupInfoChange { group_id: g.clone(), notification: Some("rules".into()), ..Default::default() };
    assert_eq!(code(dave.gm().set_group_info(notice.clone()).await), 10007);
    bob.gm().set_group_info(notice).await.unwrap();
    let open = GroupInfoChange { group_id: g.clone(), add_opt: Some(add_opt::ANY), ..Default::default() };
    bob.gm().set_group_info(open).await.unwrap();
    assert!(carol.sdk.join_group(g.clone(), String::new()).await.unwrap(), "free join once add_opt is ANY");
    assert_eq!(code(carol.sdk.join_group(g.clone(), String::new()).await), 10013);
    // The admin mutes an ordinary member: their messages are refused until unmuted.
    bob.gm().mute_group_member(g.clone(), "carol".into(), 60).await.unwrap();
    assert_eq!(code(carol.sdk.send_group_text_message("x".into(), g.clone(), 0).await), 10017);
    let info = alice.gm().group_members_info(g.clone(), vec!["carol".into()]).await.unwrap();
    assert!(info[0].mute_until > oxim_tests::unix_now() + 50);
    bob.gm().mute_group_member(g.clone(), "carol".into(), 0).await.unwrap();
    carol.sdk.send_group_text_message("x".into(), g.clone(), 0).await.unwrap();
    // Whole-group mute: members are silenced, the owner and admins are not.
    let all = GroupInfoChange { group_id: g.clone(), all_muted: Some(true), ..Default::default() };
    alice.gm().set_group_info(all).await.unwrap();
    assert_eq!(code(dave.sdk.send_group_text_message("x".into(), g.clone(), 0).await), 10017);
    bob.sdk.send_group_text_message("admin speaks".into(), g.clone(), 0).await.unwrap();
    // The admin kicks an ordinary member.
    bob.gm().kick_group_member(g.clone(), vec!["carol".into()], String::new()).await.unwrap();
    // Closing the group to applications.
    let closed = GroupInfoChange { group_id: g.clone(), add_opt: Some(add_opt::FORBID), ..Default::default() };
    alice.gm().set_group_info(closed).await.unwrap();
    assert_eq!(code(carol.sdk.join_group(g.clone(), String::new()).await), 10007);
    // Filters: owner, admins, ordinary members.
    let owner = alice.gm().group_member_list(g.clone(), member_filter::OWNER, 0).await.unwrap();
    let admins = alice.gm().group_member_list(g.clone(), member_filter::ADMIN, 0).await.unwrap();
    let common = alice.gm().group_member_list(g.clone(), member_filter::COMMON, 0).await.unwrap();
    assert_eq!(
        (ids(&owner.members), ids(&admins.members), ids(&common.members)),
        (vec!["alice".to_string()], vec!["bob".to_string()], vec!["dave".to_string()])
    );
    // The owner may not quit a Public group, only dismiss it (or transfer first).
    assert_eq!(code(alice.sdk.quit_group(g.clone()).await), 10009);
    assert_eq!(code(bob.sdk.dismiss_group(g.clone()).await), 10007);
    alice.sdk.dismiss_group(g.clone()).await.unwrap();
    for c in [bob, dave] {
        c.seen
            .wait_group(
                "onGroupDismissed",
                |e| matches!(e, GroupEvent::GroupDismissed { group_id, .. } if *group_id == g),
            )
            .await;
    }
    assert_eq!(code(alice.gm().group_member_list(g.clone(), 0, 0).await), 10010);
    assert_eq!(code(dave.sdk.send_group_text_message("x".into(), g.clone(), 0).await), 10010);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meeting_group_rules_and_history_before_joining() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob", "carol"]).await;
    let (alice, bob, carol) = (&u[0], &u[1], &u[2]);
    let g = alice.gm().create_group(creation(group_type::MEETING, "", &[])).await.unwrap();
    assert!(g.starts_with("@TGS#"), "{g}");
    for i in 0..3 {
        alice.sdk.send_group_text_message(format!("before {i}"), g.clone(), 0).await.unwrap();
    }
    // Free join, no approval; the joiner reads what was said before.
    assert!(bob.sdk.join_group(g.clone(), String::new()).await.unwrap());
    let history = bob.mm().get_group_history_message_list(g.clone(), 20, None).await.unwrap();
    let texts: Vec<String> = history
        .iter()
        .filter_map(|m| match &m.elem {
            oxim_core::Elem::Text { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["before 2", "before 1", "before 0"]);
    // Tips are not stored in a Meeting group's history (only callbacks, online).
    assert!(history.iter().all(|m| !matches!(m.elem, oxim_core::Elem::GroupTips { .. })));
    alice
        .seen
        .wait_group(
            "onMemberEnter bob",
            |e| matches!(e, GroupEvent::MemberEnter { members, .. } if members[0].user_id == "bob"),
        )
        .await;
    // Members do not invite; admins exist; the owner cannot quit.
    assert_eq!(code(bob.gm().invite_user_to_group(g.clone(), vec!["carol".into()]).await), 10007);
    alice.gm().set_group_member_role(g.clone(), "bob".into(), role::ADMIN).await.unwrap();
    assert_eq!(code(alice.sdk.quit_group(g.clone()).await), 10009);
    carol.sdk.join_group(g.clone(), String::new()).await.unwrap();
    bob.gm().kick_group_member(g.clone(), vec!["carol".into()], String::new()).await.unwrap();
    let joined = bob.gm().joined_group_list().await.unwrap();
    assert_eq!(joined.len(), 1);
    assert_eq!((joined[0].group_type.as_str(), joined[0].role), ("Meeting", role::ADMIN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn avchatroom_rules() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob", "carol"]).await;
    let (alice, bob, carol) = (&u[0], &u[1], &u[2]);
    carol.listen_advanced();
    // No initial members in a live room.
    assert_eq!(code(alice.gm().create_group(creation(group_type::AVCHATROOM, "live", &["bob"])).await), 10004);
    let g = alice.gm().create_group(creation(group_type::AVCHATROOM, "live", &[])).await.unwrap();
    bob.sdk.join_group(g.clone(), String::new()).await.unwrap();
    carol.sdk.join_group(g.clone(), String::new()).await.unwrap();
    // Never in the joined list.
    assert!(bob.gm().joined_group_list().await.unwrap().is_empty());
    assert_eq!(bob.gm().group_online_member_count(g.clone()).await.unwrap(), 3);
    // Messages reach whoever is in the room, online.
    bob.sdk.send_group_text_message("hello room".into(), g.clone(), 0).await.unwrap();
    carol
        .seen
        .wait_until("room text", |s| {
            s.iter().any(|x| matches!(x, Seen::New(m) if m.group_id == g && m.online_user_only))
        })
        .await;
    // ...and are stored nowhere: no history, not even on the sender's device.
    assert!(carol.mm().get_group_history_message_list(g.clone(), 20, None).await.unwrap_or_default().is_empty());
    let opt = HistoryOption {
        get_type: HistoryGetType::LocalOlder,
        user_id: String::new(),
        group_id: g.clone(),
        count: 20,
        last_msg: None,
        last_msg_seq: 0,
    };
    assert!(bob.mm().get_history_message_list(opt).await.unwrap().iter().all(|m| !m.is_self));
    // Only the owner edits the profile and mutes; nobody kicks or transfers; the owner stays.
    let change = GroupInfoChange { group_id: g.clone(), introduction: Some("x".into()), ..Default::default() };
    assert_eq!(code(bob.gm().set_group_info(change.clone()).await), 10007);
    alice.gm().set_group_info(change).await.unwrap();
    assert_eq!(code(alice.gm().kick_group_member(g.clone(), vec!["bob".into()], String::new()).await), 10007);
    assert_eq!(code(alice.gm().transfer_group_owner(g.clone(), "bob".into()).await), 10007);
    assert_eq!(code(bob.gm().mute_group_member(g.clone(), "carol".into(), 60).await), 10007);
    alice.gm().mute_group_member(g.clone(), "bob".into(), 60).await.unwrap();
    assert_eq!(code(bob.sdk.send_group_text_message("muted".into(), g.clone(), 0).await), 10017);
    assert_eq!(code(alice.sdk.quit_group(g.clone()).await), 10009);
    // Leaving the room: no more messages for carol.
    carol.sdk.quit_group(g.clone()).await.unwrap();
    assert_eq!(alice.gm().group_online_member_count(g.clone()).await.unwrap(), 2);
    assert_eq!(code(carol.sdk.send_group_text_message("x".into(), g.clone(), 0).await), 10007);
    alice.sdk.dismiss_group(g.clone()).await.unwrap();
    bob.seen.wait_group("room dismissed", |e| matches!(e, GroupEvent::GroupDismissed { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn member_limits_are_the_servers() {
    let server = TestServer::start_configured(|c| c.member_limits.work = 3).await;
    let u = users(&server, &["alice", "bob", "carol", "dave"]).await;
    assert_eq!(code(u[0].gm().create_group(creation(group_type::WORK, "big", &["bob", "carol", "dave"])).await), 10038);
    let g = u[0].gm().create_group(creation(group_type::WORK, "small", &["bob"])).await.unwrap();
    let r = u[0].gm().invite_user_to_group(g.clone(), vec!["carol".into(), "dave".into()]).await.unwrap();
    assert_eq!(r.iter().map(|r| r.result).collect::<Vec<_>>(), [1, 4], "the 4th member is over the limit");
    let info = u[0].gm().groups_info(vec![g]).await.unwrap().remove(0).info;
    assert_eq!((info.member_count, info.member_max_count), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_messages_flow_to_members_only_and_exactly_once() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob", "carol", "dave"]).await;
    let (alice, bob, carol, dave) = (&u[0], &u[1], &u[2], &u[3]);
    let g = alice.gm().create_group(creation(group_type::WORK, "chat", &["bob", "carol"])).await.unwrap();
    // The simple listener's group callbacks.
    let sent = alice.sdk.send_group_text_message("hi all".into(), g.clone(), 0).await.unwrap();
    assert!(sent.seq > 0);
    alice.sdk.send_group_custom_message(b"{}".to_vec(), g.clone(), 0).await.unwrap();
    for c in [bob, carol] {
        c.seen
            .wait_until("group text + custom", |s| {
                s.contains(&Seen::GroupText { group_id: g.clone(), from: "alice".into(), text: "hi all".into() })
                    && s.contains(&Seen::GroupCustom {
                        group_id: g.clone(),
                        from: "alice".into(),
                        data: b"{}".to_vec(),
                    })
            })
            .await;
    }
    // carol stops receiving (receive option 1): messages no longer reach her.
    carol.gm().set_receive_message_opt(g.clone(), 1).await.unwrap();
    let info = carol.gm().groups_info(vec![g.clone()]).await.unwrap().remove(0).info;
    assert_eq!(info.recv_opt, 1);
    // bob goes offline; messages wait for him on the server.
    bob.sdk.logout().await.unwrap();
    for i in 0..20 {
        alice.sdk.send_group_text_message(format!("m{i}"), g.clone(), 0).await.unwrap();
    }
    bob.login(&server, "bob").await;
    bob.seen.wait_until("20 more", |s| s.iter().filter(|x| matches!(x, Seen::GroupText { .. })).count() >= 21).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got: Vec<String> = bob
        .seen
        .all()
        .into_iter()
        .filter_map(|s| match s {
            Seen::GroupText { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = std::iter::once("hi all".to_string()).chain((0..20).map(|i| format!("m{i}"))).collect();
    assert_eq!(got, expected, "in order, each once");
    let carol_texts = carol.seen.all().iter().filter(|x| matches!(x, Seen::GroupText { .. })).count();
    assert_eq!(carol_texts, 1, "carol chose not to receive");
    // dave, outside, got nothing and can read nothing.
    assert!(!dave.seen.all().iter().any(|x| matches!(x, Seen::GroupText { .. })));
    assert_eq!(code(dave.mm().get_group_history_message_list(g.clone(), 10, None).await), 10007);
    // After being kicked, bob keeps what he had but receives nothing new.
    alice.gm().kick_group_member(g.clone(), vec!["bob".into()], String::new()).await.unwrap();
    bob.seen.wait_group("kicked", |e| matches!(e, GroupEvent::MemberKicked { .. })).await;
    alice.sdk.send_group_text_message("after kick".into(), g.clone(), 0).await.unwrap();
    carol.gm().set_receive_message_opt(g.clone(), 0).await.unwrap();
    alice.sdk.send_group_text_message("for carol".into(), g.clone(), 0).await.unwrap();
    carol
        .seen
        .wait_until("for carol", |s| s.iter().any(|x| matches!(x, Seen::GroupText { text, .. } if text == "for carol")))
        .await;
    assert!(
        !bob.seen
            .all()
            .iter()
            .any(|x| matches!(x, Seen::GroupText { text, .. } if text == "after kick" || text == "for carol"))
    );
    assert_eq!(code(bob.sdk.send_group_text_message("x".into(), g.clone(), 0).await), 10007);
    let bob_history = bob.mm().get_group_history_message_list(g.clone(), 50, None).await.unwrap();
    assert!(bob_history.iter().all(|m| !matches!(&m.elem, oxim_core::Elem::Text { text } if text == "after kick")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_group_input_gets_v2tim_codes() {
    let server = TestServer::start().await;
    let u = users(&server, &["alice", "bob"]).await;
    let gm = u[0].gm();
    assert_eq!(code(gm.create_group(creation(group_type::WORK, "@TGS#mine", &[])).await), 8501);
    assert_eq!(code(gm.create_group(creation(group_type::WORK, &"x".repeat(49), &[])).await), 8501);
    let mut long = creation(group_type::WORK, "g1", &[]);
    long.name = "n".repeat(31);
    assert_eq!(code(gm.create_group(long).await), 8502);
    let mut intro = creation(group_type::WORK, "g1", &[]);
    intro.introduction = "i".repeat(241);
    assert_eq!(code(gm.create_group(intro).await), 8503);
    assert_eq!(code(gm.create_group(creation("Private", "g1", &[])).await), 6017);
    assert_eq!(code(gm.create_group(creation(group_type::WORK, "g1", &["ghost"])).await), 10019);
    gm.create_group(creation(group_type::WORK, "g1", &[])).await.unwrap();
    assert_eq!(code(u[1].gm().create_group(creation(group_type::PUBLIC, "g1", &[])).await), 10021);
    assert_eq!(code(u[1].sdk.join_group("nope".into(), String::new()).await), 10010);
    assert_eq!(code(gm.invite_user_to_group("g1".into(), vec![]).await), 8510);
    let card = GroupMemberChange {
        group_id: "g1".into(),
        user_id: "alice".into(),
        name_card: Some("c".repeat(51)),
        custom_info: None,
    };
    assert_eq!(code(gm.set_group_member_info(card).await), 8506);
    let results = gm.groups_info(vec!["g1".into(), "nope".into()]).await.unwrap();
    assert_eq!(results.iter().map(|r| r.code).collect::<Vec<_>>(), [0, 10010]);
    // Nothing changed by the refusals.
    assert_eq!(member_ids(&u[0], "g1").await, ["alice"]);
    // Before login.
    let fresh = TestClient::new(&server, "ios").await;
    assert_eq!(code(fresh.sdk.create_group("Work".into(), None, "x".into()).await), 6014);
    assert_eq!(code(fresh.gm().joined_group_list().await), 6014);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn public_application_flow() {
    let server = TestServer::start().await;
    let u = users(&server, &["owner", "admin", "member", "applicant", "other"]).await;
    let (owner, admin, member, applicant, other) = (&u[0], &u[1], &u[2], &u[3], &u[4]);
    let g = owner.gm().create_group(creation(group_type::PUBLIC, "club", &["admin", "member"])).await.unwrap();
    owner.gm().set_group_member_role(g.clone(), "admin".into(), role::ADMIN).await.unwrap();

    assert!(!applicant.sdk.join_group(g.clone(), "please".into()).await.unwrap(), "an application, not a join");
    assert!(!other.sdk.join_group(g.clone(), "me too".into()).await.unwrap());
    // Owner and admins hear of applications; ordinary members do not.
    for c in [owner, admin] {
        c.seen
            .wait_group("onReceiveJoinApplication", |e| {
                matches!(e, GroupEvent::ReceiveJoinApplication { member, reason, .. } if member.user_id == "applicant" && reason == "please")
            })
            .await;
    }
    let list = admin.gm().group_application_list().await.unwrap();
    assert_eq!((list.unread_count, list.applications.len()), (2, 2));
    assert_eq!(code(member.gm().accept_group_application(list.applications[0].clone(), String::new()).await), 10007);
    admin.gm().set_group_application_read().await.unwrap();
    assert_eq!(admin.gm().group_application_list().await.unwrap().unread_count, 0);
    let app_of = |who: &str| list.applications.iter().find(|a| a.from_user == who).unwrap().clone();
    admin.gm().accept_group_application(app_of("applicant"), "welcome".into()).await.unwrap();
    owner.gm().refuse_group_application(app_of("other"), "full".into()).await.unwrap();
    // Handled once only.
    assert_eq!(code(owner.gm().accept_group_application(app_of("applicant"), String::new()).await), 10024);
    applicant
        .seen
        .wait_group("accepted", |e| matches!(e, GroupEvent::ApplicationProcessed { agreed: true, op_user, reason, .. } if op_user.user_id == "admin" && reason == "welcome"))
        .await;
    other.seen.wait_group("refused", |e| matches!(e, GroupEvent::ApplicationProcessed { agreed: false, .. })).await;
    // The accepted applicant entered: every member hears it, the applicant included.
    for c in [owner, admin, member, applicant] {
        c.seen
            .wait_group(
                "onMemberEnter",
                |e| matches!(e, GroupEvent::MemberEnter { members, .. } if members[0].user_id == "applicant"),
            )
            .await;
    }
    assert_eq!(member_ids(owner, &g).await, ["admin", "applicant", "member", "owner"]);
    let handled = owner.gm().group_application_list().await.unwrap();
    let statuses: Vec<(String, i32, i32)> =
        handled.applications.iter().map(|a| (a.from_user.clone(), a.handle_status, a.handle_result)).collect();
    assert!(statuses.contains(&("applicant".into(), 1, 1)), "{statuses:?}");
    assert!(statuses.contains(&("other".into(), 2, 0)), "{statuses:?}");
    // Nobody else heard about the applications.
    assert_eq!(member.seen.count_group(|e| matches!(e, GroupEvent::ReceiveJoinApplication { .. })), 0);
    assert_eq!(other.seen.count_group(|e| matches!(e, GroupEvent::MemberEnter { .. })), 0);
}

/// Every callback of V2TIM's group-listener table reaches exactly its recipients.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_callbacks_reach_exactly_their_recipients() {
    let server = TestServer::start().await;
    let names = ["owner", "admin", "m1", "m2", "joiner", "outsider"];
    let u = users(&server, &names).await;
    let by = |n: &str| &u[names.iter().position(|x| *x == n).unwrap()];
    let g = by("owner").gm().create_group(creation(group_type::PUBLIC, "room1", &["admin", "m1", "m2"])).await.unwrap();
    by("owner")
        .seen
        .wait_group("onGroupCreated", |e| matches!(e, GroupEvent::GroupCreated { group_id } if *group_id == g))
        .await;

    // Waits until exactly `expected` (and nobody else) got a callback matching `pred`, `times`
    // in all each.
    async fn exactly(
        u: &[TestClient],
        names: &[&str],
        expected: &[&str],
        what: &str,
        pred: impl Fn(&GroupEvent) -> bool + Copy,
    ) {
        for (c, n) in u.iter().zip(names) {
            if expected.contains(n) {
                c.seen.wait_group(&format!("{what} at {n}"), pred).await;
            }
        }
        // Let anything misdirected arrive before checking that it did not.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (c, n) in u.iter().zip(names) {
            let got = c.seen.count_group(pred);
            let want = usize::from(expected.contains(n));
            assert_eq!(got, want, "{what}: {n} got it {got} times");
        }
    }
    let members = ["owner", "admin", "m1", "m2"];

    by("owner").gm().set_group_member_role(g.clone(), "admin".into(), role::ADMIN).await.unwrap();
    exactly(
        &u,
        &names,
        &members,
        "onGrantAdministrator",
        |e| matches!(e, GroupEvent::GrantAdministrator { members, .. } if members[0].user_id == "admin"),
    )
    .await;

    let open = GroupInfoChange {
        group_id: g.clone(),
        add_opt: Some(add_opt::ANY),
        name: Some("Room".into()),
        ..Default::default()
    };
    by("admin").gm().set_group_info(open).await.unwrap();
    exactly(&u, &names, &members, "onGroupInfoChanged", |e| {
        matches!(e, GroupEvent::GroupInfoChanged { changes, .. } if changes.iter().any(|c| c.kind == info_change::NAME && c.value == "Room"))
    })
    .await;

    by("joiner").sdk.join_group(g.clone(), String::new()).await.unwrap();
    let with_joiner = ["owner", "admin", "m1", "m2", "joiner"];
    exactly(
        &u,
        &names,
        &with_joiner,
        "onMemberEnter",
        |e| matches!(e, GroupEvent::MemberEnter { members, .. } if members[0].user_id == "joiner"),
    )
    .await;

    by("admin").gm().mute_group_member(g.clone(), "m1".into(), 30).await.unwrap();
    exactly(&u, &names, &with_joiner, "onMemberInfoChanged", |e| {
        matches!(e, GroupEvent::MemberInfoChanged { changes, .. } if changes[0].user_id == "m1" && changes[0].mute_time == 30)
    })
    .await;

    by("owner").gm().kick_group_member(g.clone(), vec!["m2".into()], String::new()).await.unwrap();
    exactly(&u, &names, &with_joiner.iter().copied().chain(["m2"]).collect::<Vec<_>>(), "onMemberKicked", |e| {
        matches!(e, GroupEvent::MemberKicked { members, op_user, .. } if members[0].user_id == "m2" && op_user.user_id == "owner")
    })
    .await;

    by("joiner").sdk.quit_group(g.clone()).await.unwrap();
    exactly(
        &u,
        &names,
        &["owner", "admin", "m1"],
        "onMemberLeave",
        |e| matches!(e, GroupEvent::MemberLeave { member, .. } if member.user_id == "joiner"),
    )
    .await;
    exactly(&u, &names, &["joiner"], "onQuitFromGroup", |e| matches!(e, GroupEvent::QuitFromGroup { .. })).await;

    by("owner").gm().set_group_member_role(g.clone(), "admin".into(), role::MEMBER).await.unwrap();
    exactly(&u, &names, &["owner", "admin", "m1"], "onRevokeAdministrator", |e| {
        matches!(e, GroupEvent::RevokeAdministrator { .. })
    })
    .await;

    by("owner").gm().transfer_group_owner(g.clone(), "m1".into()).await.unwrap();
    exactly(&u, &names, &["owner", "admin", "m1"], "owner change", |e| {
        matches!(e, GroupEvent::GroupInfoChanged { changes, .. } if changes.iter().any(|c| c.kind == info_change::OWNER && c.value == "m1"))
    })
    .await;

    by("m1").sdk.dismiss_group(g.clone()).await.unwrap();
    exactly(
        &u,
        &names,
        &["owner", "admin", "m1"],
        "onGroupDismissed",
        |e| matches!(e, GroupEvent::GroupDismissed { op_user, .. } if op_user.user_id == "m1"),
    )
    .await;
    assert_eq!(by("outsider").seen.group_events(), vec![]);

    // Work: invitations reach every member, the inviter and the invited included.
    let w = by("owner").gm().create_group(creation(group_type::WORK, "w", &["m1"])).await.unwrap();
    by("m1").gm().invite_user_to_group(w.clone(), vec!["m2".into()]).await.unwrap();
    exactly(&u, &names, &["owner", "m1", "m2"], "onMemberInvited", |e| {
        matches!(e, GroupEvent::MemberInvited { op_user, members, .. } if op_user.user_id == "m1" && members[0].user_id == "m2")
    })
    .await;
    // Tips are messages in a Work group's history too.
    let history = by("m2").mm().get_group_history_message_list(w.clone(), 10, None).await.unwrap();
    assert!(
        matches!(&history[0].elem, oxim_core::Elem::GroupTips { tips } if tips.tip_type == oxim_core::group::tip_type::INVITE)
    );
}
