//! Counts requests and their latency by route and status.

use std::time::Instant;

use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Request, Response};

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
