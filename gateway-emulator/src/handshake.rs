//! The WebSocket opening handshake, which waits for the backend's `$connect` answer.
//!
//! As on API Gateway: the client's upgrade request is held until `$connect` returns; a 2xx
//! accepts it (101), any other status rejects it with that status and the backend's body, a
//! timeout answers 504 and an unreachable backend 502. The connection is registered before the
//! 101 goes out, so a backend that posts right after `$connect` returned finds it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::header::{
    CONNECTION, CONTENT_TYPE, HeaderMap, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE, USER_AGENT,
};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::{Instrument, info, info_span, warn};

use crate::app::App;
use crate::callbacks::CallbackError;
use crate::error::{ApiError, error_chain};
use crate::registry::Connection;
use crate::response::{self, Body};
use crate::session;
use crate::writer::OUTBOUND_QUEUE;

/// Handles a request for `/{stage}`: a WebSocket upgrade, or an error for anything else.
pub async fn handle(
    app: &Arc<App>,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Response<Body> {
    if request.method() != Method::GET {
        return ApiError::Forbidden.into_response();
    }
    let accept_key = match accept_key(request.headers()) {
        Ok(key) => key,
        Err(rejection) => return rejection.into_response(),
    };
    // Taken now: the upgrade future comes out of the request, which hyper needs back once this
    // handler has answered.
    let upgrade = hyper::upgrade::on(&mut request);
    let headers = request.headers();
    let id = app.registry.new_id();
    let span = info_span!("connection", connection_id = %id);

    let answer = app
        .callbacks
        .connect(id.as_str(), headers.get(ORIGIN))
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    let answer = match answer {
        Ok(answer) if answer.status.is_success() => answer,
        Ok(answer) => {
            info!(
                status = answer.status.as_u16(),
                "$connect rejected the connection"
            );
            app.stats
                .connections_rejected
                .fetch_add(1, Ordering::Relaxed);
            let mut rejection = Response::new(Body::new(answer.body));
            *rejection.status_mut() = answer.status;
            if let Some(content_type) = answer.content_type {
                rejection.headers_mut().insert(CONTENT_TYPE, content_type);
            }
            return rejection;
        }
        Err(error) => {
            warn!(error = %error_chain(&error), "$connect callback failed");
            app.stats
                .connections_rejected
                .fetch_add(1, Ordering::Relaxed);
            app.stats.callbacks_failed.fetch_add(1, Ordering::Relaxed);
            return match error {
                CallbackError::Timeout { .. } => {
                    response::message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out")
                }
                CallbackError::Unreachable { .. } => {
                    response::message(StatusCode::BAD_GATEWAY, "Internal server error")
                }
            };
        }
    };

    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .unwrap_or_default();
    let (outbound_tx, outbound_rx) = mpsc::channel(OUTBOUND_QUEUE);
    let connection = Arc::new(Connection::new(id, outbound_tx, peer.ip(), user_agent));
    app.registry.insert(Arc::clone(&connection));
    app.stats.connections_open.fetch_add(1, Ordering::Relaxed);
    app.stats.connections_total.fetch_add(1, Ordering::Relaxed);
    app.tasks.spawn(session::run(
        Arc::clone(app),
        connection,
        upgrade,
        outbound_rx,
    ));

    let mut switching = response::empty(StatusCode::SWITCHING_PROTOCOLS);
    let response_headers = switching.headers_mut();
    response_headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    response_headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    response_headers.insert(SEC_WEBSOCKET_ACCEPT, accept_key);
    if let Some(protocol) = answer.subprotocol {
        response_headers.insert(SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    switching
}

/// Why an upgrade request is refused before `$connect` is even called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Rejection {
    #[error("Upgrade Required")]
    NotAnUpgrade,
    #[error("Unsupported WebSocket version")]
    Version,
    #[error("Missing or invalid Sec-WebSocket-Key")]
    Key,
}

impl Rejection {
    fn into_response(self) -> Response<Body> {
        let status = match self {
            Self::NotAnUpgrade => StatusCode::UPGRADE_REQUIRED,
            Self::Version | Self::Key => StatusCode::BAD_REQUEST,
        };
        let mut rejection = response::message(status, &self.to_string());
        if self == Self::Version {
            // RFC 6455 4.4: tell the client which version we speak.
            rejection
                .headers_mut()
                .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        rejection
    }
}

/// Checks the upgrade request (RFC 6455 section 4.2.1) and computes `Sec-WebSocket-Accept`.
fn accept_key(headers: &HeaderMap) -> Result<HeaderValue, Rejection> {
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
        return Err(Rejection::NotAnUpgrade);
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(Rejection::Version);
    }
    let key = headers.get(SEC_WEBSOCKET_KEY).ok_or(Rejection::Key)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| Rejection::Key)
}
