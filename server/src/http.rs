//! HTTP routes: `GET /healthz`, `GET /metrics` (Prometheus text), the WebSocket endpoint
//! `GET /v1/ws`, and the file routes of [`crate::media`] (`/v1/files`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::mpsc;

use crate::app::App;
use crate::gateway;
use crate::gateway::limits::{MAX_WS_MESSAGE, WS_READ_BUFFER};

#[derive(Clone)]
struct RouteState {
    app: Arc<App>,
    alive: mpsc::Sender<()>,
}

/// Files may be read by their uploader and by the participants of every conversation a message
/// referencing them was sent into.
struct ConversationFileAccess {
    store: Arc<dyn crate::store::Store>,
}

#[async_trait::async_trait]
impl crate::media::FileAccess for ConversationFileAccess {
    async fn may_read(&self, user: &str, uuid: &str, owner: &str) -> bool {
        user == owner || self.store.file_shared_with(user, uuid).await.unwrap_or(false)
    }
}

/// Who uploaded a file, as the file store's metadata says (for [`crate::handlers::FileOwners`]).
pub struct BlobOwners(pub Arc<dyn crate::media::BlobStore>);

#[async_trait::async_trait]
impl crate::handlers::FileOwners for BlobOwners {
    async fn owner(&self, uuid: &str) -> Option<String> {
        if !oxim_proto::media::is_valid_file_uuid(uuid) {
            return None;
        }
        self.0.stat(uuid).await.ok().flatten().map(|meta| meta.owner)
    }
}

/// The server's routes.
pub fn router(app: Arc<App>, alive: mpsc::Sender<()>, blobs: Arc<dyn crate::media::BlobStore>) -> Router {
    let services = &app.services;
    let access = Arc::new(ConversationFileAccess { store: services.store.clone() });
    let mut media = crate::media::MediaState::new(services.sigs.clone(), services.config.sdk_app_id, blobs, access);
    let limits = &services.config.limits;
    media.uploads.min_bytes_per_sec = limits.upload_min_bytes_per_sec;
    media.uploads.grace = std::time::Duration::from_secs(limits.upload_grace_secs);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/ws", get(websocket))
        .with_state(RouteState { app, alive })
        .merge(crate::media::routes(media))
}

/// 200 with `"status": "ok"`; 503 with `"status": "unhealthy"` when the store cannot take
/// writes (its writer stopped), so a supervisor restarts the server.
async fn healthz(State(state): State<RouteState>) -> impl IntoResponse {
    let healthy = state.app.services.store.healthy();
    let status = if healthy { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    let body = axum::Json(serde_json::json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "store": if healthy { "ok" } else { "the store writer stopped" },
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": oxim_proto::PROTOCOL_VERSION,
        "sessions": state.app.sessions.count(),
    }));
    (status, body)
}

/// Prometheus' text format: the open sessions and what offline push did (per business id).
async fn metrics(State(state): State<RouteState>) -> impl IntoResponse {
    let mut text = format!(
        "# HELP oxim_sessions Sessions open.\n# TYPE oxim_sessions gauge\noxim_sessions {}\n",
        state.app.sessions.count()
    );
    text.push_str(&format!(
        "# HELP oxim_msgs_rate_refused_total Messages refused for the per-user message rate (-10113).\n\
         # TYPE oxim_msgs_rate_refused_total counter\noxim_msgs_rate_refused_total {}\n",
        state.app.send_rates.refused()
    ));
    if let Some(pusher) = &state.app.pusher {
        text.push_str(&pusher.metrics().prometheus());
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

async fn websocket(State(state): State<RouteState>, ws: WebSocketUpgrade) -> axum::response::Response {
    // Counted from before the upgrade: a flood of handshakes cannot get past the cap either.
    let Some(open) = state.app.open_conn(state.app.services.config.max_connections) else {
        tracing::warn!("connection refused: {} open", state.app.open_conns());
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    ws.max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .read_buffer_size(WS_READ_BUFFER)
        .on_upgrade(move |socket| {
            // The socket goes into the connection's future before this one is built, so it is
            // not kept twice.
            let serving = gateway::serve_socket(state.app, socket, state.alive);
            async move {
                serving.await;
                drop(open);
            }
        })
        .into_response()
}
