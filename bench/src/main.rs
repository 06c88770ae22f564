//! `bench`: the benchmarks of wsgw, through the real binaries (taken from the directory this
//! executable is in), real Redis and PostgreSQL (or SQLite), and gateway-emulator.
//!
//! ```text
//! scripts/bench              # release build, then `bench all`
//! bench all --tiny           # what CI runs (scripts/bench-smoke)
//! bench fanout --connections 10000 --runs 3
//! bench ratelimit --connections 4000 --account-rps 2000 --rate-limit 1500
//! bench all --baseline-bin-dir DIR   # DIR's web and worker beside the current ones
//! ```
//!
//! # Layout
//! - [`options`]: the command line and the sizes every benchmark runs at.
//! - [`stack`]: a database, a Redis prefix, the emulator, web and worker processes.
//! - [`builds`]: the current binaries, or a baseline's beside them, and their tables merged.
//! - [`cpu`]: each process's CPU time over a measured window, per post or per request.
//! - [`identities`]: users and tokens in bulk.
//! - [`swarm`]: authenticated WebSocket clients that timestamp what they receive.
//! - [`fanout`], [`fanout_report`]: one broadcast to N clients, next to the sequential
//!   baseline.
//! - [`scale`]: the fan-out with several worker processes.
//! - [`loadgen`], [`hello`], [`callbacks`], [`callbacks_report`]: `$default` under load, next
//!   to poem's hello world.
//! - [`pg_ceiling`], [`pgbench`], [`pgbench_script`]: the statements of those frames run by
//!   pgbench, PostgreSQL's ceiling for them, beside the callbacks' figures.
//! - [`latency`], [`latency_search`]: send → delivered at a steady rate, and the highest rate
//!   at which p99 holds.
//! - [`ratelimit`]: two workers against an account quota, with and without
//!   `APIGW_RATE_LIMIT`.
//! - [`cable`]: one broadcast to N Action Cable clients over two web replicas, beside API
//!   Gateway clients; memory per idle connection.
//! - [`standin`], [`nginx`], [`wrk`]: the fan-out against nginx as an independent
//!   Management API, next to nginx's own ceiling measured by wrk.
//! - [`tools`]: where the other projects' programs are, and what to install.
//! - [`stats`], [`report`]: histograms, medians and the tables printed.
//!
//! Targets are reported, never enforced: the exit status is non-zero only when a benchmark
//! could not run.

mod builds;
mod cable;
mod callbacks;
mod callbacks_report;
mod cpu;
mod fanout;
mod fanout_report;
mod hello;
mod identities;
mod latency;
mod latency_search;
mod loadgen;
mod machine;
mod nginx;
mod options;
mod pg_ceiling;
mod pgbench;
mod pgbench_script;
mod ratelimit;
mod report;
mod scale;
mod stack;
mod standin;
mod stats;
mod swarm;
mod tools;
mod wrk;

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;

use crate::options::{Cli, Settings, Which};
use crate::report::Report;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::resolve(&cli.args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("bench: {error:#}");
            return ExitCode::from(2);
        }
    };
    if std::env::var_os("WSGW_BIN_DIR").is_none()
        && let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.to_path_buf()))
    {
        e2e::binaries::use_bin_dir(dir);
    }
    println!("# wsgw benchmarks\n");
    for line in machine::describe(&settings) {
        println!("- {line}");
    }
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    let steps: &[Which] = match cli.command {
        Which::All => &[
            Which::Fanout,
            Which::Callbacks,
            Which::Latency,
            Which::Cable,
            Which::Ratelimit,
            Which::Standin,
        ],
        ref one => std::slice::from_ref(one),
    };
    let with_scale = cli.command == Which::All;
    for step in steps {
        let name = format!("{step:?}").to_lowercase();
        eprintln!("[bench] {name}: starting");
        let settings = settings.clone();
        let outcome = match step {
            Which::Fanout if with_scale => isolate(fanout_and_scale(settings)).await,
            Which::Fanout => isolate(async move { Ok(vec![fanout::run(&settings).await?]) }).await,
            Which::Scale => isolate(async move { Ok(vec![scale::run(&settings).await?]) }).await,
            Which::Callbacks => {
                isolate(async move {
                    let callbacks = callbacks::run(&settings).await?;
                    let ceiling = pg_ceiling::run(&settings, &callbacks).await?;
                    Ok(vec![callbacks, ceiling])
                })
                .await
            }
            Which::Latency => {
                isolate(async move { Ok(vec![latency::run(&settings).await?]) }).await
            }
            Which::Cable => isolate(async move { Ok(vec![cable::run(&settings).await?]) }).await,
            Which::Ratelimit => {
                isolate(async move { Ok(vec![ratelimit::run(&settings).await?]) }).await
            }
            Which::Standin => {
                isolate(async move { Ok(vec![standin::run(&settings).await?]) }).await
            }
            Which::All => unreachable!("`all` is expanded above"),
        };
        eprintln!("[bench] {name}: done");
        match outcome {
            Ok(done) => {
                for report in &done {
                    println!("{}", report.render());
                }
                println!("(load average after {name}: {})", machine::load_average());
                reports.extend(done);
            }
            Err(error) => {
                eprintln!("[bench] {name} could not run: {error:#}");
                println!("\n## {name}: could not run\n\n{error:#}\n");
                failures.push(name);
            }
        }
    }
    let targets: Vec<String> = reports.iter().flat_map(Report::targets).collect();
    if !targets.is_empty() {
        println!("\n## Targets\n\n| benchmark | figure | median | target |\n|---|---|---:|---|");
        for line in targets {
            println!("{line}");
        }
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("bench: could not run: {}", failures.join(", "));
        ExitCode::FAILURE
    }
}

/// `all` measures the fan-out and the scaling on one set of clients (the current build's
/// last), then the sequential loop.
async fn fanout_and_scale(settings: Settings) -> anyhow::Result<Vec<Report>> {
    let (concurrent, scale) = {
        let (concurrent, mut stage) = fanout::concurrent_builds(&settings).await?;
        let scale = scale::measure(&mut stage, &settings).await?;
        (concurrent, scale)
    };
    let baseline = fanout::baseline(&settings).await?;
    Ok(vec![
        fanout_report::report(&settings, &concurrent, &baseline),
        scale,
    ])
}

/// Runs one benchmark as its own task, so a panic in the harness (a process that would
/// not start, say) fails that benchmark only.
async fn isolate(
    benchmark: impl Future<Output = anyhow::Result<Vec<Report>>> + Send + 'static,
) -> anyhow::Result<Vec<Report>> {
    match tokio::spawn(benchmark).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned());
            Err(anyhow::anyhow!("panicked: {message}"))
        }
        Err(error) => Err(error.into()),
    }
}
