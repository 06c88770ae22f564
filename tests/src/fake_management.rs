//! An HTTP server inside the test that answers like the Management API, so worker tests can
//! script each connection's answers and count exactly what every connection received.
//!
//! A connection id's prefix picks its behaviour:
//! - `gone-`: 410 with `x-amzn-ErrorType: GoneException`;
//! - `gonebare-`: 410 without the header (reaches the SDK as `Unhandled`);
//! - `throttled-`: 429 `LimitExceededException` for the first two attempts, then 200;
//! - `broken-`: 500 for the first two attempts, then 200;
//! - `big-`: 413 `PayloadTooLargeException`;
//! - anything else: 200 after the configured latency.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path};
use poem::{Body, EndpointExt, Response, Route, Server, handler};

#[derive(Default)]
struct Recorded {
    attempts: HashMap<String, u64>,
    delivered: HashMap<String, Vec<String>>,
    deleted: HashMap<String, u64>,
}

#[derive(Clone, Default)]
pub struct FakeManagementApi {
    recorded: Arc<Mutex<Recorded>>,
    latency_ms: Arc<AtomicU64>,
    addr: Option<SocketAddr>,
}

impl FakeManagementApi {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let mut api = Self::default();
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the fake Management API");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a TCP address");
        api.addr = Some(addr);
        let app = Route::new()
            .at(
                "/:stage/@connections/:id",
                poem::post(post_to_connection).delete(delete_connection),
            )
            .data(api.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        api
    }

    /// The value for `APIGW_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/test", self.addr.expect("started"))
    }

    pub fn set_latency(&self, latency: Duration) {
        self.latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// Bodies delivered to `connection_id`, in order.
    pub fn delivered(&self, connection_id: &str) -> Vec<String> {
        self.lock()
            .delivered
            .get(connection_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn delivered_count(&self, connection_id: &str) -> usize {
        self.lock().delivered.get(connection_id).map_or(0, Vec::len)
    }

    /// Every POST to `connection_id`, whatever it was answered.
    pub fn attempts(&self, connection_id: &str) -> u64 {
        self.lock()
            .attempts
            .get(connection_id)
            .copied()
            .unwrap_or(0)
    }

    pub fn deletes(&self, connection_id: &str) -> u64 {
        self.lock().deleted.get(connection_id).copied().unwrap_or(0)
    }

    /// Total successful deliveries.
    pub fn total_delivered(&self) -> usize {
        self.lock().delivered.values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.recorded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn aws_error(status: StatusCode, error_type: Option<&str>) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .content_type("application/json");
    if let Some(error_type) = error_type {
        builder = builder.header("x-amzn-ErrorType", error_type);
    }
    builder.body(format!(
        r#"{{"message":"{}"}}"#,
        error_type.unwrap_or("error")
    ))
}

#[handler]
async fn post_to_connection(
    Path((_stage, id)): Path<(String, String)>,
    body: Body,
    Data(api): Data<&FakeManagementApi>,
) -> Response {
    let attempt = {
        let mut recorded = api.lock();
        let count = recorded.attempts.entry(id.clone()).or_default();
        *count += 1;
        *count
    };
    let latency = api.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        // Dropped with the request when the caller goes away: nothing is delivered then.
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let prefix = id.split('-').next().unwrap_or_default();
    match (prefix, attempt) {
        ("gone", _) => return aws_error(StatusCode::GONE, Some("GoneException")),
        ("gonebare", _) => return aws_error(StatusCode::GONE, None),
        ("big", _) => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("PayloadTooLargeException"),
            );
        }
        ("throttled", 1..=2) => {
            return aws_error(
                StatusCode::TOO_MANY_REQUESTS,
                Some("LimitExceededException"),
            );
        }
        ("broken", 1..=2) => {
            return aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("InternalServerErrorException"),
            );
        }
        _ => {}
    }
    let text = body.into_string().await.unwrap_or_default();
    api.lock().delivered.entry(id).or_default().push(text);
    Response::builder().status(StatusCode::OK).finish()
}

#[handler]
async fn delete_connection(
    Path((_stage, id)): Path<(String, String)>,
    Data(api): Data<&FakeManagementApi>,
) -> Response {
    *api.lock().deleted.entry(id.clone()).or_default() += 1;
    if id.starts_with("gone-") {
        return aws_error(StatusCode::GONE, Some("GoneException"));
    }
    Response::builder().status(StatusCode::NO_CONTENT).finish()
}
