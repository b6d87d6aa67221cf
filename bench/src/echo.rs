//! The baseline server: a bare tokio-tungstenite echo server (`oxim-bench echo-server`), run as
//! its own process so its memory and CPU are measured apart from the clients'.
//!
//! Its connections have the same read buffer as oxim-server's
//! ([`oxim_server::gateway::limits::WS_READ_BUFFER`]): tungstenite's default of 128 KiB would dominate
//! both servers' memory per connection and hide what oxim adds on top of the transport.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Serves until killed: every connection echoes text and binary messages. It prints
/// `echo-server listening on ADDR` first.
pub fn main() {
    // The same runtime shape as oxim-server's (a worker per core).
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        println!("echo-server listening on {}", listener.local_addr().expect("bound address"));
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors: wait for some to be freed rather than spin.
                    eprintln!("echo-server: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let config = WebSocketConfig::default().read_buffer_size(oxim_server::gateway::limits::WS_READ_BUFFER);
                let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else { return };
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_close() {
                        return;
                    }
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}
