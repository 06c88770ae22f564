//! The product as a benchmark runs it: its own database and Redis prefix (e2e's `TestEnv`),
//! `migration up`, then the real `gateway-emulator`, `web` and any number of `worker`
//! processes, taken from the directory this executable is in (`web` and `worker` from a
//! baseline's directory for a [`Build`] that has one).

use std::time::Duration;

use anyhow::{Context, bail};
use e2e::emulator::Emulator;
use e2e::redis::DEFAULT_QUEUE;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::builds::Build;
use crate::cpu::Roles;

/// Lines of each process's output shown when a measurement fails.
const TAIL_LINES: usize = 20;

/// Which database the product runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Database {
    Postgres,
    Sqlite,
}

/// The worker settings a fan-out runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerTuning {
    pub post_concurrency: usize,
    pub broadcast_jobs: usize,
    pub split_size: usize,
    /// `APIGW_RATE_LIMIT`.
    pub rate_limit: u32,
}

impl WorkerTuning {
    /// The product's defaults (`.env.example`), but for the rate limit: off, since these
    /// benchmarks measure the worker itself (the `ratelimit` benchmark measures the limit).
    pub const DEFAULTS: Self = Self {
        post_concurrency: 256,
        broadcast_jobs: 4,
        split_size: 5000,
        rate_limit: 0,
    };

    /// The original's sequential loop: one POST at a time, one job, never split.
    pub fn sequential(audience: usize) -> Self {
        Self {
            post_concurrency: 1,
            broadcast_jobs: 1,
            split_size: audience + 1,
            rate_limit: 0,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "WORKER_POST_CONCURRENCY={} WORKER_BROADCAST_JOBS={} BROADCAST_SPLIT_SIZE={} \
             APIGW_RATE_LIMIT={}",
            self.post_concurrency, self.broadcast_jobs, self.split_size, self.rate_limit
        )
    }

    /// POSTs one broadcast of `audience` connections can have in flight in one process.
    pub fn in_flight(&self, audience: usize) -> usize {
        let parts = audience.div_ceil(self.split_size).max(1);
        self.post_concurrency * parts.min(self.broadcast_jobs)
    }
}

/// A worker tuned as given, posting to the Management API at `endpoint` (with its stage).
pub fn worker_options(endpoint: impl Into<String>, tuning: WorkerTuning) -> WorkerOptions {
    WorkerOptions::new(endpoint)
        .with_env("WORKER_POST_CONCURRENCY", tuning.post_concurrency)
        .with_env("WORKER_BROADCAST_JOBS", tuning.broadcast_jobs)
        .with_env("BROADCAST_SPLIT_SIZE", tuning.split_size)
        .with_env("APIGW_RATE_LIMIT", tuning.rate_limit)
        // e2e shortens these for recovery tests; a benchmark runs the product's defaults.
        .with_env("JOB_LEASE_SECS", 5)
        .with_env("WORKER_IDLE_POLL_MS", 200)
}

/// The running product. Field order is drop order: processes go before the database.
pub struct Stack {
    workers: Vec<WorkerProcess>,
    tuning: Option<WorkerTuning>,
    build: Build,
    pub emulator: Emulator,
    pub web: WebApp,
    pub db: DatabaseConnection,
    pub env: TestEnv,
}

impl Stack {
    /// A fresh database and Redis prefix, the emulator and web; no worker yet.
    pub async fn start(database: Database) -> anyhow::Result<Self> {
        Self::start_with(database, &[]).await
    }

    /// [`Stack::start`] with further `EMULATOR_*` variables (an account quota, say).
    pub async fn start_with(
        database: Database,
        emulator_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        Self::start_build(database, &Build::current(), emulator_env).await
    }

    /// [`Stack::start_with`] running `build`'s `web` and workers.
    pub async fn start_build(
        database: Database,
        build: &Build,
        emulator_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let env = match database {
            Database::Postgres => TestEnv::postgres().await,
            Database::Sqlite => TestEnv::sqlite().await,
        };
        let web = build
            .scoped(WebApp::spawn(&env, WebOptions::default()))
            .await;
        let mut emulator_vars = vec![
            // The emulator is the measuring apparatus: keep its own logging out of the way.
            ("RUST_LOG", "warn"),
            // Clients sit idle between runs; API Gateway's 10 minutes could cut them.
            ("EMULATOR_IDLE_TIMEOUT_SECS", "7200"),
        ];
        emulator_vars.extend_from_slice(emulator_env);
        let emulator = Emulator::spawn(&env, web.base_url(), &emulator_vars).await;
        let db = env.db.connect().await;
        Ok(Self {
            workers: Vec::new(),
            tuning: None,
            build: build.clone(),
            emulator,
            web,
            db,
            env,
        })
    }

    /// Replaces the running workers with `count` processes tuned as given.
    pub async fn set_workers(&mut self, count: usize, tuning: WorkerTuning) -> anyhow::Result<()> {
        if self.tuning == Some(tuning) && self.workers.len() == count {
            return Ok(());
        }
        self.stop_workers().await;
        let options = worker_options(self.emulator.management_endpoint(), tuning);
        for _ in 0..count {
            let worker = self
                .build
                .scoped(WorkerProcess::spawn(&self.env, &options))
                .await;
            self.workers.push(worker);
        }
        self.tuning = Some(tuning);
        Ok(())
    }

    /// The build this stack's `web` and workers come from.
    pub fn build(&self) -> &Build {
        &self.build
    }

    /// The process ids of `web` and the workers, to charge their CPU time to them.
    pub fn roles(&self) -> Roles {
        Roles {
            web: self.web.id().into_iter().collect(),
            workers: self
                .workers
                .iter()
                .filter_map(|worker| worker.id())
                .collect(),
        }
    }

    /// SIGTERM, then a bounded wait; whatever is left is killed when dropped.
    pub async fn stop_workers(&mut self) {
        for worker in &self.workers {
            worker.signal("TERM");
        }
        for mut worker in self.workers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(10), worker.wait()).await;
        }
        self.tuning = None;
    }

    /// The last lines each process wrote, to explain a failed measurement.
    pub fn tails(&self) -> String {
        let tail = |name: &str, text: String| {
            let lines: Vec<&str> = text.lines().collect();
            let kept = &lines[lines.len().saturating_sub(TAIL_LINES)..];
            format!("---- last output of {name} ----\n{}\n", kept.join("\n"))
        };
        let mut out = String::from("the processes' last output follows\n");
        out.push_str(&tail("web", self.web.logs().text()));
        out.push_str(&tail("gateway-emulator", self.emulator.logs().text()));
        for (index, worker) in self.workers.iter().enumerate() {
            out.push_str(&tail(&format!("worker {index}"), worker.logs().text()));
        }
        out
    }

    /// `PUT /_emulator/faults {"post_latency_ms": ms}`.
    pub async fn set_post_latency(&self, ms: u64) {
        self.emulator
            .set_faults(json!({"post_latency_ms": ms}))
            .await;
    }

    /// Waits until the broadcast queue has nothing waiting, scheduled, running or failed.
    pub async fn wait_idle(&self, timeout: Duration) -> anyhow::Result<()> {
        let redis = &self.env.redis;
        let mut connection = redis.connection().await;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (waiting, scheduled, running, failed): (u64, u64, u64, u64) = redis::pipe()
                .llen(redis.key(DEFAULT_QUEUE, "waiting"))
                .zcard(redis.key(DEFAULT_QUEUE, "scheduled"))
                .zcard(redis.key(DEFAULT_QUEUE, "running"))
                .zcard(redis.key(DEFAULT_QUEUE, "failed"))
                .query_async(&mut connection)
                .await
                .context("reading the queue")?;
            if waiting + scheduled + running + failed == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "the broadcast queue is still busy after {timeout:?}: {waiting} waiting, \
                     {scheduled} scheduled, {running} running, {failed} failed"
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
