//! The real `worker` binary of one test, pointed at a Management API (the emulator or a
//! [`FakeManagementApi`](crate::fake_management::FakeManagementApi)).

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
}

impl WorkerProcess {
    /// Spawns `worker` and waits for its start-up line.
    pub async fn spawn(env: &TestEnv, options: &WorkerOptions) -> Self {
        let (service, ()) = Service::start("worker", Self::command(env, options), |line| {
            line.starts_with("worker started").then_some(())
        })
        .await;
        Self { service }
    }

    /// Spawns `worker` without waiting for its start-up line (it may be waiting for
    /// PostgreSQL or Redis); see [`WorkerProcess::logs`].
    pub fn launch(env: &TestEnv, options: &WorkerOptions) -> Self {
        Self {
            service: Service::spawn("worker", Self::command(env, options)),
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
