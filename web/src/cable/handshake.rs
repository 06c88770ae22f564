//! `GET /cable`: what is refused before the upgrade, and the upgrade itself.
//!
//! As Rails does, a request from an origin outside `ALLOWED_ORIGINS` (or without one) and a
//! request that is not a WebSocket upgrade get 404; the refusal is logged. A replica that is
//! draining or full answers 503, so the client's reconnection lands elsewhere. The
//! subprotocol `actioncable-v1-json` is chosen when offered; a client offering none is served
//! the same protocol (Rails accepts it too), without the header.

use std::time::Duration;

use poem::web::Data;
use poem::web::websocket::{WebSocket, WebSocketConfig};
use poem::{IntoResponse, Request, Response, handler};
use shared::domain::Origin;
use shared::i18n::Alert;

use super::frames::PROTOCOL;
use super::session;
use crate::error::Failure;
use crate::state::AppState;

/// The largest frame a client may send. Larger ones, up to [`READ_LIMIT`], close the
/// socket with 1009 (as API Gateway does); beyond it the frame is not even buffered.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
const READ_LIMIT: usize = 2 * MAX_FRAME_BYTES;
/// Small buffers: an idle socket should cost little memory (tungstenite's default read
/// buffer alone is 128 KB).
const READ_BUFFER: usize = 4 * 1024;
/// How long an upgrade waits for the stream subscription (web just started) before 503.
const STREAMS_WAIT: Duration = Duration::from_secs(5);

#[handler]
pub async fn upgrade(
    request: &Request,
    websocket: poem::Result<WebSocket>,
    Data(state): Data<&AppState>,
) -> Response {
    let locale = state.common.locale;
    let refuse = |alert: Alert| Failure::from(alert).into_reply(locale).into_response();
    if let Err(origin) = check_origin(request, state) {
        tracing::warn!(
            origin,
            "Action Cable: refused a connection from an origin not allowed"
        );
        return refuse(Alert::RequestNotFound);
    }
    let Ok(websocket) = websocket else {
        tracing::info!("Action Cable: refused a request that is not a WebSocket upgrade");
        return refuse(Alert::RequestNotFound);
    };
    if state.draining.is_draining() {
        return refuse(Alert::ServiceUnavailable);
    }
    // A socket accepted while this replica does not listen to the streams would miss
    // broadcasts without knowing it: wait a moment (start-up), then refuse so that the
    // client retries, here or on another replica.
    if !state.cable.registry.wait_for_streams(STREAMS_WAIT).await {
        tracing::warn!("Action Cable: refused a connection, the streams' Redis is unreachable");
        return refuse(Alert::ServiceUnavailable);
    }
    let Some(admission) = state.cable.registry.admit() else {
        tracing::warn!(
            max = state.web.cable.max_connections,
            "Action Cable: refused a connection, ACTION_CABLE_MAX_CONNECTIONS reached"
        );
        return refuse(Alert::ServiceUnavailable);
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(READ_LIMIT))
        .max_frame_size(Some(READ_LIMIT));
    let state = state.clone();
    websocket
        .protocols([PROTOCOL])
        .config(config)
        .on_upgrade(move |socket| session::run(state, socket, admission))
        .into_response()
}

/// `Err` with the origin (`"<none>"` when missing) when it is not allowed.
fn check_origin(request: &Request, state: &AppState) -> Result<(), String> {
    let raw = request
        .headers()
        .get("origin")
        // Truncated: it is only logged, and a client chooses it.
        .map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .trim()
                .chars()
                .take(200)
                .collect::<String>()
        });
    let allowed = raw
        .as_deref()
        .and_then(Origin::parse)
        .is_some_and(|origin| state.web.allowed_origins.allows(&origin));
    if allowed {
        Ok(())
    } else {
        Err(raw.unwrap_or_else(|| "<none>".to_owned()))
    }
}
