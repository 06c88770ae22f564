//! The real `gateway-emulator` binary of one test, calling a test's `web`.

use std::net::SocketAddr;

use serde_json::Value;

use crate::TestEnv;
use crate::binaries::binary;
use crate::process::{Logs, Service, clean_command};

pub struct Emulator {
    service: Service,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Emulator {
    /// Spawns the emulator on a free port, calling back `web_base_url`.
    pub async fn spawn(env: &TestEnv, web_base_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut command = clean_command(&binary("gateway-emulator"), env.scratch_dir());
        command
            .env("EMULATOR_ADDR", "127.0.0.1:0")
            .env(
                "EMULATOR_CALLBACK_URL",
                format!("{web_base_url}/ws_apigateway"),
            )
            .envs(extra.iter().copied());
        let (service, addr) = Service::start("gateway-emulator", command, |line| {
            line.strip_prefix("gateway-emulator listening on http://")
                .and_then(|addr| addr.trim().parse::<SocketAddr>().ok())
        })
        .await;
        Self {
            service,
            addr,
            http: reqwest::Client::new(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where WebSocket clients connect.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/local", self.addr)
    }

    /// The value for the worker's `APIGW_ENDPOINT`.
    pub fn management_endpoint(&self) -> String {
        format!("http://{}/local", self.addr)
    }

    pub fn logs(&self) -> &Logs {
        self.service.logs()
    }

    /// `PUT /_emulator/faults`, e.g. `json!({"post_latency_ms": 20})`.
    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(format!("http://{}/_emulator/faults", self.addr))
            .json(&faults)
            .send()
            .await
            .expect("the emulator answers");
        assert!(response.status().is_success(), "faults refused: {faults}");
    }

    /// `GET /_emulator/stats`.
    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("http://{}/_emulator/stats", self.addr))
            .send()
            .await
            .expect("the emulator answers")
            .json()
            .await
            .expect("stats are JSON")
    }
}
