//! Persisted C2C throughput of one server node: many raw protocol clients (light load
//! generators, so the server gets the machine's cores) each pipeline `msg.send` requests to
//! random other users, with a bounded number in flight per connection. A message counts once
//! the sender has its acknowledgement (the server committed it and fsynced the commit: the
//! default `--durability full`) and the receiver has its push. Afterwards the server's database
//! must hold every message exactly once. The baseline is the same run against a server with
//! `--durability relaxed` (answered before the fsync): what durability costs. Message ids are
//! made as the SDK makes them (`oxim_core::message::new_msg_id`): their shape decides where the
//! server's id index takes each message.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::report::{Met, Row, count};
use crate::util::{self, BenchResult, Proc};

const METRIC: &str = "persisted C2C throughput (fsynced before the answer)";
const TARGET: &str = "≥ 40,000 fsynced msgs/s";

/// Each client here sends as fast as the server answers (hundreds of messages a second, far
/// beyond the per-user rate of `[limits]`, 100 a second): the rate is raised out of reach, still
/// checked on every send, so the row measures the server, not the limit.
const UNTHROTTLED: &str = "10000000";

#[derive(Default)]
struct Counters {
    acked: AtomicUsize,
    refused: AtomicUsize,
    pushed: AtomicUsize,
}

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    let relaxed = measure(ctx, "relaxed").await;
    match measure(ctx, "full").await {
        Ok((rate, total, users, elapsed)) => {
            let mut row = Row::new(
                METRIC,
                format!(
                    "{} msgs/s ({} msgs stored, fsynced and delivered in {:.2} s, {} connections)",
                    count(rate as u64),
                    count(total as u64),
                    elapsed.as_secs_f64(),
                    users
                ),
                TARGET,
                Met::check(rate >= 40_000.0, ctx.quick),
            );
            match relaxed {
                Ok((base, ..)) => {
                    row.baseline = format!("{} msgs/s with --durability relaxed (not fsynced)", count(base as u64));
                    row.ratio = format!("{:.2}×", rate / base);
                }
                Err(e) => row.baseline = format!("relaxed run failed: {e}"),
            }
            row
        }
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

async fn measure(ctx: &Ctx, durability: &str) -> BenchResult<(f64, usize, usize, Duration)> {
    let (users, total, window) = (ctx.sizes.throughput_users, ctx.sizes.throughput_msgs, ctx.sizes.throughput_window);
    eprintln!("throughput ({durability}): {users} raw clients, {total} messages, {window} in flight per connection");
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let server = Proc::oxim_server_with(
        &ctx.server_bin,
        &dir.path().join("server"),
        &["--durability", durability, "--user-msgs-per-sec", UNTHROTTLED, "--user-msgs-burst", UNTHROTTLED],
    )?;
    let url = server.ws_url();
    let conns = util::for_each_parallel((0..users).collect(), 32, |i| {
        let url = url.clone();
        async move { (i, util::raw_login(&url, &format!("t{i}")).await) }
    })
    .await;

    let counters = Arc::new(Counters::default());
    let (start_tx, start_rx) = watch::channel(false);
    let mut senders = Vec::new();
    for (i, ws) in conns {
        let (mut sink, mut stream) = ws?.split();
        let permits = Arc::new(Semaphore::new(window));
        let (c, p) = (counters.clone(), permits.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let text = text.as_str();
                if let Some(code) = util::response_code(text) {
                    if code == 0 { &c.acked } else { &c.refused }.fetch_add(1, Ordering::Relaxed);
                    p.add_permits(1);
                } else if util::is_msg_push(text) {
                    c.pushed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let quota = total / users + usize::from(i < total % users);
        let mut start = start_rx.clone();
        senders.push(tokio::spawn(async move {
            let _ = start.wait_for(|s| *s).await;
            for j in 0..quota {
                permits.acquire().await.expect("never closed").forget();
                let mut to = fastrand::usize(..users - 1);
                if to >= i {
                    to += 1;
                }
                let frame = format!(
                    r#"{{"v":1,"t":"req","id":{},"op":"msg.send","body":{{"msg":{{"msg_id":"{}","receiver":"t{to}","elem":{{"type":"text","text":"throughput message {j} from t{i}"}}}}}}}}"#,
                    j + 2,
                    oxim_core::message::new_msg_id()
                );
                if sink.send(Message::text(frame)).await.is_err() {
                    return;
                }
            }
        }));
    }

    let t0 = Instant::now();
    let _ = start_tx.send(true);
    let deadline = t0 + Duration::from_secs(180);
    let done = |c: &Counters| {
        c.acked.load(Ordering::Relaxed) + c.refused.load(Ordering::Relaxed) >= total
            && c.pushed.load(Ordering::Relaxed) >= total
    };
    while !done(&counters) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = t0.elapsed();
    for s in senders {
        let _ = s.await;
    }
    let (acked, refused, pushed) = (
        counters.acked.load(Ordering::Relaxed),
        counters.refused.load(Ordering::Relaxed),
        counters.pushed.load(Ordering::Relaxed),
    );
    if acked != total || refused > 0 || pushed != total {
        return Err(format!("{acked} of {total} acknowledged, {refused} refused, {pushed} pushed"));
    }
    let stored = stored_messages(&dir.path().join("server"))?;
    if stored != total as u64 {
        return Err(format!("the server stored {stored} messages, {total} were sent"));
    }
    drop(server);
    Ok((total as f64 / elapsed.as_secs_f64(), total, users, elapsed))
}

/// C2C messages in the server's database (read beside the running server: WAL allows it).
pub fn stored_messages(server_dir: &std::path::Path) -> BenchResult<u64> {
    let db =
        rusqlite::Connection::open_with_flags(server_dir.join("oxim.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
    db.query_row("SELECT count(*) FROM msg WHERE conv_key LIKE 'c2c:%'", [], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(|e| e.to_string())
}
