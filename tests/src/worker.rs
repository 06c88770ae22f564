//! The real `worker` binary of one test, pointed at a Management API (the emulator or a
//! [`FakeManagementApi`](crate::fake_management::FakeManagementApi)).

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::process::Command;

use crate::TestEnv;
use crate::binaries::binary;
use crate::process::{Service, clean_command};

/// How a test's `worker` is configured; everything else is the binary's default.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// `APIGW_ENDPOINT`, including the stage.
    pub apigw_endpoint: String,
    /// Overrides the namespace's Redis (e.g. a Redis the test restarts).
    pub redis_url: Option<String>,
    /// Further variables, applied last.
    pub env: Vec<(String, String)>,
}

impl WorkerOptions {
    pub fn new(apigw_endpoint: impl Into<String>) -> Self {
        Self {
            apigw_endpoint: apigw_endpoint.into(),
            ..Self::default()
        }
    }

    pub fn with_env(mut self, name: &str, value: impl ToString) -> Self {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }
}

pub struct WorkerProcess {
    service: Service,
    metrics_addr: Option<SocketAddr>,
}

impl WorkerProcess {
    /// Spawns `worker` and waits for its start-up line; notes where it serves `/metrics`
    /// (printed just before).
    pub async fn spawn(env: &TestEnv, options: &WorkerOptions) -> Self {
        let metrics_addr = Mutex::new(None);
        let (service, ()) = Service::start("worker", Self::command(env, options), |line| {
            if let Some(addr) = line
                .strip_prefix("worker metrics on http://")
                .and_then(|rest| rest.strip_suffix("/metrics")?.parse::<SocketAddr>().ok())
            {
                *metrics_addr.lock().unwrap() = Some(addr);
            }
            line.starts_with("worker started").then_some(())
        })
        .await;
        let metrics_addr = metrics_addr.into_inner().unwrap();
        Self {
            service,
            metrics_addr,
        }
    }

    /// `http://<addr>/metrics`; panics when the worker serves none (`WORKER_METRICS_ADDR=off`).
    pub fn metrics_url(&self) -> String {
        let addr = self.metrics_addr.expect("the worker serves /metrics");
        format!("http://{addr}/metrics")
    }

    /// Spawns `worker` without waiting for its start-up line (it may be waiting for
    /// PostgreSQL or Redis); see [`WorkerProcess::logs`].
    pub fn launch(env: &TestEnv, options: &WorkerOptions) -> Self {
        Self {
            service: Service::spawn("worker", Self::command(env, options)),
            metrics_addr: None,
        }
    }

    pub fn command(env: &TestEnv, options: &WorkerOptions) -> Command {
        let mut command = clean_command(&binary("worker"), env.scratch_dir());
        command
            .env("DATABASE_URL", env.db.url())
            .env(
                "REDIS_URL",
                options.redis_url.as_deref().unwrap_or(env.redis.url()),
            )
            .env("QUEUE_PREFIX", env.redis.prefix())
            .env("APIGW_ENDPOINT", &options.apigw_endpoint)
            .env("LOG_FORMAT", "text")
            // Pub/sub channels are global to a Redis server: each test streams on its own.
            .env("ACTION_CABLE_CHANNEL_PREFIX", env.redis.prefix())
            // Short leases and polls keep recovery tests fast.
            .env("JOB_LEASE_SECS", "2")
            .env("WORKER_IDLE_POLL_MS", "100")
            // Many workers run at once: each serves /metrics on a port of its own.
            .env("WORKER_METRICS_ADDR", "127.0.0.1:0")
            .envs(options.env.iter().map(|(name, value)| (name, value)));
        command
    }
}

/// The process: its logs, signals and exit (`logs`, `signal`, `wait`).
impl std::ops::Deref for WorkerProcess {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}

impl std::ops::DerefMut for WorkerProcess {
    fn deref_mut(&mut self) -> &mut Service {
        &mut self.service
    }
}
