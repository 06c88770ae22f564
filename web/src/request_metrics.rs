//! Counts requests and their latency by route and status, and names every family web
//! exports (`/metrics`'s HELP lines).

use std::time::Instant;

use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Request, Response};

/// Describes web's families, and registers the counters that only move on an event, so
/// a fresh replica already exports them at 0 (a dashboard then shows 0, not "no data").
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("web_requests_total", "HTTP requests by route and status");
    describe_histogram!(
        "web_request_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by route and status"
    );
    describe_counter!(
        "web_callbacks_total",
        "API Gateway callbacks by route ($connect, $disconnect, $default) and status"
    );
    describe_counter!(
        "web_messages_stored_total",
        "send_message messages stored (each owes a broadcast), by channel"
    );
    describe_gauge!("web_cable_connections", "open Action Cable sockets");
    describe_counter!(
        "web_cable_broadcasts_forwarded_total",
        "publications on the Action Cable streams forwarded to this replica's sockets"
    );
    describe_counter!(
        "web_cable_broadcast_frames_total",
        "frames queued to this replica's Action Cable sockets by forwarded publications"
    );
    for channel in ["all_channel", "user_channel"] {
        metrics::counter!("web_messages_stored_total", "channel" => channel).increment(0);
    }
    metrics::counter!("web_cable_broadcasts_forwarded_total").increment(0);
    metrics::counter!("web_cable_broadcast_frames_total").increment(0);
}

/// The middleware: `web_requests_total` and `web_request_seconds`.
pub async fn record<E: Endpoint>(next: E, request: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let response = next.call(request).await.map(IntoResponse::into_response);
    let (status, pattern) = match &response {
        Ok(response) => (response.status(), response.data::<PathPattern>()),
        Err(error) => (error.status(), error.data::<PathPattern>()),
    };
    let labels = [
        ("path", route_label(pattern)),
        ("status", status.as_u16().to_string()),
    ];
    ::metrics::counter!("web_requests_total", &labels).increment(1);
    ::metrics::histogram!("web_request_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// A bounded label: the route the router matched (`/api/users/{code}`), or `other`. Raw
/// paths would let anyone grow the metrics without limit.
fn route_label(pattern: Option<&PathPattern>) -> String {
    let Some(PathPattern(pattern)) = pattern else {
        return "other".to_owned();
    };
    pattern
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use poem::{Route, get, handler};

    use super::*;

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    async fn label_of(path: &str) -> String {
        let app = Route::new()
            .nest("/api", Route::new().at("/users/:code", get(hello)))
            .at("/healthz", get(hello));
        let request = Request::builder().uri(path.parse().unwrap()).finish();
        match app.call(request).await {
            Ok(response) => route_label(response.data::<PathPattern>()),
            Err(error) => route_label(error.data::<PathPattern>()),
        }
    }

    #[tokio::test]
    async fn labels_name_the_route_not_the_path() {
        assert_eq!(label_of("/api/users/u1").await, "/api/users/{code}");
        assert_eq!(label_of("/healthz").await, "/healthz");
        assert_eq!(label_of("/nope/123").await, "other");
    }
}
