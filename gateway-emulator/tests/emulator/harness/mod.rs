//! Spawns the real `gateway-emulator` binary on port 0 against an in-test backend, and gives
//! tests WebSocket clients, an AWS SDK client and the control API.

pub mod callback_server;

use std::future::Future;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_apigatewaymanagement::config::retry::RetryConfig;
use futures::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use callback_server::{CallbackServer, Reply};

/// How long any awaited condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Awaits `future`, failing the test with `what` if it takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A running emulator process and the backend it calls. The process dies with the value.
pub struct TestEmulator {
    pub addr: SocketAddr,
    pub backend: CallbackServer,
    process: Child,
}

impl TestEmulator {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts the emulator with extra `EMULATOR_*` variables.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        let backend = CallbackServer::start().await;
        let mut command = Command::new(env!("CARGO_BIN_EXE_gateway-emulator"));
        command
            .env("EMULATOR_ADDR", "127.0.0.1:0")
            .env("EMULATOR_CALLBACK_URL", backend.base_url())
            .env(
                "RUST_LOG",
                std::env::var("EMULATOR_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("EMULATOR_TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
        let mut process = command.spawn().expect("spawn gateway-emulator");
        let stdout = process.stdout.take().expect("piped stdout");
        let line = within("the listening line", async {
            BufReader::new(stdout)
                .lines()
                .next_line()
                .await
                .expect("read stdout")
                .expect("a line")
        })
        .await;
        let addr = line
            .strip_prefix("gateway-emulator listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .parse()
            .expect("an address");
        Self {
            addr,
            backend,
            process,
        }
    }

    /// Sends SIGTERM, as `docker stop` does, and waits for the process to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.process.id().expect("emulator still running");
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success(), "kill -TERM {pid} failed");
        within("the emulator to exit", self.process.wait())
            .await
            .expect("wait")
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/local", self.addr)
    }

    /// Opens a WebSocket client with the given Origin header.
    pub async fn try_connect(&self, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
        let mut request = self.ws_url().into_client_request().expect("client request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("origin header"));
        }
        request
            .headers_mut()
            .insert("user-agent", "emulator-tests/1.0".parse().expect("ua"));
        within(
            "the WebSocket handshake",
            tokio_tungstenite::connect_async(request),
        )
        .await
        .map(|(ws, _)| ws)
    }

    /// Opens a client and returns it with the connection id the backend saw on `$connect`.
    pub async fn connect(&self) -> (Ws, String) {
        let before = self.backend.calls("connect").len();
        let ws = self
            .try_connect(Some("https://app.example.com"))
            .await
            .expect("handshake accepted");
        let id = self.backend.wait_for_connect_number(before + 1).await;
        (ws, id)
    }

    /// An SDK client for this emulator's Management API, with retries off so every call is
    /// exactly one request.
    pub fn sdk(&self) -> aws_sdk_apigatewaymanagement::Client {
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}/local", self.addr))
            .credentials_provider(Credentials::new(
                "AKIDEMULATOR",
                "emulator-secret",
                None,
                None,
                "tests",
            ))
            .retry_config(RetryConfig::disabled())
            .build();
        aws_sdk_apigatewaymanagement::Client::from_conf(config)
    }

    pub fn control_url(&self, path: &str) -> String {
        format!("http://{}/_emulator/{path}", self.addr)
    }

    pub async fn stats(&self) -> Value {
        reqwest::get(self.control_url("stats"))
            .await
            .expect("GET stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Polls the stats until `condition` holds.
    pub async fn wait_for_stats(&self, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        within(what, async {
            loop {
                let stats = self.stats().await;
                if condition(&stats) {
                    return stats;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }
}

/// The next data frame's text, skipping pings.
pub async fn next_text(ws: &mut Ws) -> String {
    within("a text frame", async {
        loop {
            match ws.next().await.expect("stream open").expect("frame") {
                Message::Text(text) => return text.to_string(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    })
    .await
}

/// Waits for the server's close frame.
pub async fn expect_close(ws: &mut Ws) -> CloseFrame {
    within("a close frame", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return frame,
                Some(Ok(Message::Close(None))) => panic!("close frame without a code"),
                Some(Ok(_)) => {}
                Some(Err(error)) => panic!("connection failed before a close frame: {error}"),
                None => panic!("connection ended without a close frame"),
            }
        }
    })
    .await
}
