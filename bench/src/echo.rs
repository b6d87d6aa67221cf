//! The baseline server: a bare tokio-tungstenite echo server (`oxim-bench echo-server`), run as
//! its own process so its memory and CPU are measured apart from the clients'.
//!
//! Its connections have the same read buffer as oxim-server's
//! ([`oxim_server::gateway::limits::WS_READ_BUFFER`]): tungstenite's default of 128 KiB would dominate
//! both servers' memory per connection and hide what oxim adds on top of the transport.

use futures_util::{SinkExt, StreamExt};

/// Serves until killed: every connection echoes text and binary messages. It prints
/// `echo-server listening on ADDR` first.
pub fn main() {
    crate::util::serve_ws("echo-server", |mut ws| async move {
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
