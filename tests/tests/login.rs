//! Login, kicks, UserSig failures and the error codes of bad calls.

use std::time::Duration;

use oxim_core::{LoginStatus, Manager, SdkConfig};
use oxim_tests::{Seen, TestClient, TestServer, unix_now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_login_on_the_same_platform_kicks_the_first_other_platforms_stay() {
    let server = TestServer::start().await;
    let phone1 = TestClient::logged_in(&server, "alice", "android").await;
    let tablet = TestClient::logged_in(&server, "alice", "ios").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;

    let phone2 = TestClient::logged_in(&server, "alice", "android").await;
    phone1.seen.wait_until("onKickedOffline", |s| s.contains(&Seen::KickedOffline)).await;
    assert_eq!(phone1.sdk.login_status(), LoginStatus::Logout);
    assert_eq!(phone1.sdk.login_user(), "");
    let refused = phone1.sdk.send_c2c_text_message("x".into(), "bob".into()).await.unwrap_err();
    assert_eq!(refused.code, 6014);
    assert!(!tablet.seen.all().contains(&Seen::KickedOffline), "another platform is not kicked");
    assert!(!phone2.seen.all().contains(&Seen::KickedOffline));

    // Both remaining sessions of alice receive bob's message.
    bob.sdk.send_c2c_text_message("to both".into(), "alice".into()).await.unwrap();
    phone2.seen.wait_texts(1).await;
    tablet.seen.wait_texts(1).await;
    assert!(phone1.seen.texts().is_empty());

    // A message alice sends from the tablet reaches her phone too (her other device).
    let from_tablet = tablet.sdk.send_c2c_text_message("from tablet".into(), "bob".into()).await.unwrap();
    phone2.seen.wait_texts(2).await;
    let synced = phone2.sdk.find_local_message(from_tablet.msg_id.clone()).await.unwrap().unwrap();
    assert!(synced.is_self, "alice's own message from another device is isSelf");
    assert_eq!(synced.user_id, "bob");

    // The kicked device may log in again, which kicks the other phone in turn.
    phone1.login(&server, "alice").await;
    phone2.seen.wait_until("onKickedOffline", |s| s.contains(&Seen::KickedOffline)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_usersigs_are_refused_with_their_codes() {
    let server = TestServer::start().await;
    let device = TestClient::new(&server, "android").await;
    let now = unix_now();
    let cases = [
        ("forged (other key)", server.sig_with("alice", now, 3600, Some("not-the-server-key"), None), 70009),
        ("expired", server.sig_with("alice", now - 7200, 3600, None, None), 70001),
        ("signed for another SDKAppID", server.sig_with("alice", now, 3600, None, Some(1400000001)), 70014),
        ("signed for another user", server.sig("mallory"), 70013),
        ("not a UserSig", "definitely-not-a-usersig".to_owned(), 70003),
    ];
    for (what, sig, code) in cases {
        let err = device.sdk.login("alice".into(), sig).await.unwrap_err();
        assert_eq!(err.code, code, "{what}: {err}");
        assert_eq!(device.sdk.login_status(), LoginStatus::Logout, "{what}");
    }
    // The connection is still usable: a good UserSig works.
    device.login(&server, "alice").await;
    assert_eq!(device.sdk.login_user(), "alice");

    // An SDK initialised for an app this server does not serve.
    let other_app = TestClient::new(&server, "android").await;
    other_app.sdk.uninit_sdk();
    other_app.init_as(&server, 1400000001);
    let err = other_app.sdk.login("alice".into(), server.sig("alice")).await.unwrap_err();
    assert_eq!(err.code, 70020);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usersig_expiring_during_the_session_fires_on_user_sig_expired() {
    let server = TestServer::start().await;
    let device = TestClient::new(&server, "android").await;
    device.sdk.login("alice".into(), server.sig_with("alice", unix_now(), 2, None, None)).await.unwrap();
    device.seen.wait_until("onUserSigExpired", |s| s.contains(&Seen::UserSigExpired)).await;
    assert_eq!(device.sdk.login_status(), LoginStatus::Logout);
    assert_eq!(device.sdk.send_c2c_text_message("x".into(), "alice".into()).await.unwrap_err().code, 6014);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_relogin_after_reconnect_fires_on_user_sig_expired() {
    let mut server = TestServer::start().await;
    let device = TestClient::new(&server, "android").await;
    device.sdk.login("alice".into(), server.sig_with("alice", unix_now(), 3, None, None)).await.unwrap();
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    device.seen.clear();
    server.start_again().await;
    device.seen.wait_until("onUserSigExpired", |s| s.contains(&Seen::UserSigExpired)).await;
    let seen = device.seen.all();
    assert!(seen.contains(&Seen::ConnectSuccess), "the connection itself is fine: {seen:?}");
    assert_eq!(device.sdk.login_status(), LoginStatus::Logout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_that_does_not_log_in_idles_at_the_login_deadline_and_logs_in_later() {
    let server = TestServer::start_configured(|c| c.limits.login_deadline_secs = 1).await;
    let device = TestClient::new(&server, "android").await;
    // initSDK connected; the app does not log in: the server closes the socket at its deadline.
    let handle = server.handle();
    device.eventually("the idle socket closed", || async { handle.open_connections() == 0 }).await;
    // The SDK neither reconnects nor reports a failure while nobody logs in.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(handle.open_connections(), 0, "the SDK reconnected while idle");
    let seen = device.seen.all();
    assert_eq!(seen.iter().filter(|s| **s == Seen::Connecting).count(), 1, "{seen:?}");
    assert!(!seen.iter().any(|s| matches!(s, Seen::ConnectFailed(_))), "{seen:?}");
    // Logging in later connects again and works.
    device.login(&server, "alice").await;
    assert_eq!(device.sdk.login_status(), LoginStatus::Logined);
    let bob = TestClient::logged_in(&server, "bob", "ios").await;
    bob.sdk.send_c2c_text_message("after the idle".into(), "alice".into()).await.unwrap();
    device.seen.wait_texts(1).await;
    // A logged-in session outlives the deadline.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(handle.is_online("alice"));
    // After a logout the socket idles again, and the next login connects again.
    device.sdk.logout().await.unwrap();
    device.eventually("alice's socket closed", || async { handle.open_connections() == 1 }).await;
    device.login(&server, "alice").await;
    assert!(handle.is_online("alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_the_wrong_state_or_with_bad_parameters_get_v2tim_codes() {
    let server = TestServer::start().await;

    // Before initSDK: 6013.
    let fresh = Manager::new();
    assert_eq!(fresh.login("alice".into(), server.sig("alice")).await.unwrap_err().code, 6013);
    assert_eq!(fresh.send_c2c_text_message("hi".into(), "bob".into()).await.unwrap_err().code, 6013);
    assert_eq!(fresh.login_status(), LoginStatus::Logout);
    // initSDK with a bad configuration: 6017.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        fresh.init_sdk(server.sdk_app_id(), SdkConfig::new("ftp://nope", dir.path()), None).unwrap_err().code,
        6017
    );
    assert_eq!(fresh.init_sdk(0, SdkConfig::new(server.url(), dir.path()), None).unwrap_err().code, 6017);

    // Initialised but not logged in: 6014.
    let device = TestClient::new(&server, "android").await;
    assert_eq!(device.sdk.send_c2c_text_message("hi".into(), "bob".into()).await.unwrap_err().code, 6014);
    assert_eq!(device.sdk.send_c2c_custom_message(vec![1], "bob".into()).await.unwrap_err().code, 6014);

    // Bad login parameters: 6017.
    assert_eq!(device.sdk.login("".into(), server.sig("alice")).await.unwrap_err().code, 6017);
    assert_eq!(device.sdk.login("has space".into(), server.sig("alice")).await.unwrap_err().code, 6017);
    assert_eq!(device.sdk.login("alice".into(), "".into()).await.unwrap_err().code, 6017);

    device.login(&server, "alice").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    // Empty text, empty or malformed user id: 6017.
    assert_eq!(device.sdk.send_c2c_text_message("".into(), "bob".into()).await.unwrap_err().code, 6017);
    assert_eq!(device.sdk.send_c2c_text_message("hi".into(), "".into()).await.unwrap_err().code, 6017);
    assert_eq!(device.sdk.send_c2c_text_message("hi".into(), "b o b".into()).await.unwrap_err().code, 6017);
    // Over 12 KB: 8001, and nothing stored or delivered.
    let big = "x".repeat(12 * 1024 + 1);
    assert_eq!(device.sdk.send_c2c_text_message(big, "bob".into()).await.unwrap_err().code, 8001);
    assert_eq!(device.sdk.send_c2c_custom_message(vec![7; 12 * 1024 + 1], "bob".into()).await.unwrap_err().code, 8001);
    // Exactly 12 KB is fine.
    device.sdk.send_c2c_text_message("y".repeat(12 * 1024), "bob".into()).await.unwrap();
    // A user who never logged in anywhere: 20003, stored locally as failed.
    let unknown = device.sdk.send_c2c_text_message("hi".into(), "nobody".into()).await.unwrap_err();
    assert_eq!(unknown.code, 20003);

    bob.seen.wait_texts(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(bob.seen.texts().len(), 1, "only the valid message arrived");
    assert_eq!(
        device.sdk.local_message_count("c2c_bob".into()).await.unwrap(),
        1,
        "refused messages were never stored"
    );
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 1);
}
