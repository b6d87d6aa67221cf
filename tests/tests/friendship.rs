//! The relationship chain end to end (seed004-B sections 2.3, 7.3-7.5): both add flows step by
//! step with every callback on both sides (and nobody else), accepting with AGREE and
//! AGREE_AND_ADD, refusing, deleting one way and both ways, the four relations, each blacklist
//! rule, both server options, the limits at their boundaries, and roaming to a new device.

use oxim_core::friendship::{
    FriendAddApplication, FriendApplication, FriendInfoChange, FriendshipEvent, accept_type, application_type,
    friend_type, relation,
};
use oxim_core::profile::allow_type;
use oxim_core::{Error, UserInfoChange};
use oxim_tests::{RawClient, TestClient, TestServer};
use serde_json::json;

async fn user(server: &TestServer, id: &str, allow: i32) -> TestClient {
    let c = TestClient::logged_in(server, id, "android").await;
    c.listen_friendship();
    c.sdk.set_self_info(UserInfoChange { allow_type: Some(allow), ..Default::default() }).await.unwrap();
    c.seen.wait_self_infos(1).await;
    c
}

/// Everything told to `c` before this call has arrived: `setSelfInfo` goes through the same
/// stream as the relationship events, after them (setting what is already set, so no friend of
/// `c` hears of a change).
async fn barrier(c: &TestClient) {
    let before = c.seen.self_infos().len();
    let me = c.sdk.get_users_info(vec![c.sdk.login_user()]).await.unwrap().remove(0);
    c.sdk.set_self_info(UserInfoChange { allow_type: Some(me.allow_type), ..Default::default() }).await.unwrap();
    c.seen.wait_self_infos(before + 1).await;
}

fn add(to: &str, add_type: i32) -> FriendAddApplication {
    FriendAddApplication { add_type, ..FriendAddApplication::new(to) }
}

fn ids(events: &[FriendshipEvent]) -> Vec<String> {
    events.iter().map(describe).collect()
}

/// A short form of a callback: `added:bob`, `apps+:bob/1`, ...
fn describe(e: &FriendshipEvent) -> String {
    match e {
        FriendshipEvent::FriendsAdded(v) => {
            format!("added:{}", v.iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>().join(","))
        }
        FriendshipEvent::FriendsDeleted(v) => format!("deleted:{}", v.join(",")),
        FriendshipEvent::FriendsChanged(v) => {
            format!("changed:{}", v.iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>().join(","))
        }
        FriendshipEvent::ApplicationsAdded(v) => {
            format!("apps+:{}", v.iter().map(|a| format!("{}/{}", a.user_id, a.app_type)).collect::<Vec<_>>().join(","))
        }
        FriendshipEvent::ApplicationsDeleted(v) => format!("apps-:{}", v.join(",")),
        FriendshipEvent::ApplicationsRead => "apps-read".into(),
        FriendshipEvent::BlackAdded(v) => {
            format!("black+:{}", v.iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>().join(","))
        }
        FriendshipEvent::BlackDeleted(v) => format!("black-:{}", v.join(",")),
    }
}

/// Waits for `c`'s callbacks to be exactly `expected` (a barrier proves nothing else came).
async fn told(c: &TestClient, expected: &[&str]) {
    c.seen.wait_friendship(expected.len()).await;
    barrier(c).await;
    assert_eq!(ids(&c.seen.friendship_events()), expected, "{:?}", c.sdk.login_user());
}

async fn relation_of(c: &TestClient, other: &str) -> i32 {
    c.fm().check_friend(vec![other.into()], friend_type::BOTH).await.unwrap()[0].result_type
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> i32 {
    r.expect_err("should be refused").code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flow_1_without_confirmation_both_and_single() {
    let server = TestServer::start().await;
    let a = user(&server, "a1", allow_type::NEED_CONFIRM).await;
    let b = user(&server, "b1", allow_type::ALLOW_ANY).await;
    let carol = user(&server, "c1", allow_type::ALLOW_ANY).await;

    // BOTH: added at once, both hear onFriendListAdded.
    let res =
        a.fm().add_friend(FriendAddApplication { friend_remark: "Bee".into(), ..add("b1", friend_type::BOTH) }).await;
    assert_eq!(res.unwrap().result_code, 0);
    told(&a, &["added:b1"]).await;
    told(&b, &["added:a1"]).await;
    let mine = a.fm().get_friend_list().await.unwrap();
    assert_eq!((mine[0].user_id.as_str(), mine[0].friend_remark.as_str()), ("b1", "Bee"));
    assert_eq!(relation_of(&a, "b1").await, relation::BOTH_WAY);

    // SINGLE: only the adder hears it; carol's list is unchanged.
    assert_eq!(a.fm().add_friend(add("c1", friend_type::SINGLE)).await.unwrap().result_code, 0);
    told(&a, &["added:b1", "added:c1"]).await;
    told(&carol, &[]).await;
    assert_eq!(relation_of(&a, "c1").await, relation::IN_MY_FRIEND_LIST);
    assert_eq!(relation_of(&carol, "a1").await, relation::IN_OTHER_FRIEND_LIST);
    assert!(carol.fm().get_friend_list().await.unwrap().is_empty());
    // Adding again: already a friend.
    assert_eq!(a.fm().add_friend(add("c1", friend_type::SINGLE)).await.unwrap().result_code, 30001);
    told(&b, &["added:a1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flow_2_with_confirmation_agree_agree_and_add_and_refuse() {
    let server = TestServer::start().await;
    let a = user(&server, "a2", allow_type::NEED_CONFIRM).await;
    let b = user(&server, "b2", allow_type::NEED_CONFIRM).await;
    let bystander = user(&server, "x2", allow_type::NEED_CONFIRM).await;

    // 30539 inside a successful addFriend; both hear of the application.
    let req = FriendAddApplication {
        add_wording: "hi, it's A".into(),
        add_source: "AddSource_Type_search".into(),
        friend_remark: "B".into(),
        ..add("b2", friend_type::BOTH)
    };
    let res = a.fm().add_friend(req).await.unwrap();
    assert_eq!((res.user_id.as_str(), res.result_code), ("b2", 30539));
    told(&a, &[&format!("apps+:b2/{}", application_type::SEND_OUT)]).await;
    told(&b, &[&format!("apps+:a2/{}", application_type::COME_IN)]).await;
    let apps = b.fm().get_friend_application_list().await.unwrap();
    assert_eq!(apps.unread_count, 1);
    let app: FriendApplication = apps.application_list[0].clone();
    assert_eq!((app.user_id.as_str(), app.app_type), ("a2", application_type::COME_IN));
    assert_eq!((app.add_wording.as_str(), app.add_source.as_str()), ("hi, it's A", "AddSource_Type_search"));
    assert_eq!(a.fm().get_friend_application_list().await.unwrap().application_list[0].app_type, 2);
    assert_eq!(relation_of(&a, "b2").await, relation::NONE);

    // AGREE: B enters A's list, A does not enter B's.
    b.fm().accept_friend_application(app.clone(), accept_type::AGREE).await.unwrap();
    told(&a, &["apps+:b2/2", "added:b2"]).await;
    told(&b, &["apps+:a2/1", "apps-:a2"]).await;
    assert_eq!(relation_of(&a, "b2").await, relation::IN_MY_FRIEND_LIST);
    assert_eq!(a.fm().get_friend_list().await.unwrap()[0].friend_remark, "B", "the remark A asked for");
    assert!(b.fm().get_friend_application_list().await.unwrap().application_list.is_empty());
    // Accepting again: no such application.
    assert_eq!(b.fm().accept_friend_application(app, accept_type::AGREE).await.unwrap().result_code, 30614);

    // B asks A back; A accepts with AGREE_AND_ADD: both hear onFriendListAdded (B: A enters
    // B's list; A: already had B, nothing new for A's list).
    let x = user(&server, "y2", allow_type::NEED_CONFIRM).await;
    assert_eq!(x.fm().add_friend(add("a2", friend_type::BOTH)).await.unwrap().result_code, 30539);
    let app = a.fm().get_friend_application_list().await.unwrap().application_list[0].clone();
    a.fm().accept_friend_application(app, accept_type::AGREE_AND_ADD).await.unwrap();
    told(&x, &["apps+:a2/2", "added:a2"]).await;
    told(&a, &["apps+:b2/2", "added:b2", "apps+:y2/1", "apps-:y2", "added:y2"]).await;
    assert_eq!(relation_of(&a, "y2").await, relation::BOTH_WAY);

    // Refuse: both hear onFriendApplicationListDeleted.
    assert_eq!(bystander.fm().add_friend(add("a2", friend_type::SINGLE)).await.unwrap().result_code, 30539);
    let app = a.fm().get_friend_application_list().await.unwrap().application_list[0].clone();
    assert_eq!(a.fm().refuse_friend_application(app).await.unwrap().result_code, 0);
    told(&bystander, &["apps+:a2/2", "apps-:a2"]).await;
    told(&a, &["apps+:b2/2", "added:b2", "apps+:y2/1", "apps-:y2", "added:y2", "apps+:x2/1", "apps-:x2"]).await;
    assert_eq!(relation_of(&a, "x2").await, relation::NONE);

    // DENY_ANY refuses outright.
    bystander
        .sdk
        .set_self_info(UserInfoChange { allow_type: Some(allow_type::DENY_ANY), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(b.fm().add_friend(add("x2", friend_type::BOTH)).await.unwrap().result_code, 30516);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_single_and_both_and_the_four_relations() {
    let server = TestServer::start().await;
    let a = user(&server, "a3", allow_type::ALLOW_ANY).await;
    let b = user(&server, "b3", allow_type::ALLOW_ANY).await;
    let c = user(&server, "c3", allow_type::ALLOW_ANY).await;
    a.fm().add_friend(add("b3", friend_type::BOTH)).await.unwrap();
    a.fm().add_friend(add("c3", friend_type::BOTH)).await.unwrap();
    // The four relations, from a's side of things.
    let d = user(&server, "d3", allow_type::ALLOW_ANY).await;
    d.fm().add_friend(add("a3", friend_type::SINGLE)).await.unwrap();
    let e = user(&server, "e3", allow_type::ALLOW_ANY).await;
    a.fm().add_friend(add("e3", friend_type::SINGLE)).await.unwrap();
    let checked = a.fm().check_friend(vec!["b3".into(), "d3".into(), "e3".into(), "f3".into()], 2).await.unwrap();
    let kinds: Vec<i32> = checked.iter().map(|r| r.result_type).collect();
    assert_eq!(
        kinds,
        [relation::BOTH_WAY, relation::IN_OTHER_FRIEND_LIST, relation::IN_MY_FRIEND_LIST, relation::NONE]
    );
    // SINGLE checks look at my list only.
    let single = a.fm().check_friend(vec!["b3".into(), "d3".into()], friend_type::SINGLE).await.unwrap();
    assert_eq!((single[0].result_type, single[1].result_type), (relation::IN_MY_FRIEND_LIST, relation::NONE));
    let infos = a.fm().get_friends_info(vec!["d3".into(), "nobody3".into()]).await.unwrap();
    assert_eq!((infos[0].relation, infos[0].result_code), (relation::IN_OTHER_FRIEND_LIST, 0));
    assert_eq!(infos[1].result_code, 30003);

    // SINGLE delete: b leaves a's list, a stays in b's; only a hears it.
    let r = a.fm().delete_from_friend_list(vec!["b3".into()], friend_type::SINGLE).await.unwrap();
    assert_eq!(r[0].result_code, 0);
    told(&a, &["added:b3", "added:c3", "added:e3", "deleted:b3"]).await;
    told(&b, &["added:a3"]).await;
    assert_eq!(relation_of(&b, "a3").await, relation::IN_MY_FRIEND_LIST);
    // BOTH delete: both lists, both hear it.
    a.fm().delete_from_friend_list(vec!["c3".into()], friend_type::BOTH).await.unwrap();
    told(&c, &["added:a3", "deleted:a3"]).await;
    assert_eq!(relation_of(&a, "c3").await, relation::NONE);
    // Not a friend (any more).
    let r = a.fm().delete_from_friend_list(vec!["c3".into()], friend_type::SINGLE).await.unwrap();
    assert_eq!(r[0].result_code, 31704);
    told(&d, &["added:a3"]).await;
    told(&e, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_blacklist_ends_friendships_silences_the_blocked_and_stops_requests() {
    let server = TestServer::start().await;
    let a = user(&server, "a4", allow_type::ALLOW_ANY).await;
    let b = user(&server, "b4", allow_type::ALLOW_ANY).await;
    a.fm().add_friend(add("b4", friend_type::BOTH)).await.unwrap();
    told(&b, &["added:a4"]).await;

    // Blocking a friend ends the friendship both ways.
    let r = a.fm().add_to_black_list(vec!["b4".into()]).await.unwrap();
    assert_eq!(r[0].result_code, 0);
    told(&a, &["added:b4", "black+:b4", "deleted:b4"]).await;
    told(&b, &["added:a4", "deleted:a4"]).await;
    assert_eq!(relation_of(&a, "b4").await, relation::NONE);
    assert_eq!(a.fm().get_black_list().await.unwrap()[0].user_id, "b4");

    // Neither may ask the other for friendship.
    assert_eq!(a.fm().add_friend(add("b4", friend_type::BOTH)).await.unwrap().result_code, 30515);
    assert_eq!(b.fm().add_friend(add("a4", friend_type::BOTH)).await.unwrap().result_code, 30525);

    // The blocked user's message looks sent and never arrives; the blocker still reaches them.
    let sent = b.sdk.send_c2c_text_message("let me in".into(), "a4".into()).await.unwrap();
    assert_eq!(sent.seq, 0, "nothing stored");
    a.sdk.send_c2c_text_message("no".into(), "b4".into()).await.unwrap();
    b.seen.wait_texts(1).await;
    let mut raw = RawClient::connect(&server).await;
    raw.login(&server, "a4").await;
    let history = raw.call("msg.history", json!({"conv_id": "c2c_b4", "before_seq": 0, "limit": 20})).await;
    let msgs = history["body"]["msgs"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 1, "{history}");
    assert_eq!(msgs[0]["sender"], "a4");

    // Unblocking: B reaches A again.
    a.fm().delete_from_black_list(vec!["b4".into()]).await.unwrap();
    told(&a, &["added:b4", "black+:b4", "deleted:b4", "black-:b4"]).await;
    let sent = b.sdk.send_c2c_text_message("thanks".into(), "a4".into()).await.unwrap();
    assert!(sent.seq > 0);
    a.seen.wait_texts(1).await;
    assert!(a.fm().get_black_list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_options_tell_blocked_senders_and_let_only_friends_talk() {
    let server = TestServer::start_configured(|c| {
        c.friendship.send.tell_blocked = true;
        c.friendship.send.only_friends = true;
    })
    .await;
    let a = user(&server, "a5", allow_type::ALLOW_ANY).await;
    let b = user(&server, "b5", allow_type::ALLOW_ANY).await;
    // Not friends: 20009 both ways.
    assert_eq!(code(b.sdk.send_c2c_text_message("hi".into(), "a5".into()).await), 20009);
    a.fm().add_friend(add("b5", friend_type::SINGLE)).await.unwrap();
    assert_eq!(code(a.sdk.send_c2c_text_message("hi".into(), "b5".into()).await), 20009, "one way is not enough");
    a.fm().add_friend(add("b5", friend_type::BOTH)).await.unwrap();
    b.sdk.send_c2c_text_message("hi".into(), "a5".into()).await.unwrap();
    a.seen.wait_texts(1).await;
    // Blocked, and told so.
    a.fm().add_to_black_list(vec!["b5".into()]).await.unwrap();
    assert_eq!(code(b.sdk.send_c2c_text_message("again".into(), "a5".into()).await), 20007);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_at_their_boundaries() {
    let server = TestServer::start_configured(|c| {
        c.friendship.max_friends = 2;
        c.friendship.max_blacklist = 1;
    })
    .await;
    let a = user(&server, "a6", allow_type::ALLOW_ANY).await;
    for u in ["b6", "c6", "d6"] {
        user(&server, u, allow_type::ALLOW_ANY).await;
    }
    let fm = a.fm();
    // SDK checks (V2TIM's 90xx).
    let with = |f: fn(&mut FriendAddApplication)| {
        let mut app = add("b6", friend_type::SINGLE);
        f(&mut app);
        app
    };
    assert_eq!(code(fm.add_friend(with(|a| a.friend_remark = "r".repeat(97))).await), 9002);
    assert_eq!(code(fm.add_friend(with(|a| a.add_wording = "w".repeat(121))).await), 9003);
    assert_eq!(code(fm.add_friend(with(|a| a.add_source = "AddSource_Type_123456789".into())).await), 9004);
    assert_eq!(code(fm.add_friend(with(|a| a.add_source = "Android".into())).await), 9004);
    assert_eq!(code(fm.add_friend(with(|a| a.friend_group = "g".repeat(31))).await), 9005);
    let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
    assert_eq!(code(fm.check_friend(ids(101), 2).await), 9006);
    assert_eq!(fm.check_friend(ids(100), 2).await.unwrap().len(), 100);
    // At the limits: accepted.
    let full = FriendAddApplication {
        friend_remark: "r".repeat(96),
        add_wording: "w".repeat(120),
        add_source: "AddSource_Type_12345678".into(),
        friend_group: "g".repeat(30),
        ..add("b6", friend_type::SINGLE)
    };
    assert_eq!(fm.add_friend(full).await.unwrap().result_code, 0);
    let b6 = &fm.get_friend_list().await.unwrap()[0];
    assert_eq!((b6.friend_remark.len(), b6.friend_groups.clone()), (96, vec!["g".repeat(30)]));
    // Friend list limit (2 here): mine, then the peer's.
    assert_eq!(fm.add_friend(add("c6", friend_type::SINGLE)).await.unwrap().result_code, 0);
    assert_eq!(fm.add_friend(add("d6", friend_type::SINGLE)).await.unwrap().result_code, 30010);
    let d = TestClient::logged_in(&server, "d6", "ios").await;
    assert_eq!(d.fm().add_friend(add("a6", friend_type::BOTH)).await.unwrap().result_code, 30014);
    // Blacklist limit (1 here).
    assert_eq!(fm.add_to_black_list(vec!["d6".into()]).await.unwrap()[0].result_code, 0);
    assert_eq!(fm.add_to_black_list(vec!["c6".into()]).await.unwrap()[0].result_code, 30013);
    // Friend groups: 32 at most (one exists already).
    for i in 1..32 {
        fm.create_friend_group(format!("group{i}"), vec![]).await.unwrap();
    }
    assert_eq!(fm.get_friend_groups(vec![]).await.unwrap().len(), 32);
    assert_eq!(code(fm.create_friend_group("one too many".into(), vec![]).await), 30011);
    assert_eq!(code(fm.create_friend_group("group1".into(), vec![]).await), 30001, "exists");
    assert_eq!(code(fm.create_friend_group(String::new(), vec![]).await), 9005);
    // Custom friend fields: as profiles' (9001).
    let bad = FriendInfoChange {
        user_id: "c6".into(),
        friend_custom_info: Some([("key1".to_string(), "v".to_string())].into()),
        ..Default::default()
    };
    assert_eq!(code(fm.set_friend_info(bad).await), 9001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn friend_groups_friend_info_and_profile_changes_are_told_to_the_owner() {
    let server = TestServer::start().await;
    let a = user(&server, "a7", allow_type::ALLOW_ANY).await;
    let b = user(&server, "b7", allow_type::ALLOW_ANY).await;
    a.fm().add_friend(add("b7", friend_type::BOTH)).await.unwrap();
    let fm = a.fm();
    let r = fm.create_friend_group("work".into(), vec!["b7".into(), "nobody7".into()]).await.unwrap();
    assert_eq!((r[0].result_code, r[1].result_code), (0, 30001));
    told(&a, &["added:b7", "changed:b7"]).await;
    fm.rename_friend_group("work".into(), "office".into()).await.unwrap();
    let groups = fm.get_friend_groups(vec![]).await.unwrap();
    assert_eq!(
        (groups[0].name.as_str(), groups[0].friend_count, groups[0].friend_list.clone()),
        ("office", 1, vec!["b7".to_string()])
    );
    fm.delete_friends_from_friend_group("office".into(), vec!["b7".into()]).await.unwrap();
    fm.add_friends_to_friend_group("office".into(), vec!["b7".into()]).await.unwrap();
    fm.delete_friend_group(vec!["office".into()]).await.unwrap();
    assert!(fm.get_friend_groups(vec![]).await.unwrap().is_empty());
    assert_eq!(code(fm.rename_friend_group("office".into(), "x".into()).await), 30001);
    told(&a, &["added:b7", "changed:b7", "changed:b7", "changed:b7", "changed:b7", "changed:b7"]).await;

    let change = FriendInfoChange {
        user_id: "b7".into(),
        friend_remark: Some("Bob".into()),
        friend_custom_info: Some([("Tag".to_string(), "x".to_string())].into()),
    };
    fm.set_friend_info(change).await.unwrap();
    // B changes their profile: A (who has B as a friend) hears of it.
    b.sdk.set_self_info(UserInfoChange { nick_name: Some("Bobby".into()), ..Default::default() }).await.unwrap();
    a.seen.wait_friendship(8).await;
    let events = a.seen.friendship_events();
    let FriendshipEvent::FriendsChanged(last) = &events[7] else { panic!("{events:?}") };
    assert_eq!(last[0].user_full_info.nick_name, "Bobby");
    assert_eq!(last[0].friend_remark, "Bob");
    assert_eq!(last[0].friend_custom_info.get("Tag").map(String::as_str), Some("x"));
    // B's list holds A; B is told nothing of A's entries.
    told(&b, &["added:a7"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn friend_data_roams_to_a_new_device_which_hears_only_of_later_changes() {
    let server = TestServer::start().await;
    let a = user(&server, "a8", allow_type::NEED_CONFIRM).await;
    let b = user(&server, "b8", allow_type::ALLOW_ANY).await;
    let c = user(&server, "c8", allow_type::ALLOW_ANY).await;
    let d = user(&server, "d8", allow_type::ALLOW_ANY).await;
    a.fm()
        .add_friend(FriendAddApplication { friend_group: "best".into(), ..add("b8", friend_type::BOTH) })
        .await
        .unwrap();
    a.fm().add_to_black_list(vec!["c8".into()]).await.unwrap();
    d.fm().add_friend(add("a8", friend_type::BOTH)).await.unwrap();
    told(&a, &["added:b8", "black+:c8", "apps+:d8/1"]).await;

    let tablet = TestClient::logged_in(&server, "a8", "ipad").await;
    tablet.listen_friendship();
    let fm = tablet.fm();
    assert_eq!(fm.get_friend_list().await.unwrap().iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>(), ["b8"]);
    assert_eq!(fm.get_black_list().await.unwrap()[0].user_id, "c8");
    let apps = fm.get_friend_application_list().await.unwrap();
    assert_eq!((apps.unread_count, apps.application_list[0].user_id.as_str()), (1, "d8"));
    assert_eq!(fm.get_friend_groups(vec!["best".into()]).await.unwrap()[0].friend_list, vec!["b8".to_string()]);

    // Marking read on the tablet reaches the phone; the tablet hears only that.
    fm.set_friend_application_read().await.unwrap();
    assert_eq!(fm.get_friend_application_list().await.unwrap().unread_count, 0);
    told(&a, &["added:b8", "black+:c8", "apps+:d8/1", "apps-read"]).await;
    told(&tablet, &["apps-read"]).await;
    told(&b, &["added:a8"]).await;
    told(&c, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_blacklist_still_holds_after_a_server_restart() {
    let mut server = TestServer::start().await;
    {
        let a = user(&server, "a9", allow_type::ALLOW_ANY).await;
        user(&server, "b9", allow_type::ALLOW_ANY).await;
        assert_eq!(a.fm().add_to_black_list(vec!["b9".into()]).await.unwrap()[0].result_code, 0);
    }
    server.stop().await;
    server.start_again().await;
    let b = TestClient::logged_in(&server, "b9", "android").await;
    let sent = b.sdk.send_c2c_text_message("still there?".into(), "a9".into()).await.unwrap();
    assert_eq!(sent.seq, 0, "the blacklist was loaded again: nothing stored");
    let mut raw = RawClient::connect(&server).await;
    raw.login(&server, "a9").await;
    let history = raw.call("msg.history", json!({"conv_id": "c2c_b9", "before_seq": 0, "limit": 20})).await;
    assert_eq!(history["body"]["msgs"].as_array().map_or(0, Vec::len), 0, "{history}");
}
