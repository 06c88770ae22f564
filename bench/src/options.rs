//! The command line, and the sizes every benchmark runs at.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::builds::{self, Build};
use crate::stack::Database;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Benchmarks of wsgw through the real binaries, Redis, the database and gateway-emulator",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Which,
    #[command(flatten)]
    pub args: Args,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Which {
    /// N clients, one send_message, until every client has it; at each Management API
    /// latency, next to the sequential baseline.
    Fanout,
    /// `$default` auth_request and send_message under load, next to poem's hello world;
    /// then pgbench of the statements they send (PostgreSQL's ceiling for them).
    Callbacks,
    /// send → delivered at a steady rate to a small audience, then the highest rate at
    /// which p99 stays within the target.
    Latency,
    /// The fan-out with 1, 2 and 3 worker processes sharing split broadcasts.
    Scale,
    /// One broadcast to N Action Cable clients over two web replicas, beside the same to N
    /// API Gateway clients; web's memory per idle Action Cable connection.
    Cable,
    /// Two worker processes against an account quota (EMULATOR_ACCOUNT_RPS), with
    /// APIGW_RATE_LIMIT under it and without it: calls/s and 429s seen by the emulator.
    Ratelimit,
    /// The fan-out to N connections against nginx as an independent Management API stand-in
    /// (20 ms), next to nginx's own ceiling measured by wrk.
    Standin,
    /// Everything above, in that order (the fan-out and scale share one set of clients).
    All,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Fan-out audience: WebSocket clients held through the emulator.
    #[arg(long, global = true)]
    pub connections: Option<usize>,
    /// Audience of the sequential baseline (its rate does not depend on the audience).
    #[arg(long, global = true)]
    pub baseline_connections: Option<usize>,
    /// Measured runs of every figure; tables show the median and each run.
    #[arg(long, global = true)]
    pub runs: Option<usize>,
    /// Seconds each load of `callbacks` (and its pgbench runs, and `standin`'s wrk runs)
    /// and the steady stream of `latency` last (default 10 and 30).
    #[arg(long, global = true)]
    pub duration: Option<u64>,
    /// CI size: 50 connections, 2 s, 1 run; targets are not judged.
    #[arg(long, global = true)]
    pub tiny: bool,
    /// The database web and worker run on.
    #[arg(long, global = true, value_enum, default_value_t = Database::Postgres)]
    pub database: Database,
    /// Requests in flight (one per keep-alive connection) of the `callbacks` load generator.
    #[arg(long, global = true, default_value_t = 32)]
    pub concurrency: usize,
    /// Messages per second of `latency`.
    #[arg(long, global = true)]
    pub rate: Option<u64>,
    /// Clients of `latency`: each sends its share of the rate and receives every message.
    #[arg(long, global = true, default_value_t = 10)]
    pub latency_clients: usize,
    /// Management API latencies (ms) of the fan-out, injected by the emulator.
    #[arg(long, global = true, value_delimiter = ',', default_value = "20,0")]
    pub latencies: Vec<u64>,
    /// The emulator's account quota (requests/s) of `ratelimit`.
    #[arg(long, global = true, default_value_t = 2_000)]
    pub account_rps: u32,
    /// `APIGW_RATE_LIMIT` of `ratelimit`'s limited runs.
    #[arg(long, global = true, default_value_t = 1_500)]
    pub rate_limit: u32,
    /// Worker process counts of `scale`.
    #[arg(long, global = true, value_delimiter = ',', default_value = "1,2,3")]
    pub workers: Vec<usize>,
    /// A directory with a baseline build's `web` and `worker`: the fan-out, callbacks and
    /// latency then measure it and the current binaries in the same run, alternating their
    /// runs, and print both with the ratio (`scripts/bench --baseline <git-rev>` builds one).
    #[arg(long, global = true, env = "WSGW_BASELINE_BIN_DIR")]
    pub baseline_bin_dir: Option<PathBuf>,
}

/// Resolved sizes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub connections: usize,
    pub baseline_connections: usize,
    pub runs: usize,
    pub callbacks_duration: Duration,
    pub latency_duration: Duration,
    /// Load before each measured load, not counted.
    pub warmup: Duration,
    pub tiny: bool,
    pub database: Database,
    pub concurrency: usize,
    pub rate: u64,
    pub latency_clients: usize,
    pub latencies_ms: Vec<u64>,
    pub workers: Vec<usize>,
    pub account_rps: u32,
    pub rate_limit: u32,
    /// The builds compared: the baseline then the current one, or only the current one.
    pub builds: Vec<Build>,
}

/// The fan-out targets are stated for this audience.
pub const TARGET_CONNECTIONS: usize = 10_000;

impl Settings {
    pub fn resolve(args: &Args) -> anyhow::Result<Self> {
        let tiny = args.tiny;
        let pick = |given: Option<u64>, full: u64, small: u64| {
            given.unwrap_or(if tiny { small } else { full })
        };
        let settings = Self {
            connections: pick(args.connections.map(|n| n as u64), 10_000, 50) as usize,
            baseline_connections: pick(args.baseline_connections.map(|n| n as u64), 500, 20)
                as usize,
            runs: pick(args.runs.map(|n| n as u64), 3, 1) as usize,
            callbacks_duration: Duration::from_secs(pick(args.duration, 10, 2)),
            latency_duration: Duration::from_secs(pick(args.duration, 30, 2)),
            warmup: if tiny {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(1)
            },
            tiny,
            database: args.database,
            concurrency: args.concurrency,
            rate: pick(args.rate, 1000, 100),
            latency_clients: args.latency_clients,
            latencies_ms: args.latencies.clone(),
            workers: args.workers.clone(),
            account_rps: args.account_rps,
            rate_limit: args.rate_limit,
            builds: Build::all(args.baseline_bin_dir.as_deref()),
        };
        if let Some(dir) = &args.baseline_bin_dir {
            builds::check_baseline_dir(dir)?;
        }
        anyhow::ensure!(
            settings.connections >= 1,
            "--connections must be at least 1"
        );
        anyhow::ensure!(
            settings.baseline_connections >= 1,
            "--baseline-connections must be at least 1"
        );
        anyhow::ensure!(settings.runs >= 1, "--runs must be at least 1");
        anyhow::ensure!(
            settings.concurrency >= 1,
            "--concurrency must be at least 1"
        );
        anyhow::ensure!(
            settings.account_rps >= 1 && settings.rate_limit >= 1,
            "--account-rps and --rate-limit must be at least 1"
        );
        anyhow::ensure!(settings.rate >= 1, "--rate must be at least 1");
        anyhow::ensure!(
            settings.latency_clients >= 1,
            "--latency-clients must be at least 1"
        );
        anyhow::ensure!(
            !settings.workers.is_empty() && settings.workers.iter().all(|n| *n >= 1),
            "--workers needs counts of at least 1"
        );
        Ok(settings)
    }

    /// Targets are judged at full size only.
    pub fn judge(&self) -> bool {
        !self.tiny
    }

    /// The fan-out targets are stated for 10,000 connections.
    pub fn judge_fanout(&self) -> bool {
        self.judge() && self.connections == TARGET_CONNECTIONS
    }

    pub fn database_name(&self) -> &'static str {
        match self.database {
            Database::Postgres => "PostgreSQL",
            Database::Sqlite => "SQLite",
        }
    }
}
