//! Server memory per idle connection: the slope of the server process's resident memory over
//! a growing number of idle, logged-in connections, against the slope of a bare
//! tokio-tungstenite echo server process over the same numbers of idle connections.
//!
//! Both servers run as their own processes, so their RSS (`/proc/<pid>/status`) holds none of
//! the clients' memory. The number of connections is capped by the file-descriptor limit:
//! each process holds one descriptor per connection.

use std::future::Future;
use std::time::Duration;

use oxim_server::store::{Store as _, UserStore as _};

use crate::Ctx;
use crate::report::{Met, Row, bytes, count, ratio, slope};
use crate::util::{self, BenchResult, Proc, Ws};

const METRIC: &str = "server memory per idle connection";
const TARGET: &str = "≤ 1.5× echo slope";

/// The connection counts to measure at, up to `max` (at most what the descriptor limit allows).
fn points(max: usize, fd_limit: u64) -> Vec<usize> {
    let cap = (fd_limit as usize).saturating_sub(400).min(max);
    [1, 3, 5, 7, 9].iter().map(|i| cap * i / 9).collect()
}

/// Runs the benchmark.
pub async fn run(ctx: &Ctx) -> Row {
    let points = points(ctx.sizes.memory_max, ctx.fd_limit);
    let (first, last) = (points[0], *points.last().expect("points"));
    eprintln!("memory: idle connections at {points:?} (descriptor limit {})", ctx.fd_limit);
    let echo = match echo_slope(&points).await {
        Ok(s) => s,
        Err(e) => return Row::failed(METRIC, TARGET, &format!("echo baseline: {e}")),
    };
    let oxim = match oxim_slope(ctx, &points).await {
        Ok(s) => s,
        Err(e) => return Row::failed(METRIC, TARGET, &e),
    };
    let limited = if last < ctx.sizes.memory_max {
        format!("; capped at {} by the descriptor limit {}", count(last as u64), count(ctx.fd_limit))
    } else {
        String::new()
    };
    Row {
        metric: METRIC.into(),
        value: format!(
            "{} per connection (RSS slope over {} → {} logged-in connections: {} → {}{limited})",
            bytes(oxim.slope),
            count(first as u64),
            count(last as u64),
            bytes(oxim.rss[0] as f64),
            bytes(*oxim.rss.last().expect("points") as f64),
        ),
        baseline: format!("echo {} per connection", bytes(echo.slope)),
        ratio: ratio(oxim.slope, echo.slope),
        target: TARGET.into(),
        met: Met::check(oxim.slope <= 1.5 * echo.slope, ctx.quick),
    }
}

struct Slope {
    slope: f64,
    rss: Vec<u64>,
}

/// Opens connections up to each of `points`, reading the server's RSS at each.
async fn measure<F, Fut>(server: &Proc, points: &[usize], open: F) -> BenchResult<Slope>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = BenchResult<Ws>>,
{
    let mut conns: Vec<Ws> = Vec::new();
    let mut rss = Vec::new();
    for &n in points {
        let opened = util::for_each_parallel((conns.len()..n).collect(), 64, &open).await;
        for c in opened {
            conns.push(c?);
        }
        // Let the server finish with the handshakes before reading its memory.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let r = server.rss()?;
        eprintln!("memory:   {n} connections: RSS {}", bytes(r as f64));
        rss.push(r);
    }
    let pts: Vec<(f64, f64)> = points.iter().zip(&rss).map(|(n, r)| (*n as f64, *r as f64)).collect();
    Ok(Slope { slope: slope(&pts), rss })
}

async fn echo_slope(points: &[usize]) -> BenchResult<Slope> {
    let mut server = Proc::echo_server()?;
    let url = format!("ws://{}/", server.addr);
    let s = measure(&server, points, |_| util::connect(&url)).await;
    // The server closes first, so the clients' ports are not left in TIME_WAIT.
    server.stop();
    s
}

async fn oxim_slope(ctx: &Ctx, points: &[usize]) -> BenchResult<Slope> {
    let dir = tempfile::tempdir_in(&ctx.tmp).map_err(|e| e.to_string())?;
    let data = dir.path().join("server");
    let last = *points.last().expect("points");
    // Fixture: the users exist already (a server's users mostly do), so the slope is the
    // connections' memory, not the user table's growth.
    {
        let store = oxim_server::store::sqlite::SqliteStore::open(&data).map_err(|e| e.to_string())?;
        let users: Vec<String> = (0..last).map(|i| format!("m{i}")).collect();
        let regs = futures_util::future::join_all(users.iter().map(|u| store.register_user(u))).await;
        regs.into_iter().collect::<Result<Vec<()>, _>>().map_err(|e| e.to_string())?;
        store.close().await;
    }
    let mut server = Proc::oxim_server(&ctx.server_bin, &data)?;
    let url = server.ws_url();
    let s = measure(&server, points, |i| {
        let url = url.clone();
        async move { util::raw_login(&url, &format!("m{i}")).await }
    })
    .await;
    server.stop();
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn points_respect_the_descriptor_limit() {
        assert_eq!(super::points(18_000, 20_000), [2000, 6000, 10000, 14000, 18000]);
        assert_eq!(*super::points(50_000, 20_000).last().unwrap(), 19_600);
        assert_eq!(super::points(900, 1024)[4], 624);
    }
}
