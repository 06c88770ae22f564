//! `$connect`: origin and connection id checks; a non-2xx answer rejects the handshake.

use poem::web::Data;
use poem::{Request, handler};
use serde_json::json;

use super::gateway;
use crate::error::{ApiError, Failure};
use crate::reply::{Action, Reply};
use crate::state::AppState;

/// How much of a client's header a log line shows.
const LOGGED_HEADER_CHARS: usize = 100;

#[handler]
pub async fn connect(request: &Request, Data(state): Data<&AppState>) -> Result<Reply, Failure> {
    let checked = gateway::connection_id(request, state).and_then(|connection_id| {
        gateway::check_origin(request, state)?;
        Ok(connection_id)
    });
    match checked {
        Ok(connection_id) => {
            tracing::info!(%connection_id, "connected");
            Ok(Reply::ok(json!({"action": "connect", "success": true})))
        }
        Err(error) => {
            log_refusal(request, &error);
            Err(Failure::new(Action::Connect, error))
        }
    }
}

/// An operator whose clients cannot connect reads why here: the handshake's answer goes to
/// API Gateway, which tells the client only that it failed.
fn log_refusal(request: &Request, error: &ApiError) {
    let origin = header_excerpt(request, "origin");
    let connection_id = header_excerpt(request, "connectionid");
    match error {
        ApiError::Client(alert) => {
            tracing::info!(reason = ?alert, ?origin, ?connection_id, "connect refused")
        }
        other => tracing::warn!(error = %other, ?connection_id, "connect failed"),
    }
}

/// The start of a header sent by the client, lossily decoded, for a log line.
fn header_excerpt(request: &Request, name: &str) -> String {
    let value = request
        .headers()
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .unwrap_or_default();
    value.chars().take(LOGGED_HEADER_CHARS).collect()
}
