//! Cold login + sync: a new device of a user who has many conversations on the server. The
//! figure runs from the `login` call (the SDK already connected, as after `initSDK`) until
//! every conversation's latest messages are stored on the device.
//!
//! Fixture: the server's database is written before the server starts, through the server's
//! own store (`SqliteStore::append`, the path `msg.send` takes), 20 messages in each
//! conversation, alternately from the peer and from the user's other device.
//!
//! `onSyncServerFinish` and the conversation list do not exist yet, so the end is observed by
//! polling `Manager::local_message_count` (the conversation synced last first, then all of
//! them). Once the conversation manager lands, this row switches to: login → the
//! `onSyncServerFinish` callback with `getConversationList` complete.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oxim_core::{Elem, LogLevel, Manager, SdkConfig, SdkListener, WireMessage};
use oxim_server::store::Store as _;
use oxim_server::store::sqlite::{SqliteStore, c2c_target};

use crate::Ctx;
use crate::report::{Met, Row, count, dur};
use crate::util::{self, BenchResult, Proc};

const METRIC: &str = "cold login + sync";
const TARGET: &str = "≤ 2 s";
const USER: &str = "cold";

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((took, login, convs, per)) => Row::new(
            METRIC,
            format!(
                "{} (login answered after {}; {} conversations × {} messages; end seen by polling the local store)",
                dur(took),
                dur(login),
                count(convs as u64),
                per
            ),
            TARGET,
            Met::check(took <= Duration::from_secs(2), ctx.quick),
        ),
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

fn peer(i: usize) -> String {
    format!("cp{i}")
}

async fn fixture(dir: &std::path::Path, convs: usize, per: usize) -> BenchResult<()> {
    let store = SqliteStore::open(dir).map_err(|e| e.to_string())?;
    store.register_user(USER).await.map_err(|e| e.to_string())?;
    for i in 0..convs {
        store.register_user(&peer(i)).await.map_err(|e| e.to_string())?;
    }
    // Round by round, so the conversations change in order and the last one is synced last.
    for j in 0..per {
        let mut queued = Vec::with_capacity(convs);
        for i in 0..convs {
            let (from, to) = if j % 2 == 0 { (peer(i), USER.to_owned()) } else { (USER.to_owned(), peer(i)) };
            let mut msg = WireMessage::new(format!("cold{i}x{j}"), Elem::Text { text: format!("message {j} of {i}") });
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

/// Notices `onConnectSuccess`.
struct Connected(AtomicBool);

impl SdkListener for Connected {
    fn on_connect_success(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn complete(sdk: &Manager, i: usize, per: usize) -> BenchResult<bool> {
    let n = sdk.local_message_count(format!("c2c_{}", peer(i))).await.map_err(|e| e.to_string())?;
    Ok(n >= per as u64)
}

async fn measure(ctx: &Ctx) -> BenchResult<(Duration, Duration, usize, usize)> {
    let (convs, per) = (ctx.sizes.cold_convs, 20);
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let started = Instant::now();
    fixture(&dir.path().join("server"), convs, per).await?;
    eprintln!("cold sync: fixture of {convs} conversations × {per} ({:.1} s)", started.elapsed().as_secs_f64());
    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;

    let sdk = Manager::new();
    let mut config = SdkConfig::new(format!("ws://{}", server.addr), dir.path().join("new-device"));
    config.log_level = LogLevel::None;
    let connected = Arc::new(Connected(AtomicBool::new(false)));
    sdk.init_sdk(util::SDK_APP_ID, config, Some(connected.clone())).map_err(|e| e.to_string())?;
    let wait = Instant::now() + Duration::from_secs(10);
    while !connected.0.load(Ordering::SeqCst) && Instant::now() < wait {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let t0 = Instant::now();
    sdk.login(USER.into(), util::sig(USER)).await.map_err(|e| format!("login: {e}"))?;
    let login = t0.elapsed();
    let deadline = t0 + Duration::from_secs(120);
    let wait_for = |i: usize| {
        let sdk = &sdk;
        async move {
            while !complete(sdk, i, per).await? {
                if Instant::now() > deadline {
                    return Err(format!("conversation {i} incomplete after 120 s"));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Ok::<_, String>(())
        }
    };
    // The last conversation is synced last: when it is complete, the sync is done. The others
    // are checked afterwards (not timed); if one were still missing, the time would run on.
    wait_for(convs - 1).await?;
    let mut took = t0.elapsed();
    for i in 0..convs - 1 {
        if !complete(&sdk, i, per).await? {
            wait_for(i).await?;
            took = t0.elapsed();
        }
    }
    let _ = tokio::task::spawn_blocking(move || sdk.uninit_sdk()).await;
    drop(server);
    eprintln!("cold sync: {:.3} s", took.as_secs_f64());
    Ok((took, login, convs, per))
}
