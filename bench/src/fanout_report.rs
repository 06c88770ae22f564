//! The fan-out's table: the time until every client has the broadcast, posts/s, per-client
//! latency, what one post cost each process, and the original's sequential loop beside it;
//! with a baseline build, its figures beside the current ones.

use crate::builds;
use crate::cpu::{self, Part};
use crate::fanout::{Broadcast, Series};
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stack::WorkerTuning;
use crate::stats::count;

/// The targets at 10,000 connections, one worker process.
const TARGET_SECONDS_AT_20MS: f64 = 0.8;
const TARGET_POSTS_AT_0MS: f64 = 25_000.0;
const TARGET_WORKER_CPU_PER_POST_US: f64 = 30.0;

/// Where a post's CPU time goes besides the worker, as the tables name each part.
pub const OTHER_PARTS: [(Part, &str); 6] = [
    (Part::Emulator, "gateway-emulator"),
    (Part::Tool, "the clients (this tool)"),
    (Part::Web, "web"),
    (Part::Postgres, "PostgreSQL"),
    (Part::Redis, "Redis"),
    (Part::Else, "anything else"),
];

/// How a post's CPU is measured, for the tables' settings.
pub const CPU_SETTING: &str = "CPU per post: utime + stime (/proc/<pid>/stat) of each process \
     over each measured broadcast, from the send until the job is done, ÷ the clients; \
     PostgreSQL and Redis are every process of that name; \"anything else\" is the machine's \
     busy time no process above accounts for";

/// The rows of CPU per post of a series: the worker's first (judged against `worker_goal`),
/// then everything else's and how busy the machine was.
pub fn cpu_rows(setting: &str, who: &str, series: &Series, worker_goal: Option<Goal>) -> Vec<Row> {
    let runs: cpu::Runs = series
        .runs
        .iter()
        .map(|broadcast| (&broadcast.cpu, broadcast.audience as u64))
        .collect();
    let mut worker = cpu::per_unit_row(setting, who, "post", Part::Worker, &runs);
    if let Some(goal) = worker_goal {
        worker = worker.target(goal);
    }
    let mut rows = vec![worker];
    rows.extend(cpu::rows(setting, "post", &OTHER_PARTS, &runs));
    rows
}

/// One table of every build's series (ordered as `settings.builds`); the sequential loop is
/// the current build's only.
pub fn report(settings: &Settings, concurrent: &[Vec<Series>], sequential: &[Series]) -> Report {
    let current = concurrent.len().saturating_sub(1);
    let reports = concurrent
        .iter()
        .enumerate()
        .map(|(index, series)| {
            let sequential = if index == current { sequential } else { &[] };
            table(settings, series, sequential)
        })
        .collect();
    builds::merged(reports, &settings.builds)
}

fn table(settings: &Settings, concurrent: &[Series], baseline: &[Series]) -> Report {
    let n = settings.connections;
    let b = settings.baseline_connections;
    let judge = settings.judge_fanout();
    let mut report = Report::new(format!("Fan-out: one send_message to {} clients", count(n)));
    report.setting(format!(
        "{} WebSocket clients through gateway-emulator, each authenticated with its own token; \
         client 0 sends one send_message to all_channel; the clock runs from that frame to the \
         last client reading the broadcast (web's callback, the queue and the job included)",
        count(n)
    ));
    report.setting(format!(
        "worker: 1 process, product defaults {} (up to {} POSTs in flight)",
        WorkerTuning::DEFAULTS.describe(),
        WorkerTuning::DEFAULTS.in_flight(n)
    ));
    report.setting(format!(
        "baseline: the original's sequential loop, {}, over {} clients: a sequential loop's \
         rate does not depend on the audience, so its rate over {} stands for any N",
        WorkerTuning::sequential(b).describe(),
        count(b),
        count(b)
    ));
    let runs = if settings.builds.len() > 1 {
        format!(
            "{} runs, each on a fresh stack of its build after one warm-up broadcast",
            settings.runs
        )
    } else {
        format!("{} runs after one warm-up broadcast", settings.runs)
    };
    report.setting(format!(
        "Management API latency injected by the emulator (PUT /_emulator/faults post_latency_ms); \
         {runs}; {}",
        settings.database_name()
    ));
    report.setting(CPU_SETTING);
    for series in concurrent {
        let ms = series.latency_ms;
        let at = format!("{ms} ms, {} clients", count(n));
        let mut seconds = Row::new(
            &at,
            "send → all delivered (s)",
            series.column(|b| b.all_delivered.as_secs_f64()),
        );
        let mut posts = Row::new(&at, "posts/s", series.column(Broadcast::posts_per_sec));
        if judge && ms == 20 {
            seconds = seconds.target(Goal::AtMost(TARGET_SECONDS_AT_20MS));
        }
        if judge && ms == 0 {
            posts = posts.target(Goal::AtLeast(TARGET_POSTS_AT_0MS));
        }
        report.row(seconds);
        report.row(posts);
        report.row(Row::new(
            &at,
            "per-client delivery p50 (ms)",
            series.column(|b| b.latencies.quantile_ms(0.5)),
        ));
        report.row(Row::new(
            &at,
            "per-client delivery p99 (ms)",
            series.column(|b| b.latencies.quantile_ms(0.99)),
        ));
        report.row(Row::new(
            &at,
            "first client has it (ms)",
            series.column(|b| b.first_delivered.as_secs_f64() * 1000.0),
        ));
        let goal = judge.then_some(Goal::AtMost(TARGET_WORKER_CPU_PER_POST_US));
        for row in cpu_rows(&at, "worker", series, goal) {
            report.row(row);
        }
        let Some(base) = baseline.iter().find(|s| s.latency_ms == ms) else {
            continue;
        };
        let sequential = format!("{ms} ms, sequential, {} clients", count(b));
        report.row(Row::new(
            &sequential,
            "posts/s",
            base.column(Broadcast::posts_per_sec),
        ));
        report.row(Row::new(
            &sequential,
            "per-client delivery p99 (ms)",
            base.column(|b| b.latencies.quantile_ms(0.99)),
        ));
        let base_rate = base.median_posts_per_sec();
        report.row(Row::new(
            format!("{ms} ms"),
            format!(
                "sequential loop's time for {} clients, at its rate (s)",
                count(n)
            ),
            base.column(|b| n as f64 / b.posts_per_sec()),
        ));
        report.row(Row::new(
            format!("{ms} ms"),
            "posts/s ÷ sequential median (×)",
            series.column(|b| b.posts_per_sec() / base_rate),
        ));
    }
    report
}
