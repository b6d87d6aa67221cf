//! Profiles end to end: `setSelfInfo` reaches every device of the user as `onSelfInfoUpdated`
//! (and nobody else), `getUsersInfo` reads anyone's profile, partial changes and custom fields,
//! every limit at its boundary with V2TIM's codes from the SDK and from the server, and a new
//! device that finds the profile without hearing of old changes.

use std::collections::BTreeMap;

use oxim_core::profile::{allow_type, gender};
use oxim_core::{UserFullInfo, UserInfoChange};
use oxim_tests::{RawClient, TestClient, TestServer};
use serde_json::json;

fn custom(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn code<T: std::fmt::Debug>(r: Result<T, oxim_core::Error>) -> i32 {
    r.expect_err("should be refused").code
}

async fn profile(c: &TestClient, user: &str) -> UserFullInfo {
    c.sdk.get_users_info(vec![user.into()]).await.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_self_info_reaches_every_device_of_the_user_and_nobody_else() {
    let server = TestServer::start().await;
    let phone = TestClient::logged_in(&server, "alice", "android").await;
    let laptop = TestClient::logged_in(&server, "alice", "linux").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;

    // Nobody set anything yet: V2TIM's defaults (friend requests need confirmation).
    let fresh = profile(&bob, "alice").await;
    assert_eq!(fresh.user_id, "alice");
    assert_eq!((fresh.nick_name.as_str(), fresh.allow_type, fresh.gender), ("", allow_type::NEED_CONFIRM, 0));

    let change = UserInfoChange {
        nick_name: Some("Alice".into()),
        face_url: Some("https://example.com/a.png".into()),
        self_signature: Some("hello".into()),
        gender: Some(gender::FEMALE),
        role: Some(7),
        level: Some(3),
        birthday: Some(20000101),
        allow_type: Some(allow_type::ALLOW_ANY),
        custom_info: custom(&[("Blood", "A"), ("City", "Paris")]),
    };
    let after = phone.sdk.set_self_info(change).await.unwrap();
    assert_eq!(after.nick_name, "Alice");

    // Both of Alice's devices hear it, the one that made the change included, with the whole
    // profile.
    for device in [&phone, &laptop] {
        let told = device.seen.wait_self_infos(1).await;
        assert_eq!(told, vec![after.clone()]);
        let p = &told[0];
        assert_eq!((p.face_url.as_str(), p.self_signature.as_str()), ("https://example.com/a.png", "hello"));
        assert_eq!((p.gender, p.role, p.level, p.birthday), (gender::FEMALE, 7, 3, 20000101));
        assert_eq!(p.allow_type, allow_type::ALLOW_ANY);
        assert_eq!(p.custom_info, custom(&[("Blood", "A"), ("City", "Paris")]).unwrap());
    }

    // Anyone reads it; the order asked is kept and users that do not exist are left out.
    let read = bob.sdk.get_users_info(vec!["nobody".into(), "alice".into(), "bob".into()]).await.unwrap();
    assert_eq!(read.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    assert_eq!(read[0], after);

    // Bob is not told of Alice's change: his own change is the first he hears of.
    bob.sdk.set_self_info(UserInfoChange { nick_name: Some("Bob".into()), ..Default::default() }).await.unwrap();
    let bobs = bob.seen.wait_self_infos(1).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!((bobs[0].user_id.as_str(), bobs[0].nick_name.as_str()), ("bob", "Bob"));
    assert_eq!(phone.seen.self_infos().len(), 1, "Alice hears nothing of Bob's change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_sets_only_its_fields_and_custom_fields_merge() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    alice
        .sdk
        .set_self_info(UserInfoChange {
            nick_name: Some("Alice".into()),
            level: Some(5),
            custom_info: custom(&[("a", "1"), ("b", "2")]),
            ..Default::default()
        })
        .await
        .unwrap();
    let after = alice
        .sdk
        .set_self_info(UserInfoChange {
            self_signature: Some("sig".into()),
            custom_info: custom(&[("a", ""), ("c", "3")]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((after.nick_name.as_str(), after.level, after.self_signature.as_str()), ("Alice", 5, "sig"));
    assert_eq!(after.custom_info, custom(&[("b", "2"), ("c", "3")]).unwrap(), "an empty value removes a field");
    assert_eq!(profile(&alice, "alice").await, after);
    let told = alice.seen.wait_self_infos(2).await;
    assert_eq!(told[1], after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_limit_at_its_boundary() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let set = |c: UserInfoChange| alice.sdk.set_self_info(c);

    // Standard fields: 500 bytes (the server's 40601 above).
    set(UserInfoChange { nick_name: Some("n".repeat(500)), ..Default::default() }).await.unwrap();
    assert_eq!(code(set(UserInfoChange { nick_name: Some("n".repeat(501)), ..Default::default() }).await), 40601);
    assert_eq!(code(set(UserInfoChange { face_url: Some("f".repeat(501)), ..Default::default() }).await), 40601);
    assert_eq!(code(set(UserInfoChange { self_signature: Some("s".repeat(501)), ..Default::default() }).await), 40601);
    // Custom fields, checked by the SDK as V2TIM's does (9001): 1-8 letters, 500 bytes, 20 keys.
    set(UserInfoChange { custom_info: custom(&[("abcdefgh", &"v".repeat(500))]), ..Default::default() }).await.unwrap();
    for bad in ["abcdefghi", "key1", "Tag_Key", ""] {
        assert_eq!(code(set(UserInfoChange { custom_info: custom(&[(bad, "v")]), ..Default::default() }).await), 9001);
    }
    assert_eq!(
        code(set(UserInfoChange { custom_info: custom(&[("k", &"v".repeat(501))]), ..Default::default() }).await),
        9001
    );
    let keys = |n: usize| -> Option<BTreeMap<String, String>> {
        let key = |i: usize| format!("{}{}", char::from(b'a' + (i / 26) as u8), char::from(b'a' + (i % 26) as u8));
        Some((0..n).map(|i| (key(i), "v".to_string())).collect())
    };
    assert_eq!(code(set(UserInfoChange { custom_info: keys(21), ..Default::default() }).await), 9001);
    // 20 stored keys are the most: one more key, set alone, is refused by the server.
    set(UserInfoChange { custom_info: keys(19), ..Default::default() }).await.unwrap();
    assert_eq!(profile(&alice, "alice").await.custom_info.len(), 20, "abcdefgh and 19 more");
    assert_eq!(code(set(UserInfoChange { custom_info: custom(&[("zz", "v")]), ..Default::default() }).await), 40001);
    // Nothing to change.
    assert_eq!(code(set(UserInfoChange::default()).await), 6017);
    // getUsersInfo: 1 to 100 users.
    let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
    assert!(alice.sdk.get_users_info(ids(100)).await.unwrap().is_empty());
    assert_eq!(code(alice.sdk.get_users_info(ids(101)).await), 9006);
    assert_eq!(code(alice.sdk.get_users_info(vec![]).await), 6017);
    // Nothing refused changed anything.
    let p = profile(&alice, "alice").await;
    assert_eq!(p.nick_name, "n".repeat(500));
    assert!(!p.custom_info.contains_key("zz"));
    assert_eq!(alice.seen.wait_self_infos(3).await.len(), 3, "one callback per accepted change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_checks_what_the_sdk_would_have_refused() {
    let server = TestServer::start().await;
    let mut raw = RawClient::connect(&server).await;
    raw.login(&server, "mallory").await;
    let cases = [
        (json!({"gender": 3}), 40605),
        (json!({"allow_type": 7}), 40605),
        (json!({"custom_info": {"bad key": "v"}}), 40001),
        (json!({"custom_info": {"k": "v".repeat(501)}}), 40601),
        (json!({}), 40001),
    ];
    for (body, expected) in cases {
        let res = raw.call("profile.set", body.clone()).await;
        assert_eq!(res["code"], expected, "{body}: {res}");
    }
    let res = raw.call("profile.get", json!({"user_ids": []})).await;
    assert_eq!(res["code"], 40001, "{res}");
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let res = raw.call("profile.get", json!({ "user_ids": too_many })).await;
    assert_eq!(res["code"], 40001, "{res}");
    let res = raw.call("profile.get", json!({"user_ids": ["mallory"]})).await;
    assert_eq!(res["body"]["profiles"][0]["allow_type"], 1, "{res}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_device_finds_the_profile_and_hears_only_of_later_changes() {
    let server = TestServer::start().await;
    let phone = TestClient::logged_in(&server, "alice", "android").await;
    phone.sdk.set_self_info(UserInfoChange { nick_name: Some("Alice".into()), ..Default::default() }).await.unwrap();
    phone.seen.wait_self_infos(1).await;

    let tablet = TestClient::logged_in(&server, "alice", "ipad").await;
    assert_eq!(profile(&tablet, "alice").await.nick_name, "Alice", "the profile roams");
    phone.sdk.set_self_info(UserInfoChange { level: Some(9), ..Default::default() }).await.unwrap();
    let told = tablet.seen.wait_self_infos(1).await;
    assert_eq!(told.len(), 1, "the change made before the device existed is history, not news");
    assert_eq!((told[0].nick_name.as_str(), told[0].level), ("Alice", 9));
}
