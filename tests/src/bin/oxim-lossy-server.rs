//! The server on a disk that loses what was not fsynced when the power goes out
//! (`oxim_tests::power_loss`), for the power-loss test.
//!
//! `oxim-lossy-server DATA_DIR LISTEN_ADDR [DURABILITY]` starts the server with its test
//! configuration (and `--durability DURABILITY`, default full) on DATA_DIR and prints
//! `listening ADDR`. A line `power-cut` on stdin puts every SQLite file of
//! DATA_DIR back to what its last fsync made durable, prints `power-cut BYTES` (how many bytes
//! were lost) and stops writing; the test then kills the process.

use std::io::BufRead;

use oxim_server::{Server, ServerConfig};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: oxim-lossy-server DATA_DIR LISTEN_ADDR [full|relaxed]");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&dir).expect("data dir");
    oxim_tests::power_loss::install(std::path::Path::new(&dir));
    let mut config = ServerConfig::for_tests(&dir);
    config.listen = listen.parse().expect("LISTEN_ADDR");
    if let Some(durability) = args.next() {
        config.durability = durability.parse().expect("DURABILITY");
    }
    let server = Server::start(config).await.expect("server start");
    println!("listening {}", server.addr());
    let lines = tokio::task::spawn_blocking(|| {
        for line in std::io::stdin().lock().lines() {
            if line.is_ok_and(|l| l.trim() == "power-cut") {
                let lost = oxim_tests::power_loss::lose_unsynced_writes();
                println!("power-cut {lost}");
                return;
            }
        }
    });
    lines.await.expect("stdin reader");
    // The power is out: nothing more reaches the files. Wait to be killed.
    std::future::pending::<()>().await;
    drop(server);
}
