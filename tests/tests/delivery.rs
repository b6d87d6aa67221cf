//! Delivery across interruptions, end to end: sends made without waiting for each other while
//! the server is down, across a restart of the sending device, arrive once each in the order
//! they were made.

use std::time::Duration;

use oxim_core::MessageStatus;
use oxim_core::message::SendOptions;
use oxim_tests::{TestClient, TestServer};

fn to(user: &str) -> SendOptions {
    SendOptions { receiver: user.into(), ..SendOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_pipelined_while_the_server_is_down_survive_a_device_restart_and_arrive_in_call_order() {
    let mut server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let texts: Vec<String> = (0..40).map(|i| format!("{i:02}")).collect();

    // The server goes away; alice sends 40 messages without waiting for any of them.
    server.stop().await;
    let mm = alice.mm();
    let calls: Vec<_> = texts
        .iter()
        .map(|t| {
            let mm = mm.clone();
            let msg = mm.create_text_message(t.clone());
            async move { mm.send_message(msg, to("bob")).await }
        })
        .collect();
    // join_all polls them in the order of the calls (as a foreign caller's calls are made).
    let sending = tokio::spawn(futures_util::future::join_all(calls));
    alice
        .eventually("the 40 sends on record", || async {
            alice.sdk.local_message_count("c2c_bob".into()).await.unwrap_or(0) == 40
        })
        .await;
    // The device goes down with them unsent: the callers hear that they were interrupted.
    alice.sdk.uninit_sdk();
    let results = tokio::time::timeout(oxim_tests::WAIT, sending).await.unwrap().unwrap();
    assert!(results.iter().all(|r| r.is_err()), "nothing was sent: {results:?}");

    // Server and device come back: the queue goes out first, in call order, each message once.
    server.start_again().await;
    alice.init(&server);
    alice.login(&server, "alice").await;
    let later = mm.send_message(mm.create_text_message("40".into()), to("bob")).await.unwrap();
    assert_eq!(later.seq, 41, "sent after the 40 queued before it");
    bob.seen.wait_new(41).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = bob.seen.new_messages();
    let want: Vec<String> = (0..=40).map(|i| format!("{i:02}")).collect();
    let got_texts: Vec<String> = got
        .iter()
        .map(|m| match &m.elem {
            oxim_core::Elem::Text { text } => text.clone(),
            other => panic!("a text: {other:?}"),
        })
        .collect();
    assert_eq!(got_texts, want, "each once, in the order of the calls");
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=41).collect::<Vec<_>>());
    // On alice's device every one of them is sent.
    let history = alice.mm().find_messages(got.iter().map(|m| m.msg_id.clone()).collect()).await.unwrap();
    assert_eq!(history.len(), 41);
    assert!(history.iter().all(|m| m.status == MessageStatus::SendSucc), "{history:?}");
}
