//! Cold login + sync: a new device of a user who has many conversations on the server. The
//! figure runs from the `login` call (the SDK already connected, as after `initSDK`) until
//! `onSyncServerFinish`; the conversation list is then checked complete (every conversation
//! there, each with its newest message), untimed.
//!
//! Fixture ([`fixture`], shared with the conversation-list benchmark): the server's database is
//! written before the server starts, through the server's own store (`SqliteStore::append`, the
//! path `msg.send` takes), alternately from the peer and from the user's other device.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oxim_core::{ConversationListener, Elem, LogLevel, Manager, SdkConfig, SdkListener, WireMessage};
use oxim_server::domain::keys::c2c_target;
use oxim_server::store::sqlite::SqliteStore;
use oxim_server::store::{MessageStore as _, Store as _, UserStore as _};
use tokio::sync::mpsc;

use crate::Ctx;
use crate::report::{Met, Row, count, dur};
use crate::util::{self, BenchResult, Proc};

const METRIC: &str = "cold login + sync";
const TARGET: &str = "≤ 2 s";
const USER: &str = "cold";
const PER: usize = 20;

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((took, login, convs)) => Row::new(
            METRIC,
            format!(
                "{} to onSyncServerFinish (login answered after {}; {} conversations × {PER} messages; list then checked complete)",
                dur(took),
                dur(login),
                count(convs as u64),
            ),
            TARGET,
            Met::check(took <= Duration::from_secs(2), ctx.quick),
        ),
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

/// The peer of conversation `i`.
pub fn peer(i: usize) -> String {
    format!("cp{i}")
}

/// Writes `convs` conversations of `user` with `per` messages each into a server data dir,
/// round by round so the conversations change in order. Even rounds come from the peer, odd
/// ones from the user (another device); the text of message `j` of conversation `i` is
/// `"message {j} of {i}"`.
pub async fn fixture(dir: &std::path::Path, user: &str, convs: usize, per: usize) -> BenchResult<()> {
    let store = SqliteStore::open(dir).map_err(|e| e.to_string())?;
    store.register_user(user).await.map_err(|e| e.to_string())?;
    for i in 0..convs {
        store.register_user(&peer(i)).await.map_err(|e| e.to_string())?;
    }
    for j in 0..per {
        let mut queued = Vec::with_capacity(convs);
        for i in 0..convs {
            let (from, to) = if j % 2 == 0 { (peer(i), user.to_owned()) } else { (user.to_owned(), peer(i)) };
            let mut msg =
                WireMessage::new(format!("{user}{i}x{j}"), Elem::Text { text: format!("message {j} of {i}") });
            msg.sender = from.clone();
            msg.receiver = to.clone();
            queued.push(store.append(c2c_target(&from, &to), msg));
        }
        for r in futures_util::future::join_all(queued).await {
            r.map_err(|e| e.to_string())?;
        }
    }
    store.close().await;
    Ok(())
}

/// Notices `onConnectSuccess` and forwards `onSyncServerFinish`.
pub struct SyncWatch {
    connected: AtomicBool,
    finished: mpsc::UnboundedSender<()>,
}

impl SdkListener for SyncWatch {
    fn on_connect_success(&self) {
        self.connected.store(true, Ordering::SeqCst);
    }
}

impl ConversationListener for SyncWatch {
    fn on_sync_server_finish(&self) {
        let _ = self.finished.send(());
    }
}

/// A new device of `user` against the server at `addr`: initialised and connected (not logged
/// in), with a receiver of its `onSyncServerFinish` callbacks.
pub async fn new_device(
    addr: &str,
    data_dir: std::path::PathBuf,
) -> BenchResult<(Manager, mpsc::UnboundedReceiver<()>)> {
    let sdk = Manager::new();
    let mut config = SdkConfig::new(format!("ws://{addr}"), data_dir);
    config.log_level = LogLevel::None;
    let (tx, rx) = mpsc::unbounded_channel();
    let watch = Arc::new(SyncWatch { connected: AtomicBool::new(false), finished: tx });
    sdk.init_sdk(util::SDK_APP_ID, config, Some(watch.clone())).map_err(|e| e.to_string())?;
    sdk.add_conversation_listener(watch.clone());
    let wait = Instant::now() + Duration::from_secs(10);
    while !watch.connected.load(Ordering::SeqCst) && Instant::now() < wait {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((sdk, rx))
}

/// Logs in and waits for `onSyncServerFinish`: (time to the callback, time to login's answer).
pub async fn login_and_sync(
    sdk: &Manager,
    finished: &mut mpsc::UnboundedReceiver<()>,
    user: &str,
) -> BenchResult<(Duration, Duration)> {
    let t0 = Instant::now();
    sdk.login(user.into(), util::sig(user)).await.map_err(|e| format!("login: {e}"))?;
    let login = t0.elapsed();
    match tokio::time::timeout(Duration::from_secs(300), finished.recv()).await {
        Ok(Some(())) => Ok((t0.elapsed(), login)),
        _ => Err("no onSyncServerFinish within 300 s".into()),
    }
}

/// Checks that the list holds every conversation of the fixture, each with its newest message.
pub async fn check_list(sdk: &Manager, convs: usize, per: usize) -> BenchResult<()> {
    let cm = sdk.conversation_manager();
    let mut next = 0;
    let mut seen = vec![false; convs];
    loop {
        let page = cm.conversation_list(next, 100).await.map_err(|e| format!("getConversationList: {e}"))?;
        for c in &page.conversation_list {
            let i: usize = c.user_id.strip_prefix("cp").and_then(|n| n.parse().ok()).ok_or("unknown conversation")?;
            let newest = format!("message {} of {i}", per - 1);
            match c.last_message.as_deref().map(|m| &m.elem) {
                Some(Elem::Text { text }) if *text == newest => seen[i] = true,
                other => return Err(format!("conversation {i}: last message {other:?}, expected {newest:?}")),
            }
        }
        if page.is_finished {
            break;
        }
        next = page.next_seq;
    }
    match seen.iter().filter(|s| !**s).count() {
        0 => Ok(()),
        n => Err(format!("{n} of {convs} conversations missing from the list after onSyncServerFinish")),
    }
}

async fn measure(ctx: &Ctx) -> BenchResult<(Duration, Duration, usize)> {
    let convs = ctx.sizes.cold_convs;
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let started = Instant::now();
    fixture(&dir.path().join("server"), USER, convs, PER).await?;
    eprintln!("cold sync: fixture of {convs} conversations × {PER} ({:.1} s)", started.elapsed().as_secs_f64());
    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;

    let (sdk, mut finished) = new_device(&server.addr.to_string(), dir.path().join("new-device")).await?;
    let (took, login) = login_and_sync(&sdk, &mut finished, USER).await?;
    let checked = check_list(&sdk, convs, PER).await;
    let _ = tokio::task::spawn_blocking(move || sdk.uninit_sdk()).await;
    drop(server);
    checked?;
    eprintln!("cold sync: {:.3} s", took.as_secs_f64());
    Ok((took, login, convs))
}
