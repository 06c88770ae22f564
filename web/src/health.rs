//! `/healthz` (process up), `/readyz` (database and Redis reachable, not draining), `/metrics`.

use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Request, Response, handler};
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
    let status = if database && redis {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    Reply::with_status(
        status,
        json!({"database": word(database), "redis": word(redis)}),
    )
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

/// Counts requests and their latency by path and status.
pub async fn record<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let path = route_label(request.uri().path());
    let started = Instant::now();
    let response = next.call(request).await.map(IntoResponse::into_response);
    let status = match &response {
        Ok(response) => response.status(),
        Err(error) => error.status(),
    };
    let labels = [
        ("path", path.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    ::metrics::counter!("web_requests_total", &labels).increment(1);
    ::metrics::histogram!("web_request_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// A bounded label for a request path: the route it matches, or `other`. Raw paths would
/// let anyone grow the metrics without limit.
fn route_label(path: &str) -> &'static str {
    const ROUTES: [&str; 11] = [
        "/ws_apigateway/connect",
        "/ws_apigateway/connect.json",
        "/ws_apigateway/disconnect",
        "/ws_apigateway/disconnect.json",
        "/ws_apigateway/default",
        "/ws_apigateway/default.json",
        "/api/ws_tokens",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/users/{code}",
    ];
    if let Some(route) = ROUTES.iter().find(|route| **route == path) {
        return route;
    }
    match path.strip_prefix("/api/users/") {
        Some(code) if !code.is_empty() && !code.contains('/') => "/api/users/{code}",
        _ => "other",
    }
}
