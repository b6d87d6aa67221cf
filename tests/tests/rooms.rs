//! AVChatRoom: a broadcast reaches 1,000 members and nothing is stored; the message rate keeps
//! high-priority messages and refuses low-priority ones first; a member who reconnects is back
//! in the room.

use std::time::Duration;

use oxim_core::group::{GroupCreation, GroupEvent, group_type};
use oxim_core::priority;
use oxim_tests::{RawClient, Seen, TestClient, TestServer};
use serde_json::json;

fn room(id: &str) -> GroupCreation {
    GroupCreation {
        group_type: group_type::AVCHATROOM.into(),
        group_id: id.into(),
        name: id.into(),
        ..Default::default()
    }
}

/// Stored messages of a group, read straight from the server's database.
fn stored_group_messages(server: &TestServer, group: &str) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("oxim.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT count(*) FROM msg WHERE conv_key = ?1", [format!("group:{group}")], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_members_receive_a_broadcast_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let host = TestClient::logged_in(&server, "host", "android").await;
    let fans: Vec<TestClient> =
        futures_util::future::join_all(["fan-a", "fan-b"].iter().map(|u| TestClient::logged_in(&server, u, "android")))
            .await;
    let g = host.gm().create_group(room("stage")).await.unwrap();
    for f in &fans {
        f.listen_advanced();
        f.sdk.join_group(g.clone(), String::new()).await.unwrap();
    }
    // 997 more members on raw connections (one SDK instance each would test the test machine).
    let mut crowd = Vec::new();
    for chunk in (0..997).collect::<Vec<_>>().chunks(100) {
        let joined = futures_util::future::join_all(chunk.iter().map(|i| {
            let (server, g) = (&server, g.clone());
            async move {
                let mut c = RawClient::connect(server).await;
                c.login(server, &format!("viewer{i}")).await;
                let res = c.call("group.join", json!({"group_id": g})).await;
                assert_eq!(res["code"], 0, "{res}");
                c
            }
        }))
        .await;
        crowd.extend(joined);
    }
    assert_eq!(host.gm().group_online_member_count(g.clone()).await.unwrap(), 1000);

    host.sdk.send_group_text_message("welcome, everyone".into(), g.clone(), priority::HIGH).await.unwrap();
    let received = futures_util::future::join_all(crowd.into_iter().map(|mut c| async move {
        loop {
            let Some(push) = c.next_push(oxim_tests::WAIT).await else { return false };
            if push["op"] == "msg" && push["body"]["elem"]["text"] == "welcome, everyone" {
                return push["body"]["seq"] == 0 || push["body"].get("seq").is_none();
            }
        }
    }))
    .await;
    assert_eq!(received.iter().filter(|ok| **ok).count(), 997, "every raw member got it, unstored (seq 0)");
    for f in &fans {
        f.seen
            .wait_until("the broadcast", |s| {
                s.iter().any(|x| matches!(x, Seen::New(m) if m.group_id == g && m.online_user_only))
            })
            .await;
    }
    // Nothing of it is stored: not on the server, not in the sender's local history.
    assert_eq!(stored_group_messages(&server, &g), 0);
    assert_eq!(host.sdk.local_message_count(format!("group_{g}")).await.unwrap(), 0);
    assert!(fans[0].mm().get_group_history_message_list(g.clone(), 10, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_refuses_low_priority_first() {
    // 40 messages per window, as V2TIM's 40 per second; a long window so timing cannot blur it.
    let window = Duration::from_secs(4);
    let server = TestServer::start_configured(|c| c.room_window = window).await;
    let host = TestClient::logged_in(&server, "host", "android").await;
    let sender = TestClient::logged_in(&server, "sender", "android").await;
    let viewer = TestClient::logged_in(&server, "viewer", "android").await;
    viewer.listen_advanced();
    let g = host.gm().create_group(room("busy")).await.unwrap();
    sender.sdk.join_group(g.clone(), String::new()).await.unwrap();
    viewer.sdk.join_group(g.clone(), String::new()).await.unwrap();
    // Let the joins' window pass: the test's window starts with its first message.
    tokio::time::sleep(window + Duration::from_millis(200)).await;

    let (mut low_ok, mut high_ok, mut low_refused_while_high_passed) = (0, 0, false);
    for i in 0..30 {
        match sender.sdk.send_group_text_message(format!("low {i}"), g.clone(), priority::LOW).await {
            Ok(_) => low_ok += 1,
            Err(e) => {
                assert_eq!(e.code, 10023);
                low_refused_while_high_passed = true;
            }
        }
        let high = sender.sdk.send_group_text_message(format!("high {i}"), g.clone(), priority::HIGH).await;
        assert!(high.is_ok(), "high priority got through: {high:?}");
        high_ok += 1;
    }
    assert!(low_refused_while_high_passed);
    assert_eq!((low_ok, high_ok), (10, 30), "low-priority messages may use half of the window");
    // Beyond 40 in the window even high priority is refused.
    let over = sender.sdk.send_group_text_message("over".into(), g.clone(), priority::HIGH).await;
    assert_eq!(over.unwrap_err().code, 10023);
    viewer.seen.wait_new(40).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got: Vec<String> = viewer
        .seen
        .new_messages()
        .into_iter()
        .filter_map(|m| match m.elem {
            oxim_core::Elem::Text { text } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 40, "exactly the admitted messages arrived");
    assert_eq!(got.iter().filter(|t| t.starts_with("high")).count(), 30);
    // A new window admits again.
    tokio::time::sleep(window).await;
    sender.sdk.send_group_text_message("again".into(), g.clone(), priority::LOW).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_who_reconnects_is_back_in_the_room() {
    let server = TestServer::start().await;
    let host = TestClient::logged_in(&server, "host", "android").await;
    let fan = TestClient::logged_in(&server, "fan", "android").await;
    fan.listen_advanced();
    fan.listen_group();
    host.listen_group();
    let g = host.gm().create_group(room("comeback")).await.unwrap();
    fan.sdk.join_group(g.clone(), String::new()).await.unwrap();
    host.seen.wait_group("the fan joined", |e| matches!(e, GroupEvent::MemberEnter { .. })).await;
    host.seen.clear();
    // The network drops: the server forgets the fan's room membership with the session.
    fan.seen.clear();
    assert_eq!(server.handle().disconnect_user("fan"), 1);
    fan.seen.wait_until("reconnected", |s| s.contains(&Seen::ConnectSuccess)).await;
    host.seen
        .wait_group(
            "the fan joined again",
            |e| matches!(e, GroupEvent::MemberEnter { members, .. } if members[0].user_id == "fan"),
        )
        .await;
    host.sdk.send_group_text_message("still there?".into(), g.clone(), priority::DEFAULT).await.unwrap();
    fan.seen
        .wait_until("message after reconnect", |s| s.iter().any(|x| matches!(x, Seen::New(m) if m.group_id == g)))
        .await;
    assert_eq!(host.gm().group_online_member_count(g.clone()).await.unwrap(), 2);
}
