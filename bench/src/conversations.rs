//! Conversation list: the first page of 100 of 10,000 conversations and the total unread count,
//! through the public API (`getConversationList(0, 100)` then
//! `getTotalUnreadMessageCount()`, timed together). Target: ≤ 10 ms (the p99 is compared).
//!
//! Fixture: the server holds 10,000 conversations of the user, one unread message from the peer
//! in each (written through the server's store, as the cold-sync benchmark does); a new device
//! logs in and syncs them, so the list is the one the SDK built itself. Every call is checked:
//! 100 conversations, newest first, and a total unread of exactly 10,000.

use std::time::Instant;

use crate::Ctx;
use crate::coldsync::{self, peer};
use crate::report::{Met, Row, Stats, count, dur};
use crate::util::{BenchResult, Proc};

/// The row's metric.
pub const METRIC: &str = "conversation list (100 of 10,000) + total unread";
const TARGET: &str = "p99 ≤ 10 ms";
const USER: &str = "lists";

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((stats, convs, sync)) => Row::new(
            METRIC,
            format!(
                "{} ({} calls of each; {} conversations, synced by a new device in {})",
                stats.summary(),
                count(stats.n as u64),
                count(convs as u64),
                dur(sync)
            ),
            TARGET,
            Met::check(stats.p99 <= 10_000_000, ctx.quick),
        ),
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

async fn measure(ctx: &Ctx) -> BenchResult<(Stats, usize, std::time::Duration)> {
    let convs = ctx.sizes.list_convs;
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let started = Instant::now();
    coldsync::fixture(&dir.path().join("server"), USER, convs, 1).await?;
    eprintln!("conversation list: fixture of {convs} conversations ({:.1} s)", started.elapsed().as_secs_f64());
    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;
    let (sdk, mut finished) = coldsync::new_device(&server.addr.to_string(), dir.path().join("device")).await?;
    let (sync, _) = coldsync::login_and_sync(&sdk, &mut finished, USER).await?;
    let result = time_calls(&sdk, convs, ctx.sizes.list_calls).await;
    let _ = tokio::task::spawn_blocking(move || sdk.uninit_sdk()).await;
    drop(server);
    let stats = result?;
    eprintln!("conversation list: {}", stats.summary());
    Ok((stats, convs, sync))
}

async fn time_calls(sdk: &oxim_core::Manager, convs: usize, calls: usize) -> BenchResult<Stats> {
    let cm = sdk.conversation_manager();
    let mut samples = Vec::with_capacity(calls);
    // The fixture wrote conversation i before i + 1: the newest is the last.
    let newest = peer(convs - 1);
    for i in 0..calls + 20 {
        let t = Instant::now();
        let page = cm.conversation_list(0, 100).await.map_err(|e| format!("getConversationList: {e}"))?;
        let total = cm.total_unread_message_count().await.map_err(|e| format!("getTotalUnreadMessageCount: {e}"))?;
        let took = t.elapsed().as_nanos() as u64;
        let first = page.conversation_list.first().map(|c| c.user_id.as_str());
        if page.conversation_list.len() != 100.min(convs) || first != Some(newest.as_str()) {
            return Err(format!("first page: {} conversations, first {first:?}", page.conversation_list.len()));
        }
        if total != convs as u64 {
            return Err(format!("total unread {total}, expected {convs}"));
        }
        // The first 20 warm the caches.
        if i >= 20 {
            samples.push(took);
        }
    }
    Stats::of(samples).ok_or_else(|| "no samples".into())
}
