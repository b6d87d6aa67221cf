//! C2C messaging end to end: both directions, offline delivery, exactly once across
//! reconnects, server restarts and SDK restarts.

use std::time::Duration;

use oxim_core::{ElemType, LoginStatus, MessageStatus};
use oxim_tests::{Seen, TestClient, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_exchange_text_and_custom_both_ways() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "ios").await;

    let sent = alice.sdk.send_c2c_text_message("hello bob".into(), "bob".into()).await.unwrap();
    assert_eq!((sent.status, sent.seq, sent.is_self), (MessageStatus::SendSucc, 1, true));
    assert_eq!((sent.sender.as_str(), sent.user_id.as_str(), sent.elem_type()), ("alice", "bob", ElemType::Text));
    assert!(sent.timestamp > 1_700_000_000, "server time filled in: {}", sent.timestamp);

    bob.seen.wait_texts(1).await;
    assert!(bob.seen.all().contains(&Seen::Text {
        msg_id: sent.msg_id.clone(),
        from: "alice".into(),
        text: "hello bob".into()
    }));

    let reply = bob.sdk.send_c2c_custom_message(vec![0, 159, 146, 150, 255], "alice".into()).await.unwrap();
    assert_eq!(reply.seq, 2, "the conversation's seq is shared by both sides");
    alice.seen.wait_until("custom", |s| s.iter().any(|x| matches!(x, Seen::Custom { .. }))).await;
    assert!(alice.seen.all().contains(&Seen::Custom {
        msg_id: reply.msg_id.clone(),
        from: "bob".into(),
        data: vec![0, 159, 146, 150, 255]
    }));

    // Both sides store both messages, with the server's seq.
    for (client, id, seq) in
        [(&alice, &sent.msg_id, 1), (&bob, &sent.msg_id, 1), (&alice, &reply.msg_id, 2), (&bob, &reply.msg_id, 2)]
    {
        let stored = client.sdk.find_local_message(id.clone()).await.unwrap().expect("stored");
        assert_eq!((stored.seq, stored.status), (seq, MessageStatus::SendSucc));
    }
    // Nobody hears their own message from the simple listener on the sending device.
    assert!(alice.seen.texts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_user_gets_each_message_once_after_login() {
    let server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.sdk.logout().await.unwrap();
    assert_eq!(bob.sdk.login_status(), LoginStatus::Logout);

    let alice = TestClient::logged_in(&server, "alice", "android").await;
    for i in 0..5 {
        alice.sdk.send_c2c_text_message(format!("offline {i}"), "bob".into()).await.unwrap();
    }
    bob.login(&server, "bob").await;
    bob.seen.wait_texts(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob.seen.texts(), (0..5).map(|i| format!("offline {i}")).collect::<Vec<_>>());
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 5);

    // Logging in again (same device) delivers nothing twice.
    bob.sdk.logout().await.unwrap();
    bob.login(&server, "bob").await;
    alice.sdk.send_c2c_text_message("after".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob.seen.texts().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_reconnect_and_deliver_exactly_once() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;

    let total = 60;
    let sender = {
        let sdk = alice.sdk.clone();
        tokio::spawn(async move {
            for i in 0..total {
                sdk.send_c2c_text_message(format!("m{i:03}"), "bob".into()).await.unwrap();
            }
        })
    };
    // Cut bob's (and now and then alice's) connection while the messages flow.
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        server.handle().disconnect_user("bob");
        if round % 2 == 1 {
            server.handle().disconnect_user("alice");
        }
    }
    sender.await.unwrap();
    bob.seen.wait_texts(total).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bob.seen.texts(), (0..total).map(|i| format!("m{i:03}")).collect::<Vec<_>>(), "each once, in seq order");
    let reconnects = bob.seen.all().iter().filter(|s| **s == Seen::ConnectSuccess).count();
    assert!(reconnects >= 2, "bob reconnected by himself ({reconnects} connects)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_session_reconnects_and_delivers_what_was_sent_meanwhile_once() {
    let mut server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    alice.sdk.send_c2c_text_message("before".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(1).await;

    server.stop().await;
    bob.seen.clear();
    server.start_again().await;

    // Alice's SDK reconnects by itself; her send waits for that.
    alice.sdk.send_c2c_text_message("during".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(1).await;
    alice.sdk.send_c2c_text_message("after".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(bob.seen.texts(), ["during", "after"]);
    let events = bob.seen.all();
    let connecting = events.iter().position(|s| *s == Seen::Connecting).expect("onConnecting after the restart");
    let success = events.iter().position(|s| *s == Seen::ConnectSuccess).expect("onConnectSuccess after the restart");
    assert!(connecting < success, "{events:?}");
    assert_eq!(bob.sdk.login_status(), LoginStatus::Logined, "re-login was transparent");
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 3, "nothing stored twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_left_sending_by_an_sdk_restart_are_delivered_once() {
    let mut server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;

    // The server goes away: alice's sends are stored locally as SENDING and wait.
    server.stop().await;
    let mut pending = Vec::new();
    for i in 0..3 {
        let sdk = alice.sdk.clone();
        pending.push(tokio::spawn(async move { sdk.send_c2c_text_message(format!("queued {i}"), "bob".into()).await }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The app dies before they were sent.
    alice.sdk.uninit_sdk();
    for p in pending {
        let outcome = p.await.unwrap();
        assert_eq!(outcome.unwrap_err().code, 7009, "the interrupted send reports ERR_SDK_COMM_INTERRUPT");
    }

    server.start_again().await;
    // The app starts again on the same device and logs in: the queued messages go out.
    alice.init(&server);
    alice.login(&server, "alice").await;
    bob.seen.wait_texts(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bob.seen.texts(), ["queued 0", "queued 1", "queued 2"]);
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_back_online_catches_up_many_conversations_and_long_gaps_exactly_once() {
    let server = TestServer::start().await;
    let bob = TestClient::new(&server, "android").await;
    bob.listen_conversations();
    bob.login(&server, "bob").await;
    // Once a device has synced, it catches up on everything it missed (not only the latest).
    bob.seen.wait_until("onSyncServerFinish", |s| s.iter().any(|x| matches!(x, Seen::SyncFinish))).await;
    bob.sdk.logout().await.unwrap();

    // One conversation with more than two pull pages missed, and twenty short ones: the sync
    // asks for the first page of each together and must still store every message once, in order.
    let long = TestClient::logged_in(&server, "long", "android").await;
    for i in 0..450 {
        long.sdk.send_c2c_text_message(format!("long {i}"), "bob".into()).await.unwrap();
    }
    for p in 0..20 {
        let peer = TestClient::logged_in(&server, &format!("p{p}"), "android").await;
        for i in 0..3 {
            peer.sdk.send_c2c_text_message(format!("p{p} {i}"), "bob".into()).await.unwrap();
        }
    }
    bob.login(&server, "bob").await;
    bob.seen.wait_texts(510).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = bob.seen.texts();
    assert_eq!(texts.len(), 510, "each message once");
    let from_long: Vec<_> = texts.iter().filter(|t| t.starts_with("long ")).cloned().collect();
    assert_eq!(from_long, (0..450).map(|i| format!("long {i}")).collect::<Vec<_>>());
    for p in 0..20 {
        let got: Vec<_> = texts.iter().filter(|t| t.starts_with(&format!("p{p} "))).cloned().collect();
        assert_eq!(got, (0..3).map(|i| format!("p{p} {i}")).collect::<Vec<_>>());
    }
    assert_eq!(bob.sdk.local_message_count("c2c_long".into()).await.unwrap(), 450);
    let total = bob.sdk.conversation_manager().total_unread_message_count().await.unwrap();
    assert_eq!(total, 510);
}
