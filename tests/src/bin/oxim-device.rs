//! One SDK instance in its own process, so a test can kill it with SIGKILL mid-job
//! (`tests/tests/delivery.rs`).
//!
//! `oxim-device SERVER_URL SDK_APP_ID DATA_DIR USER USER_SIG JOB…` initialises the SDK on
//! DATA_DIR against SERVER_URL, logs USER in and prints `ready`. Then it does one job and keeps running until it
//! is killed (or its stdin closes):
//! - `send N PEER`: waits for a line on stdin, then makes N text sends to PEER without awaiting
//!   each other (texts `00`, `01`, … in call order) and prints `on-record N` once all N are
//!   stored locally (SENDING, in the send queue). `send 0 PEER` makes no sends: what an earlier
//!   run queued goes out by itself after the login.
//! - `receive [slow]`: registers an advanced message listener that prints
//!   `msg MSG_ID CONVERSATION_ID SEQ TEXT` for every `onRecvNewMessage`, flushed before the
//!   callback returns (so every message the SDK may record as told has been printed), and
//!   `synced` for every `onSyncServerFinish`. `slow`: the listener then takes a millisecond
//!   per message (an app slower than the store), so a kill lands in the middle of a page.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxim_core::message::SendOptions;
use oxim_core::{AdvancedMsgListener, ConversationListener, Elem, LogLevel, Manager, Message, SdkConfig, SdkListener};
use tokio::sync::Notify;

/// Prints each new message as one line, before the callback returns; a slow one then
/// works a millisecond on it, as an app that is slower than the SDK's store.
struct Printer {
    slow: bool,
}

impl AdvancedMsgListener for Printer {
    fn on_recv_new_message(&self, msg: Message) {
        let text = match &msg.elem {
            Elem::Text { text } => text.clone(),
            other => format!("{other:?}"),
        };
        let line = format!("msg {} {} {} {}\n", msg.msg_id, msg.conv_id(), msg.seq, text);
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes()).and_then(|()| out.flush()).expect("stdout");
        if self.slow {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl ConversationListener for Printer {
    fn on_sync_server_finish(&self) {
        say("synced");
    }
}

/// Wakes `main` on onConnectSuccess.
#[derive(Default)]
struct Connected(Notify);

impl SdkListener for Connected {
    fn on_connect_success(&self) {
        self.0.notify_one();
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).expect("stdout");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, app_id, dir, user, sig, job @ ..] = args.as_slice() else {
        eprintln!("usage: oxim-device SERVER_URL SDK_APP_ID DATA_DIR USER USER_SIG (send N PEER | receive [slow])");
        std::process::exit(2);
    };
    let sdk = Manager::new();
    let mut config = SdkConfig::new(url.clone(), dir.clone());
    config.platform = "android".into();
    config.log_level = if std::env::var_os("OXIM_TEST_LOG").is_some() { LogLevel::Debug } else { LogLevel::None };
    let connected = Arc::new(Connected::default());
    if job.first().map(String::as_str) == Some("receive") {
        // Registered before the login: what an earlier run stored and did not tell is told
        // as soon as the session starts.
        let printer = Arc::new(Printer { slow: job.get(1).is_some_and(|a| a == "slow") });
        sdk.add_advanced_msg_listener(printer.clone());
        sdk.add_conversation_listener(printer);
    }
    sdk.init_sdk(app_id.parse().expect("SDK_APP_ID"), config, Some(connected.clone())).expect("initSDK");
    tokio::time::timeout(Duration::from_secs(15), connected.0.notified()).await.expect("onConnectSuccess");
    sdk.login(user.clone(), sig.clone()).await.expect("login");
    say("ready");

    match job {
        [j] | [j, _] if j == "receive" => {}
        [j, n, peer] if j == "send" => {
            let n: usize = n.parse().expect("N");
            if n > 0 {
                let mut line = String::new();
                tokio::task::spawn_blocking(move || std::io::stdin().lock().read_line(&mut line)).await.unwrap().ok();
                let mm = sdk.message_manager();
                let calls: Vec<_> = (0..n)
                    .map(|i| {
                        let mm = mm.clone();
                        let msg = mm.create_text_message(format!("{i:02}"));
                        let opts = SendOptions { receiver: peer.clone(), ..SendOptions::default() };
                        async move { mm.send_message(msg, opts).await }
                    })
                    .collect();
                // join_all polls them in the order of the calls.
                tokio::spawn(futures_util::future::join_all(calls));
                let conv = format!("c2c_{peer}");
                let deadline = Instant::now() + Duration::from_secs(15);
                while sdk.local_message_count(conv.clone()).await.unwrap_or(0) < n as u64 {
                    assert!(Instant::now() < deadline, "the sends were not on record in time");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                say(&format!("on-record {n}"));
            }
        }
        _ => {
            eprintln!("unknown job {job:?}");
            std::process::exit(2);
        }
    }
    // Keep running (the SDK works on) until killed or stdin closes.
    tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {}).await.unwrap();
}
