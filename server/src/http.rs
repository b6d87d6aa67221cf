//! HTTP routes: `GET /healthz` and the WebSocket endpoint `GET /v1/ws`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::mpsc;

use crate::app::App;
use crate::gateway;

/// Largest WebSocket message accepted (a 12 KB message body plus JSON overhead fits easily).
const MAX_WS_MESSAGE: usize = 1 << 20;

#[derive(Clone)]
struct RouteState {
    app: Arc<App>,
    alive: mpsc::Sender<()>,
}

/// The server's routes.
pub fn router(app: Arc<App>, alive: mpsc::Sender<()>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/v1/ws", get(websocket)).with_state(RouteState { app, alive })
}

async fn healthz(State(state): State<RouteState>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": oxim_proto::PROTOCOL_VERSION,
        "sessions": state.app.sessions.count(),
    }))
}

async fn websocket(State(state): State<RouteState>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.max_message_size(MAX_WS_MESSAGE).on_upgrade(move |socket| gateway::serve_socket(state.app, socket, state.alive))
}
