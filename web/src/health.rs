//! `/healthz` (process up), `/readyz` (database, Redis and the Action Cable streams reachable,
//! not draining), `/metrics`.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Response, handler};
use serde_json::json;

use crate::reply::Reply;
use crate::state::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[handler]
pub fn healthz() -> Reply {
    Reply::ok(json!({"status": "ok"}))
}

/// 503 while draining (before a shutdown), so a load balancer stops sending here.
#[handler]
pub async fn readyz(Data(state): Data<&AppState>) -> Reply {
    if state.draining.is_draining() {
        return Reply::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "draining"}),
        );
    }
    let database = tokio::time::timeout(PROBE_TIMEOUT, shared::db::ping(&state.db))
        .await
        .is_ok_and(|result| result.is_ok());
    let mut redis = state.redis.clone();
    let redis = tokio::time::timeout(
        PROBE_TIMEOUT,
        redis::cmd("PING").query_async::<String>(&mut redis),
    )
    .await
    .is_ok_and(|result| result.is_ok());
    let streams = state.cable.streams_up();
    let status = if database && redis && streams {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let mut body =
        json!({"database": word(database), "redis": word(redis), "streams": word(streams)});
    // Why, when the connection knows (a refused certificate reads differently from a
    // refused port); never a password.
    if !redis && let Some(reason) = state.redis.failure() {
        body["redis_error"] = json!(reason);
    }
    Reply::with_status(status, body)
}

#[handler]
pub fn metrics(Data(state): Data<&AppState>) -> Response {
    let text = state
        .metrics
        .as_ref()
        .map(|handle| handle.render())
        .unwrap_or_default();
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
