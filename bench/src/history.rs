//! Local history page: pages of 20 messages through the public API
//! (`MessageManager::get_history_message_list` with `LocalOlder`) from a device whose store
//! holds a million messages.
//!
//! Fixture: the store is filled before login through the SDK's own store module
//! (`oxim_core::store::store_received`, the function that stores delivered messages, in
//! transactions of 5,000 messages), as if the device had received them: half the messages in
//! one long conversation, the other half in conversations of 1,000. Pages are read at random
//! depths of the long conversation (anchored by seq) and as the newest page of random short
//! ones, alternately.

use std::time::Instant;

use oxim_core::store::{Store, store_received};
use oxim_core::{ConvId, Elem, HistoryGetType, HistoryOption, LogLevel, Manager, SdkConfig, WireMessage};

use crate::Ctx;
use crate::report::{Met, Row, Stats, count};
use crate::util::{self, BenchResult, Proc};

const METRIC: &str = "local history page (20 msgs)";
const TARGET: &str = "p99 ≤ 1 ms";
const USER: &str = "hist";
const SHORT: u64 = 1_000;
const BATCH: u64 = 5_000;

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((stats, total)) => Row::new(
            METRIC,
            format!("{} ({} pages, store of {} messages)", stats.summary(), count(stats.n as u64), count(total)),
            TARGET,
            Met::check(stats.p99 <= 1_000_000, ctx.quick),
        ),
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

fn peer(c: u64) -> String {
    format!("peer{c}")
}

/// Conversation 0 is the long one; the others hold [`SHORT`] messages each.
fn layout(total: u64) -> Vec<u64> {
    let long = total / 2;
    let mut convs = vec![long];
    convs.extend(std::iter::repeat_n(SHORT, ((total - long) / SHORT) as usize));
    convs
}

async fn fill(path: &std::path::Path, convs: &[u64]) -> BenchResult<()> {
    let store = Store::open(path).map_err(|e| e.to_string())?;
    let base_ms = oxim_core::client::unix_ms() - 400 * 86_400_000;
    for (c, &n) in convs.iter().enumerate() {
        let conv = ConvId::C2C(peer(c as u64));
        let mut after = 0;
        while after < n {
            let upto = (after + BATCH).min(n);
            let msgs: Vec<WireMessage> = (after + 1..=upto)
                .map(|seq| {
                    let mut w = WireMessage::new(
                        format!("h{c}x{seq}"),
                        Elem::Text { text: format!("history message {seq} of conversation {c}, some words to read") },
                    );
                    w.seq = seq;
                    (w.sender, w.receiver) =
                        if seq % 2 == 0 { (peer(c as u64), USER.into()) } else { (USER.into(), peer(c as u64)) };
                    w.time_ms = base_ms + (seq * 10) as i64;
                    w
                })
                .collect();
            let conv = conv.clone();
            store
                .call(move |db| store_received(db, USER, &conv, &msgs, Some((after, upto)), i64::MAX))
                .await
                .map_err(|e| e.to_string())?;
            after = upto;
        }
    }
    store.close();
    Ok(())
}

async fn measure(ctx: &Ctx) -> BenchResult<(Stats, u64)> {
    let total = ctx.sizes.history_messages;
    let convs = layout(total);
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let device = dir.path().join("device");
    let started = Instant::now();
    fill(&device.join(util::SDK_APP_ID.to_string()).join(USER).join("oxim.db"), &convs).await?;
    eprintln!(
        "history: fixture of {total} messages in {} conversations ({:.1} s)",
        convs.len(),
        started.elapsed().as_secs_f64()
    );

    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;
    let sdk = Manager::new();
    let mut config = SdkConfig::new(format!("ws://{}", server.addr), &device);
    config.log_level = LogLevel::None;
    sdk.init_sdk(util::SDK_APP_ID, config, None).map_err(|e| e.to_string())?;
    sdk.login(USER.into(), util::sig(USER)).await.map_err(|e| format!("login: {e}"))?;
    let mm = sdk.message_manager();
    let long = convs[0];
    let mut samples = Vec::with_capacity(ctx.sizes.history_pages);
    let mut wrong = 0;
    for i in 0..ctx.sizes.history_pages + 50 {
        let (conv, seq) =
            if i % 2 == 0 { (0, fastrand::u64(21..=long)) } else { (fastrand::u64(1..convs.len() as u64), 0) };
        let option = HistoryOption {
            get_type: HistoryGetType::LocalOlder,
            user_id: peer(conv),
            group_id: String::new(),
            count: 20,
            last_msg: None,
            last_msg_seq: seq,
        };
        let t = Instant::now();
        let page = mm.get_history_message_list(option).await;
        let took = t.elapsed().as_nanos() as u64;
        let page = page.map_err(|e| format!("history: {e}"))?;
        // The page below seq (or the newest), newest first.
        let top = if seq == 0 { convs[conv as usize] } else { seq - 1 };
        if page.len() != 20 || page[0].seq != top || page[19].seq != top - 19 {
            wrong += 1;
        }
        // The first 50 warm the caches.
        if i >= 50 {
            samples.push(took);
        }
    }
    let _ = tokio::task::spawn_blocking(move || sdk.uninit_sdk()).await;
    drop(server);
    if wrong > 0 {
        return Err(format!("{wrong} pages were not the 20 expected messages"));
    }
    let stats = Stats::of(samples).ok_or("no samples")?;
    eprintln!("history: {}", stats.summary());
    Ok((stats, total))
}

#[cfg(test)]
mod tests {
    #[test]
    fn half_in_one_conversation() {
        let l = super::layout(1_000_000);
        assert_eq!((l[0], l.len(), l.iter().sum::<u64>()), (500_000, 501, 1_000_000));
    }
}
