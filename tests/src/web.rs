//! The real `web` binary of one test, and the requests API Gateway and the login
//! application send it.
//!
//! Every helper that returns `(status, json)` also checks that the response is
//! `application/json`, so each test checks that rule on every response it sees.

use std::net::SocketAddr;

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::TestEnv;
use crate::binaries::binary;
use crate::process::{Service, clean_command};

/// The exact origin every test web allows.
pub const ALLOWED_ORIGIN: &str = "http://allowed.example";
/// The wildcard entry every test web allows: one DNS label under example.com.
pub const WILDCARD_ORIGIN: &str = "https://*.example.com";
/// `ADMIN_API_KEY` unless a test turns the admin API off.
pub const ADMIN_API_KEY: &str = "test-admin-key-0123456789";

/// How a test's `web` is configured; everything else is the binary's default.
#[derive(Debug, Clone)]
pub struct WebOptions {
    pub allowed_origins: String,
    /// `None` turns the admin API off.
    pub admin_api_key: Option<String>,
    pub gateway_secret: Option<String>,
    pub locale: String,
    /// Overrides the namespace's Redis (e.g. a closed port, to see readiness fail).
    pub redis_url: Option<String>,
    /// Further variables, applied last (they override the ones above).
    pub env: Vec<(String, String)>,
}

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            allowed_origins: format!("{ALLOWED_ORIGIN},{WILDCARD_ORIGIN}"),
            admin_api_key: Some(ADMIN_API_KEY.to_owned()),
            gateway_secret: None,
            locale: "ja".to_owned(),
            redis_url: None,
            env: Vec::new(),
        }
    }
}

impl WebOptions {
    /// Adds one environment variable, e.g. `.with_env("DISCONNECT_DELAY_SECS", "30")`.
    pub fn with_env(mut self, name: &str, value: impl ToString) -> Self {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }
}

pub struct WebApp {
    service: Service,
    addr: SocketAddr,
    base_url: String,
    http: reqwest::Client,
    gateway_secret: Option<String>,
    admin_api_key: Option<String>,
}

impl WebApp {
    /// Spawns `web` on a free port of 127.0.0.1 and waits for `web listening on http://<addr>`.
    pub async fn spawn(env: &TestEnv, options: WebOptions) -> Self {
        let command = Self::command(env, &options);
        let (service, addr) = Service::start("web", command, |line| {
            line.strip_prefix("web listening on http://")
                .and_then(|addr| addr.trim().parse::<SocketAddr>().ok())
        })
        .await;
        Self {
            service,
            addr,
            base_url: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            gateway_secret: options.gateway_secret,
            admin_api_key: options.admin_api_key,
        }
    }

    /// The `web` command with this test's environment, for start-up failures and the CLI.
    pub fn command(env: &TestEnv, options: &WebOptions) -> Command {
        let mut command = clean_command(&binary("web"), env.scratch_dir());
        let redis_url = options.redis_url.as_deref().unwrap_or(env.redis.url());
        command
            .env("DATABASE_URL", env.db.url())
            .env("REDIS_URL", redis_url)
            .env("QUEUE_PREFIX", env.redis.prefix())
            .env("WEB_ADDR", "127.0.0.1:0")
            .env("ALLOWED_ORIGINS", &options.allowed_origins)
            .env("LOCALE", &options.locale)
            .env("LOG_FORMAT", "text")
            // Pub/sub channels are global to a Redis server: each test streams on its own.
            .env("ACTION_CABLE_CHANNEL_PREFIX", env.redis.prefix());
        if let Some(key) = &options.admin_api_key {
            command.env("ADMIN_API_KEY", key);
        }
        if let Some(secret) = &options.gateway_secret {
            command.env("GATEWAY_SECRET", secret);
        }
        command.envs(options.env.iter().map(|(name, value)| (name, value)));
        command
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What web printed so far.
    pub fn logs(&self) -> &crate::process::Logs {
        self.service.logs()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where Action Cable clients connect (`ACTION_CABLE_PATH`'s default).
    pub fn cable_url(&self) -> String {
        format!("ws://{}/cable", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The `ADMIN_ADDR` listener's base URL, from web's `web admin listening on` line
    /// (printed before the line `spawn` waits for). `None` without `ADMIN_ADDR`.
    pub fn admin_base_url(&self) -> Option<String> {
        let transcript = self.service.logs().transcript();
        transcript.lines().find_map(|line| {
            line.split_once("web admin listening on ")
                .map(|(_, url)| url.trim().to_owned())
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request`; the answer must be JSON with an `application/json` content type.
    pub async fn send(&self, request: RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("web answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.expect("a readable body");
        assert!(
            content_type.starts_with("application/json"),
            "status {status}: content type {content_type:?} is not application/json; body: {text}"
        );
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("status {status}: body is not JSON ({error}): {text}"));
        (status, body)
    }

    /// `POST /ws_apigateway/<route>` as API Gateway sends it (with the gateway secret, when
    /// one is configured). `route` may carry the `.json` suffix.
    pub fn callback(&self, route: &str, connection_id: Option<&str>) -> RequestBuilder {
        let mut request = self.http.post(self.url(&format!("/ws_apigateway/{route}")));
        if let Some(connection_id) = connection_id {
            request = request.header("connectionId", connection_id);
        }
        if let Some(secret) = &self.gateway_secret {
            request = request.header("x-gateway-secret", secret);
        }
        request
    }

    /// `$connect`; `origin` is `None` to leave the header out.
    pub async fn connect(&self, connection_id: &str, origin: Option<&str>) -> (u16, Value) {
        let mut request = self.callback("connect", Some(connection_id));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request).await
    }

    pub async fn disconnect(&self, connection_id: &str) -> (u16, Value) {
        self.send(self.callback("disconnect", Some(connection_id)))
            .await
    }

    /// `$default` with a raw body: the client's text frame, as bytes or text.
    pub async fn default(
        &self,
        connection_id: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        self.send(self.callback("default", Some(connection_id)).body(body))
            .await
    }

    /// `$default` with a JSON frame.
    pub async fn frame(&self, connection_id: &str, frame: &Value) -> (u16, Value) {
        self.default(connection_id, frame.to_string()).await
    }

    /// `auth_request` with `token`, which must succeed: binds the token to the connection.
    pub async fn authenticate(&self, connection_id: &str, token: &str) {
        let frame = json!({"method": "auth_request", "token": token});
        let (status, body) = self.frame(connection_id, &frame).await;
        assert_eq!(
            status, 200,
            "auth_request with {token} on {connection_id}: {body}"
        );
    }

    /// A GET whose answer is JSON.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    /// A request with the admin bearer key (when one is configured).
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match &self.admin_api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// `PUT /api/users/{code}`.
    pub async fn put_user(&self, code: &str, name: &str, image: Option<&str>) -> (u16, Value) {
        let body = json!({"name": name, "image": image});
        self.send(
            self.admin(Method::PUT, &format!("/api/users/{code}"))
                .json(&body),
        )
        .await
    }

    /// `POST /api/ws_tokens` with `body`.
    pub async fn post_token(&self, body: &Value) -> (u16, Value) {
        self.send(self.admin(Method::POST, "/api/ws_tokens").json(body))
            .await
    }

    /// Issues a token for `user_code` (a guest token for `None`); must answer 201.
    pub async fn issue_token(&self, user_code: Option<&str>) -> String {
        let body = match user_code {
            Some(code) => json!({"user_code": code}),
            None => json!({}),
        };
        let (status, reply) = self.post_token(&body).await;
        assert_eq!(status, 201, "POST /api/ws_tokens {body}: {reply}");
        reply["token"].as_str().expect("a token").to_owned()
    }

    /// Creates the user `code` (named after it, without an image) and issues a token for it.
    pub async fn user_token(&self, code: &str) -> String {
        let (status, reply) = self.put_user(code, &format!("User {code}"), None).await;
        assert!(
            status == 201 || status == 200,
            "PUT /api/users/{code}: {status} {reply}"
        );
        self.issue_token(Some(code)).await
    }

    /// Sends `request` byte for byte (header names exactly as written) and returns the
    /// status and body. The request should say `Connection: close`.
    pub async fn raw_http(&self, request: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connects");
        stream.write_all(request.as_bytes()).await.expect("writes");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("reads");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or("");
        (status, body.to_owned())
    }
}

/// The process: its logs, signals and exit (`logs`, `signal`, `wait`).
impl std::ops::Deref for WebApp {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}

impl std::ops::DerefMut for WebApp {
    fn deref_mut(&mut self) -> &mut Service {
        &mut self.service
    }
}
