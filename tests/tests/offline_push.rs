//! Offline push registration end to end: `setOfflinePushConfig`, `doBackground` and
//! `doForeground` reach the server for this device (user and platform); what the app said is
//! said again after a reconnection (the server forgets a device at each login); a device that
//! is killed stays registered, one that logs out or is kicked does not.

use std::time::{Duration, Instant};

use oxim_core::OfflinePushConfig;
use oxim_server::store::PushDevice;
use oxim_tests::{Seen, TestClient, TestServer};

fn config(token: &str) -> OfflinePushConfig {
    OfflinePushConfig { business_id: 6768, token: token.into(), is_tpns_token: false }
}

fn device(platform: &str, token: Option<&str>, badge: Option<u32>) -> PushDevice {
    PushDevice { user: "alice".into(), platform: platform.into(), config: token.map(config), background_badge: badge }
}

async fn devices(server: &TestServer) -> Vec<PushDevice> {
    server.handle().push_devices(&["alice"]).await.unwrap()
}

/// Waits (at most 10 s) until the server knows exactly `want` of alice's devices.
async fn wait_devices(server: &TestServer, what: &str, want: Vec<PushDevice>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = devices(server).await;
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the server knows {now:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_registration_and_app_state_reach_the_server_and_are_told_again_after_a_reconnection() {
    let server = TestServer::start().await;
    let phone = TestClient::new(&server, "android").await;
    let push = phone.sdk.offline_push_manager();
    assert_eq!(push.set_offline_push_config(config("t1")).await.unwrap_err().code, 6014, "before login");
    phone.login(&server, "alice").await;

    assert_eq!(push.set_offline_push_config(config("")).await.unwrap_err().code, 6017);
    let no_id = OfflinePushConfig { business_id: 0, ..config("t1") };
    assert_eq!(push.set_offline_push_config(no_id).await.unwrap_err().code, 6017);
    assert_eq!(devices(&server).await, vec![], "a refused registration registers nothing");

    push.set_offline_push_config(config("t1")).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), None)]);
    push.do_background(5).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), Some(5))]);

    // The network drops; the SDK logs in again (the server forgets the device at a login) and
    // tells the registration and the app state again.
    phone.seen.clear();
    assert_eq!(server.handle().disconnect_user("alice"), 1);
    phone.seen.wait_until("reconnected", |s| s.contains(&Seen::ConnectSuccess)).await;
    wait_devices(&server, "after the reconnection", vec![device("android", Some("t1"), Some(5))]).await;

    push.do_foreground().await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), None)]);
    push.do_background(2).await.unwrap();

    // The app is killed (no logout): the device stays registered, in the background.
    drop(phone);
    wait_devices(&server, "killed", vec![device("android", Some("t1"), Some(2))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_that_logs_out_or_is_kicked_is_no_longer_registered() {
    let server = TestServer::start().await;
    let phone = TestClient::logged_in(&server, "alice", "android").await;
    let pad = TestClient::logged_in(&server, "alice", "ipad").await;
    phone.sdk.offline_push_manager().set_offline_push_config(config("phone")).await.unwrap();
    pad.sdk.offline_push_manager().set_offline_push_config(config("pad")).await.unwrap();
    pad.sdk.offline_push_manager().do_background(1).await.unwrap();
    assert_eq!(
        devices(&server).await,
        vec![device("android", Some("phone"), None), device("ipad", Some("pad"), Some(1))]
    );

    // Logout: the pad's registration ends on the server, and the SDK does not bring it back at
    // the next login (V2TIM's apps register after every login).
    pad.sdk.logout().await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("phone"), None)]);
    pad.login(&server, "alice").await;
    // Nothing is said for it after this login: a bounded look for something that must not come.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(devices(&server).await, vec![device("android", Some("phone"), None)]);

    // A second phone logs in on the same platform: the first is kicked and no longer registered.
    let other_phone = TestClient::logged_in(&server, "alice", "android").await;
    phone.seen.wait_until("kicked", |s| s.contains(&Seen::KickedOffline)).await;
    assert_eq!(devices(&server).await, vec![]);
    other_phone.sdk.offline_push_manager().set_offline_push_config(config("new phone")).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("new phone"), None)]);
}
