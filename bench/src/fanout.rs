//! Group fan-out: one message to an AVChatRoom of many online members. The members are raw
//! protocol clients (one SDK instance each would measure the test machine, not the server):
//! each logs in, joins the room and reads every frame. The owner sends a few messages, one at a
//! time; a delivery's latency runs from the owner's send to a member reading the push.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::report::{Met, Row, Stats, count, ns};
use crate::util::{self, BenchResult, Proc, since};

const METRIC: &str = "group fan-out";
const TARGET: &str = "all delivered, p99 ≤ 250 ms";
const ROOM: &str = "bench-room";

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    match measure(ctx).await {
        Ok((stats, members, msgs)) => Row::new(
            METRIC,
            format!(
                "{} ({} of {} deliveries: {} messages × {} members, AVChatRoom)",
                stats.summary(),
                count(stats.n as u64),
                count((msgs * members) as u64),
                msgs,
                count(members as u64)
            ),
            TARGET,
            Met::check(stats.p99 <= 250_000_000, ctx.quick),
        ),
        Err(e) => Row::failed(METRIC, TARGET, &e),
    }
}

/// The `k` of a push carrying `"text":"fanout <k>"`.
fn fanout_index(text: &str) -> Option<usize> {
    const KEY: &str = r#""text":"fanout "#;
    let rest = &text[text.find(KEY)? + KEY.len()..];
    rest[..rest.find('"')?].parse().ok()
}

async fn measure(ctx: &Ctx) -> BenchResult<(Stats, usize, usize)> {
    let (members, msgs) = (ctx.sizes.fanout_members, ctx.sizes.fanout_msgs);
    eprintln!("fan-out: {members} members, {msgs} messages");
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let server = Proc::oxim_server(&ctx.server_bin, &dir.path().join("server"))?;
    let url = server.ws_url();
    let mut owner = util::raw_login(&url, "fan-owner").await?;
    let create = serde_json::json!({"group_type": "AVChatRoom", "group_id": ROOM, "name": "bench"});
    util::call(&mut owner, 2, "group.create", create).await?;

    let base = Instant::now();
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..msgs).map(|_| AtomicU64::new(0)).collect());
    let started = Instant::now();
    let joined = util::for_each_parallel((0..members).collect(), 100, |i| {
        let url = url.clone();
        async move {
            let mut ws = util::raw_login(&url, &format!("fan{i}")).await?;
            util::call(&mut ws, 2, "group.join", serde_json::json!({"group_id": ROOM})).await?;
            // Read from now on (room notices arrive while the others join).
            Ok::<_, String>(tokio::spawn(async move {
                let mut got = vec![0u64; msgs];
                let mut seen = 0;
                while seen < msgs {
                    let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(30), ws.next()).await else {
                        break;
                    };
                    if let Message::Text(t) = frame
                        && let Some(k) = fanout_index(t.as_str())
                        && k < msgs
                        && got[k] == 0
                    {
                        got[k] = since(base).max(1);
                        seen += 1;
                    }
                }
                // The connection stays open until every member is done: closing 10,000
                // connections would load the machine while the last message is delivered.
                (got, ws)
            }))
        }
    })
    .await;
    let readers = joined.into_iter().collect::<BenchResult<Vec<_>>>()?;
    eprintln!("fan-out: {members} members joined ({:.1} s)", started.elapsed().as_secs_f64());
    // A new rate window: the join notices of the last second do not count against the sends.
    tokio::time::sleep(Duration::from_millis(1200)).await;

    for k in 0..msgs {
        sent[k].store(since(base), Ordering::SeqCst);
        let body = serde_json::json!({"msg": {"msg_id": format!("fan-{k}"), "group_id": ROOM,
                                              "elem": {"type": "text", "text": format!("fanout {k}")}}});
        util::call(&mut owner, 10 + k as u64, "msg.send", body).await?;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let mut per_msg = vec![Vec::with_capacity(members); msgs];
    let mut missing = 0;
    let mut open = Vec::with_capacity(members);
    for r in readers {
        let (got, ws) = r.await.map_err(|e| e.to_string())?;
        open.push(ws);
        for (k, g) in got.iter().enumerate() {
            if *g == 0 {
                missing += 1;
            } else {
                per_msg[k].push(g.saturating_sub(sent[k].load(Ordering::SeqCst)));
            }
        }
    }
    for (k, l) in per_msg.iter().enumerate() {
        if let Some(s) = Stats::of(l.clone()) {
            eprintln!("fan-out:   message {}: {}", k + 1, s.summary());
        }
    }
    let latencies: Vec<u64> = per_msg.into_iter().flatten().collect();
    drop(server);
    drop(open);
    if missing > 0 {
        return Err(format!("{missing} of {} deliveries missing", members * msgs));
    }
    let stats = Stats::of(latencies).ok_or("no deliveries")?;
    eprintln!("fan-out: {} (max {})", stats.summary(), ns(stats.max));
    Ok((stats, members, msgs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_message_number() {
        let frame = r#"{"v":1,"t":"push","op":"msg","body":{"elem":{"type":"text","text":"fanout 12"}}}"#;
        assert_eq!(super::fanout_index(frame), Some(12));
        assert_eq!(super::fanout_index(r#"{"text":"hello"}"#), None);
    }
}
