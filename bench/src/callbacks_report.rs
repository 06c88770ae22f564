//! The callbacks' table: requests/s, latency and what one request cost each process, per
//! endpoint, with poem's hello world as the reference; with a baseline build, its figures
//! beside the current ones.

use crate::builds;
use crate::cpu::{self, Part};
use crate::loadgen::Outcome;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};

/// The `$default` frames measured, in the order their loads run.
pub const ENDPOINTS: [&str; 2] = ["auth_request", "send_message"];

/// The runs of each of [`ENDPOINTS`] on one build.
pub type Measured = [Vec<Outcome>; ENDPOINTS.len()];

/// The targets: (requests/s at least, p99 in ms at most).
fn target(endpoint: &str) -> Option<(f64, f64)> {
    match endpoint {
        "auth_request" => Some((10_000.0, 10.0)),
        "send_message" => Some((5_000.0, 20.0)),
        _ => None,
    }
}

/// Where a request's CPU time goes, as the tables name each part.
const REQUEST_PARTS: [(Part, &str); 5] = [
    (Part::Web, "web"),
    (Part::Postgres, "PostgreSQL"),
    (Part::Redis, "Redis"),
    (Part::Tool, "load generator (this tool)"),
    (Part::Else, "anything else"),
];
const HELLO_PARTS: [(Part, &str); 2] = [
    (Part::Tool, "hello world and load generator (this tool)"),
    (Part::Else, "anything else"),
];

/// One table of every build's runs (ordered as `settings.builds`); hello world is shown once.
pub fn report(settings: &Settings, hello: &[Outcome], builds: &[Measured]) -> Report {
    let current = builds.len().saturating_sub(1);
    let reports = builds
        .iter()
        .enumerate()
        .map(|(index, measured)| {
            let hello = (index == current).then_some(hello);
            table(settings, hello, measured)
        })
        .collect();
    builds::merged(reports, &settings.builds)
}

fn table(settings: &Settings, hello: Option<&[Outcome]>, measured: &Measured) -> Report {
    let judge = settings.judge();
    let mut report = Report::new("Callbacks: $default under load, next to poem's hello world");
    report.setting(format!(
        "load generator: {} keep-alive HTTP/1.1 connections, one request in flight each (closed \
         loop), {} s measured after {} ms of warm-up, {} runs interleaved \
         (hello, auth_request, send_message, hello, …; with a baseline, each endpoint on \
         before, then after)",
        settings.concurrency,
        settings.callbacks_duration.as_secs(),
        settings.warmup.as_millis(),
        settings.runs
    ));
    report.setting(
        "auth_request and send_message: POST /ws_apigateway/default to the real web binary \
         (product defaults, connection pool of 20), each load connection with its own token \
         bound to its own connectionId; no worker runs, so the broadcast jobs wait in Redis",
    );
    report.setting(format!(
        "poem hello world: GET / answered \"Hello, world!\" by poem in this process, on a \
         runtime of its own with 2 worker threads: a reference, not a target; {}",
        settings.database_name()
    ));
    report.setting(
        "CPU per request: utime + stime (/proc/<pid>/stat) of each process over each measured \
         window ÷ the requests answered in it; PostgreSQL and Redis are every process of that \
         name; \"anything else\" is the machine's busy time no process above accounts for",
    );
    let mut loads: Vec<(&str, &[Outcome])> = Vec::new();
    if let Some(hello) = hello {
        loads.push(("poem hello world", hello));
    }
    loads.extend(
        ENDPOINTS
            .iter()
            .copied()
            .zip(measured.iter().map(Vec::as_slice)),
    );
    for (name, runs) in &loads {
        let column = |value: &dyn Fn(&Outcome) -> f64| runs.iter().map(value).collect::<Vec<_>>();
        let mut rate = Row::new(*name, "requests/s", column(&Outcome::per_sec));
        let p50 = Row::new(*name, "p50 (ms)", column(&|o| o.latencies.quantile_ms(0.5)));
        let mut p99 = Row::new(
            *name,
            "p99 (ms)",
            column(&|o| o.latencies.quantile_ms(0.99)),
        );
        if let Some((per_sec, p99_ms)) = target(name).filter(|_| judge) {
            rate = rate.target(Goal::AtLeast(per_sec));
            p99 = p99.target(Goal::AtMost(p99_ms));
        }
        report.row(rate);
        report.row(p50);
        report.row(p99);
        let failed = column(&|o| o.failed as f64);
        if failed.iter().any(|f| *f > 0.0) {
            report.row(Row::new(*name, "failed requests", failed));
        }
        let cpu_runs: cpu::Runs = runs.iter().map(|o| (&o.cpu, o.requests())).collect();
        let parts: &[(Part, &str)] = if target(name).is_some() {
            &REQUEST_PARTS
        } else {
            &HELLO_PARTS
        };
        for row in cpu::rows(name, "request", parts, &cpu_runs) {
            report.row(row);
        }
    }
    for (name, runs) in &loads {
        if let Some(failure) = runs.iter().find_map(|o| o.failure.clone()) {
            report.note(format!("{name}: first failure: {failure}"));
        }
    }
    report
}
