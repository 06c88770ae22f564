//! The HTTP client that calls the backend, as API Gateway's HTTP_PROXY integration does.
//!
//! Headers are the ones a typical deployment maps with `integration.request.header.*`:
//! `connectionId` on every route, `origin` on `$connect` only (API Gateway has it nowhere
//! else), and the optional static `x-gateway-secret`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue, ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use reqwest::Url;
use tracing::debug;

use crate::config::Config;

const CONNECTION_ID_HEADER: &str = "connectionId";
const SECRET_HEADER: &str = "x-gateway-secret";

/// The three route keys the emulator integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Connect,
    Default,
    Disconnect,
}

impl Route {
    pub fn key(self) -> &'static str {
        match self {
            Self::Connect => "$connect",
            Self::Default => "$default",
            Self::Disconnect => "$disconnect",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Default => "default",
            Self::Disconnect => "disconnect",
        }
    }
}

/// What the backend answered.
#[derive(Debug)]
pub struct CallbackResponse {
    pub status: StatusCode,
    pub body: Bytes,
    /// Passed on with the body when `$connect` rejects a handshake.
    pub content_type: Option<HeaderValue>,
    /// On `$connect`, the subprotocol the backend chose, passed on to the client's handshake.
    pub subprotocol: Option<HeaderValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// No answer within the integration timeout (API Gateway answers 504).
    #[error("{route} callback timed out")]
    Timeout { route: &'static str },
    /// Connection refused, reset, or an unreadable answer (API Gateway answers 502).
    #[error("{route} callback failed")]
    Unreachable {
        route: &'static str,
        #[source]
        source: reqwest::Error,
    },
}

#[derive(Debug, Clone)]
pub struct CallbackClient {
    http: reqwest::Client,
    urls: [Url; 3],
    secret: Option<HeaderValue>,
    timeout: Duration,
}

impl CallbackClient {
    pub fn new(config: &Config) -> Result<Self, CallbackSetupError> {
        let route_url = |route: Route| {
            // `join` would drop the base's last segment without a trailing slash; appending keeps
            // `http://host/ws_apigateway` + `/connect` as an operator expects.
            let base = config.callback_url.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}/{}", route.path()))
        };
        let urls = [
            route_url(Route::Connect)?,
            route_url(Route::Default)?,
            route_url(Route::Disconnect)?,
        ];
        let secret = match &config.gateway_secret {
            Some(secret) => {
                let mut value = HeaderValue::from_str(secret.expose())
                    .map_err(|_| CallbackSetupError::Secret)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            urls,
            secret,
            timeout: config.callback_timeout(),
        })
    }

    pub fn url(&self, route: Route) -> &Url {
        &self.urls[route as usize]
    }

    /// `$connect`: empty body, `connectionId` and (when the client sent one) `origin`.
    pub async fn connect(
        &self,
        connection_id: &str,
        origin: Option<&HeaderValue>,
    ) -> Result<CallbackResponse, CallbackError> {
        let mut request = self.request(Route::Connect, connection_id);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        self.send(Route::Connect, request).await
    }

    /// `$default`: the client's frame, byte for byte, as the body.
    pub async fn default(
        &self,
        connection_id: &str,
        frame: Bytes,
    ) -> Result<CallbackResponse, CallbackError> {
        let request = self
            .request(Route::Default, connection_id)
            // Backends (the original Rails one among them) parse the frame as JSON only when
            // it is labelled so; API Gateway labels it.
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(frame);
        self.send(Route::Default, request).await
    }

    /// `$disconnect`: empty body, `connectionId`.
    pub async fn disconnect(&self, connection_id: &str) -> Result<CallbackResponse, CallbackError> {
        let request = self.request(Route::Disconnect, connection_id);
        self.send(Route::Disconnect, request).await
    }

    fn request(&self, route: Route, connection_id: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(self.url(route).clone())
            .timeout(self.timeout)
            .header(CONNECTION_ID_HEADER, connection_id);
        if let Some(secret) = &self.secret {
            request = request.header(SECRET_HEADER, secret.clone());
        }
        request
    }

    async fn send(
        &self,
        route: Route,
        request: reqwest::RequestBuilder,
    ) -> Result<CallbackResponse, CallbackError> {
        let classify = |source: reqwest::Error| {
            if source.is_timeout() {
                CallbackError::Timeout { route: route.key() }
            } else {
                CallbackError::Unreachable {
                    route: route.key(),
                    source,
                }
            }
        };
        let started = Instant::now();
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let subprotocol = response.headers().get(SEC_WEBSOCKET_PROTOCOL).cloned();
        let body = response.bytes().await.map_err(classify)?;
        debug!(route = route.key(), status = status.as_u16(), elapsed = ?started.elapsed(), "callback answered");
        Ok(CallbackResponse {
            status,
            body,
            content_type,
            subprotocol,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackSetupError {
    #[error("EMULATOR_CALLBACK_URL does not make valid route URLs")]
    Url(#[from] url::ParseError),
    #[error("EMULATOR_GATEWAY_SECRET is not a valid header value")]
    Secret,
    #[error("building the callback HTTP client failed")]
    Client(#[from] reqwest::Error),
}
