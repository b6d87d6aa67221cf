//! Quickstart: two SDK clients chatting through a running oxim-server.
//!
//! ```text
//! cargo run --release -p oxim-server            # terminal 1
//! cargo run -p oxim-tests --example quickstart  # terminal 2 (or pass another ws:// URL)
//! ```
//!
//! The UserSigs are signed here with the server's development key; in a real app your backend
//! signs them (TLSSigAPIv2, as for Tencent Cloud IM) and never ships the key.

use std::sync::Arc;

use oxim_core::{Manager, SdkConfig, SimpleMsgListener, UserInfo};
use oxim_server::config::{DEV_SDK_APP_ID, DEV_SECRET_KEY};
use oxim_server::usersig::UserSigKey;
use tokio::sync::mpsc;

/// Prints what a user receives and hands it to the main task.
struct Inbox {
    me: &'static str,
    received: mpsc::UnboundedSender<String>,
}

impl SimpleMsgListener for Inbox {
    fn on_recv_c2c_text_message(&self, _msg_id: String, sender: UserInfo, text: String) {
        println!("[{}] {} says: {text}", self.me, sender.user_id);
        let _ = self.received.send(text);
    }
}

async fn client(url: &str, user: &'static str, data: &std::path::Path) -> (Manager, mpsc::UnboundedReceiver<String>) {
    let sdk = Manager::new();
    sdk.init_sdk(DEV_SDK_APP_ID, SdkConfig::new(url, data.join(user)), None).expect("initSDK");
    let (tx, rx) = mpsc::unbounded_channel();
    sdk.add_simple_msg_listener(Arc::new(Inbox { me: user, received: tx }));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let user_sig = UserSigKey::new(DEV_SDK_APP_ID, DEV_SECRET_KEY).sign(user, now, 3600);
    sdk.login(user.into(), user_sig).await.expect("login");
    println!("{user} logged in");
    (sdk, rx)
}

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:8080".into());
    let data = tempfile::tempdir().expect("temp dir");
    let (alice, mut alice_inbox) = client(&url, "alice", data.path()).await;
    let (bob, mut bob_inbox) = client(&url, "bob", data.path()).await;

    let sent = alice.send_c2c_text_message("Hi Bob!".into(), "bob".into()).await.expect("send");
    println!("alice sent message {} (seq {})", sent.msg_id, sent.seq);
    assert_eq!(bob_inbox.recv().await.as_deref(), Some("Hi Bob!"));

    bob.send_c2c_text_message("Hi Alice, got it.".into(), "alice".into()).await.expect("reply");
    assert_eq!(alice_inbox.recv().await.as_deref(), Some("Hi Alice, got it."));

    alice.uninit_sdk();
    bob.uninit_sdk();
    println!("quickstart done");
}
