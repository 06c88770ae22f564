//! The harness of the end-to-end tests: the real binaries of the workspace, each test on its
//! own database and its own Redis namespace, so tests run in parallel and share nothing.
//!
//! # Layout
//! - [`binaries`]: builds the workspace's binaries once per test process and finds them.
//! - [`process`]: a spawned binary with a clean environment, its readiness line, its
//!   drained output (printed when a test fails) and kill-on-drop. `web` uses it; `worker`
//!   and `gateway-emulator` get a module like [`web`] on top of it.
//! - [`db`]: [`TestDb`], a fresh PostgreSQL database or SQLite file, migrated by the real
//!   `migration up`, dropped afterwards.
//! - [`fixtures`]: rows written or read behind the application's back (tokens with an old
//!   `created_at`, soft-deleted messages) and snapshots that prove nothing was written.
//! - [`prometheus`]: scraping `/metrics` and reading one sample.
//! - [`raw_http`]: HTTP/1.1 on a bare socket, for broken heads and stalling clients.
//! - [`redis`]: [`RedisNamespace`], a `QUEUE_PREFIX` of its own, and readers of its queues.
//! - [`redis_server`], [`postgres_server`]: a Redis or PostgreSQL server of one test, which it
//!   can stop and start (outages).
//! - [`redis_cluster`]: a Redis Cluster of 3 masters and 3 replicas, and planned failovers;
//!   [`redis_tls`]: a TLS-only Redis with a private CA the test made.
//! - [`web`]: [`WebApp`], the spawned `web` binary and its HTTP helpers.
//! - [`swarm`]: many real WebSocket clients counting, per connection, what arrived.
//! - [`cable_client`]: a raw Action Cable client; [`node_cable`]: the stock
//!   `@rails/actioncable` consumer run by Node.
//! - [`traffic`]: the Management API traffic the emulator saw between two stats snapshots
//!   (requests per second, 429s over the account quota).
//! - [`schemathesis`]: the schemathesis fuzzer (PyPI), installed into a venv on first use.
//! - [`browser`]: headless Chromium driven by playwright-core, for the `/demo` and `/admin`
//!   pages.
//! - [`wait`]: [`wait_until`], waiting for a condition with a deadline instead of sleeping.
//!
//! A test starts with [`TestEnv`]:
//! ```no_run
//! # async fn example() {
//! use e2e::{TestEnv, WebApp, WebOptions};
//! let env = TestEnv::postgres().await;
//! let web = WebApp::spawn(&env, WebOptions::default()).await;
//! let (status, body) = web.connect("conn-1", Some("http://allowed.example")).await;
//! # }
//! ```

pub mod audience;
pub mod binaries;
pub mod browser;
pub mod cable_client;
pub mod chat_room;
pub mod db;
pub mod emulator;
pub mod fake_management;
pub mod fixtures;
pub mod node_cable;
pub mod postgres_server;
pub mod process;
pub mod prometheus;
pub mod raw_http;
pub mod redis;
pub mod redis_cluster;
pub mod redis_server;
pub mod redis_tls;
pub mod schemathesis;
pub mod stack;
pub mod swarm;
pub mod traffic;
pub mod wait;
pub mod web;
pub mod worker;
pub mod ws_client;

pub use db::TestDb;
pub use redis::RedisNamespace;
pub use wait::wait_until;
pub use web::{WebApp, WebOptions};
pub use worker::{WorkerOptions, WorkerProcess};

use std::path::Path;

/// Everything one test owns: its database, its Redis namespace, and a scratch directory
/// the spawned binaries run in (so no `.env` of the checkout leaks into them).
pub struct TestEnv {
    // Field order is drop order: the namespace and database go after the processes that
    // the test itself dropped earlier.
    pub redis: RedisNamespace,
    pub db: TestDb,
    scratch: tempfile::TempDir,
}

impl TestEnv {
    /// A fresh PostgreSQL database (`TEST_POSTGRES_URL`) and Redis namespace (`TEST_REDIS_URL`).
    pub async fn postgres() -> Self {
        Self::with_db(TestDb::postgres().await)
    }

    /// A fresh database on a PostgreSQL server of the test's own (see
    /// [`postgres_server`]) and a Redis namespace.
    pub async fn postgres_on(admin_url: &str) -> Self {
        Self::with_db(TestDb::postgres_on(admin_url).await)
    }

    /// A fresh SQLite file and Redis namespace.
    pub async fn sqlite() -> Self {
        Self::with_db(TestDb::sqlite().await)
    }

    fn with_db(db: TestDb) -> Self {
        Self {
            redis: RedisNamespace::new(),
            db,
            scratch: tempfile::Builder::new()
                .prefix("wsgw-run-")
                .tempdir()
                .expect("a scratch directory"),
        }
    }

    /// The working directory of spawned binaries.
    pub fn scratch_dir(&self) -> &Path {
        self.scratch.path()
    }
}
