//! The send queue and the server's per-user message rate (-10113): messages refused for the
//! rate wait in SENDING and go out again, each once and in order; the wait is bounded; a
//! logout ends it as it ends any queued send.

use std::time::Duration;

use oxim_core::message::SendOptions;
use oxim_core::{Message, MessageStatus};
use oxim_proto::code;
use oxim_tests::{TestClient, TestServer, WAIT};

fn to(user: &str) -> SendOptions {
    SendOptions { receiver: user.into(), ..SendOptions::default() }
}

fn text_of(m: &Message) -> String {
    match &m.elem {
        oxim_core::Elem::Text { text } => text.clone(),
        other => panic!("a text: {other:?}"),
    }
}

/// A server whose users may send `per_sec` messages a second, `burst` at once.
async fn server_with_rate(per_sec: u32, burst: u32) -> TestServer {
    TestServer::start_configured(|c| {
        c.limits.user_msgs_per_sec = per_sec;
        c.limits.user_msgs_burst = burst;
    })
    .await
}

/// Starts `texts` as sends of `client` to the user each names, without waiting for each other
/// (polled in the order of the calls); returns the task with their results.
fn send_all(client: &TestClient, texts: &[(String, &str)]) -> tokio::task::JoinHandle<Vec<oxim_core::Result<Message>>> {
    let mm = client.mm();
    let calls: Vec<_> = texts
        .iter()
        .map(|(text, user)| {
            let (mm, opts) = (mm.clone(), to(user));
            let msg = mm.create_text_message(text.clone());
            async move { mm.send_message(msg, opts).await }
        })
        .collect();
    tokio::spawn(futures_util::future::join_all(calls))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_beyond_the_burst_all_arrive_once_in_order_after_refusals() {
    let mut server = server_with_rate(5, 5).await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let carol = TestClient::logged_in(&server, "carol", "android").await;
    carol.listen_advanced();
    let alice = TestClient::logged_in(&server, "alice", "android").await;

    // Offline, alice queues 30 messages to bob and 10 to carol, interleaved: 8 times the burst.
    server.stop().await;
    let texts: Vec<(String, &str)> = (0..40)
        .map(|i| if i % 4 == 3 { (format!("c{:02}", i / 4), "carol") } else { (format!("b{:02}", i - i / 4), "bob") })
        .collect();
    let sending = send_all(&alice, &texts);
    alice
        .eventually("the 40 sends on record", || async {
            alice.sdk.local_message_count("c2c_bob".into()).await.unwrap_or(0) == 30
                && alice.sdk.local_message_count("c2c_carol".into()).await.unwrap_or(0) == 10
        })
        .await;
    server.start_again().await;

    // Every callback succeeds (the refusals were retried, not reported).
    let results = tokio::time::timeout(Duration::from_secs(60), sending).await.unwrap().unwrap();
    let sent: Vec<Message> = results.into_iter().map(|r| r.expect("sent despite the rate")).collect();
    assert!(sent.iter().all(|m| m.status == MessageStatus::SendSucc));
    let refused = server.handle().msgs_refused_for_rate();
    assert!(refused > 0, "the server refused some of them for the rate");

    // Each arrives once, in the order of the calls, with the conversation's seqs in that order.
    for (client, prefix, n) in [(&bob, "b", 30), (&carol, "c", 10)] {
        client.seen.wait_new(n).await;
        let got = client.seen.new_messages();
        let want: Vec<String> = (0..n).map(|i| format!("{prefix}{i:02}")).collect();
        assert_eq!(got.iter().map(text_of).collect::<Vec<_>>(), want, "each once, in call order");
        assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=n as u64).collect::<Vec<_>>());
    }
    // Nothing comes twice later: a sentinel arrives right after them.
    alice.mm().send_message(alice.mm().create_text_message("sentinel".into()), to("bob")).await.unwrap();
    bob.seen.wait_new(31).await;
    let got = bob.seen.new_messages();
    assert_eq!(got.len(), 31);
    assert_eq!(text_of(&got[30]), "sentinel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_refused_past_the_retry_limit_fails_with_the_rate_code() {
    // One message a second; the SDK gives a refused message 100 ms (one retry after 0.2 s).
    let server = server_with_rate(1, 1).await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let alice =
        TestClient::new_configured(&server, "android", |c| c.rate_retry_limit = Duration::from_millis(100)).await;
    alice.login(&server, "alice").await;

    let sending = send_all(&alice, &[("first".into(), "bob"), ("second".into(), "bob")]);
    let results = tokio::time::timeout(WAIT, sending).await.unwrap().unwrap();
    let first = results[0].as_ref().expect("the first fits the burst");
    assert_eq!(first.status, MessageStatus::SendSucc);
    let e = results[1].as_ref().expect_err("the second stays over the rate past its limit");
    assert_eq!(e.code, code::SVR_SSO_FREQ_LIMIT);
    assert!(server.handle().msgs_refused_for_rate() >= 2, "refused, retried, refused again");

    // It is a failed send on the device (never stored by the server), out of its queue: the
    // app may send it again (same message), and once a token is back it goes out, once.
    let history = alice.mm().get_c2c_history_message_list("bob".into(), 10, None).await.unwrap();
    let failed = history.iter().find(|m| text_of(m) == "second").expect("kept on the device").clone();
    assert_eq!(failed.status, MessageStatus::SendFail);
    let deadline = std::time::Instant::now() + WAIT;
    let resent = loop {
        match alice.mm().send_message(failed.clone(), to("bob")).await {
            Ok(m) => break m,
            Err(e) if e.code == code::SVR_SSO_FREQ_LIMIT && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("resending: {e:?}"),
        }
    };
    assert_eq!((resent.msg_id.as_str(), resent.seq), (failed.msg_id.as_str(), 2), "stored once, after the first");
    bob.seen.wait_new(2).await;
    assert_eq!(bob.seen.new_messages().iter().map(text_of).collect::<Vec<_>>(), ["first", "second"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_ends_the_waits_and_the_messages_go_out_after_the_next_login() {
    let server = server_with_rate(2, 1).await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let alice = TestClient::logged_in(&server, "alice", "android").await;

    let texts: Vec<(String, &str)> = (0..6).map(|i| (format!("m{i}"), "bob")).collect();
    let sending = send_all(&alice, &texts);
    alice.eventually("a refusal for the rate", || async { server.handle().msgs_refused_for_rate() > 0 }).await;
    alice.sdk.logout().await.unwrap();
    // The callers still waiting hear that the session ended (as for any queued send).
    let results = tokio::time::timeout(WAIT, sending).await.unwrap().unwrap();
    let interrupted = results.iter().filter(|r| r.as_ref().is_err_and(|e| e.code == code::SDK_COMM_INTERRUPT)).count();
    let sent = results.iter().filter(|r| r.is_ok()).count();
    assert!(interrupted > 0, "{results:?}");
    assert_eq!(sent + interrupted, 6, "sent or interrupted, none failed: {results:?}");

    // The next login sends the rest, after those sent, each once.
    alice.login(&server, "alice").await;
    bob.seen.wait_new(6).await;
    let got = bob.seen.new_messages();
    assert_eq!(got.iter().map(text_of).collect::<Vec<_>>(), (0..6).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=6).collect::<Vec<_>>());
}
