//! A stand-in backend: records every callback the emulator makes and answers with a
//! configurable status and body per route, optionally after a delay or behind a gate.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use super::{DEADLINE, within};

/// One callback as the backend received it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `connect`, `default` or `disconnect` (the last path segment).
    pub route: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn connection_id(&self) -> &str {
        self.header("connectionid")
            .expect("every callback carries connectionId")
    }
}

/// How the backend answers one route.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: &'static str) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("valid status"),
            body: Bytes::from_static(body.as_bytes()),
            delay: Duration::ZERO,
        }
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    replies: HashMap<String, Reply>,
    gates: HashMap<String, Arc<Semaphore>>,
}

#[derive(Clone)]
pub struct CallbackServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    recorded: Arc<Notify>,
}

impl CallbackServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind callback server");
        let server = Self {
            addr: listener.local_addr().expect("callback server address"),
            state: Arc::default(),
            recorded: Arc::default(),
        };
        let accepting = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = accepting.clone();
                let service = service_fn(move |request| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.answer(request).await) }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        server
    }

    /// The base URL to give the emulator as `EMULATOR_CALLBACK_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/ws_apigateway", self.addr)
    }

    pub fn set_reply(&self, route: &str, reply: Reply) {
        self.lock().replies.insert(route.to_owned(), reply);
    }

    /// Holds every answer on `route` until the returned gate gets permits.
    pub fn gate(&self, route: &str) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        self.lock()
            .gates
            .insert(route.to_owned(), Arc::clone(&gate));
        gate
    }

    pub fn calls(&self, route: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.route == route)
            .cloned()
            .collect()
    }

    /// Waits until `count` calls on `route` satisfy `filter`, and returns them.
    pub async fn wait_for(
        &self,
        route: &str,
        count: usize,
        filter: impl Fn(&Call) -> bool,
    ) -> Vec<Call> {
        within(&format!("{count} {route} callback(s)"), async {
            loop {
                let notified = self.recorded.notified();
                let matching: Vec<Call> = self
                    .calls(route)
                    .into_iter()
                    .filter(|c| filter(c))
                    .collect();
                if matching.len() >= count {
                    return matching;
                }
                notified.await;
            }
        })
        .await
    }

    /// Waits for the `$connect` callback of the next connection and returns its id.
    pub async fn wait_for_connect_number(&self, n: usize) -> String {
        let calls = self.wait_for("connect", n, |_| true).await;
        calls[n - 1].connection_id().to_owned()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let route = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let headers = request.headers().clone();
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let (reply, gate) = {
            let mut state = self.lock();
            state.calls.push(Call {
                route: route.clone(),
                headers,
                body,
            });
            let reply = state
                .replies
                .get(&route)
                .cloned()
                .unwrap_or_else(|| Reply::new(200, ""));
            (reply, state.gates.get(&route).cloned())
        };
        self.recorded.notify_waiters();
        if let Some(gate) = gate {
            let _permit = tokio::time::timeout(DEADLINE, gate.acquire()).await;
        }
        tokio::time::sleep(reply.delay).await;
        let json = !reply.body.is_empty();
        let mut response = Response::new(Full::new(reply.body));
        *response.status_mut() = reply.status;
        if json {
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        response
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("callback server state poisoned")
    }
}
