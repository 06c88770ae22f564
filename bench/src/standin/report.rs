//! The stand-in's table: nginx's ceiling, the worker's fan-out against it, and their ratio.

use super::stage::{Broadcast, Stage};
use super::{LATENCY, Measured};
use crate::nginx::StandIn;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stats::count;
use crate::wrk::{Wrk, WrkRun};

/// The target: the worker's posts/s at least this share of the stand-in's ceiling.
const TARGET_SHARE_OF_CEILING: f64 = 0.85;

pub fn render(
    settings: &Settings,
    stand_in: &StandIn,
    wrk: &Wrk,
    wrk_version: &str,
    stage: &Stage,
    measured: &Measured,
) -> Report {
    let n = stage.audience;
    let ms = LATENCY.as_millis();
    let mut report = Report::new(format!(
        "Stand-in: the fan-out to {} against nginx answering after {ms} ms, next to nginx's own \
         ceiling",
        count(n)
    ));
    report.setting(format!(
        "stand-in: {} with the echo module, worker_processes auto, access_log off; POST \
         {}/@connections/<id> answered 200 after echo_sleep {:.3} (a timer: a waiting post \
         holds no nginx worker); started by this tool on a free port",
        stand_in.version,
        stand_in.endpoint(),
        LATENCY.as_secs_f64()
    ));
    report.setting(format!(
        "ceiling: {wrk_version}, {} connections with one POST in flight each, {} threads, {} s \
         per run, a {}-byte JSON body",
        wrk.connections,
        wrk.threads,
        wrk.duration.as_secs().max(1),
        wrk.body.len()
    ));
    report.setting(format!(
        "fan-out: {} tokens bound to connection ids of no client (no WebSocket clients), 1 \
         worker with APIGW_ENDPOINT at nginx and the product defaults {} (up to {} posts in \
         flight); the clock runs from POST /api/messages to web (which stores the message and \
         enqueues its broadcast as send_message does) to the finished_at of the worker's last \
         summary in its recent-broadcasts list; nginx's stub_status confirms it answered every \
         post; {}",
        count(n),
        stage.tuning.describe(),
        stage.tuning.in_flight(n),
        settings.database_name()
    ));
    report.setting(format!(
        "{} runs after a warm-up, each a wrk run then a broadcast; ratio: run k's fan-out \
         posts/s ÷ run k's wrk posts/s",
        settings.runs
    ));
    let ceiling = |value: fn(&WrkRun) -> f64| measured.ceiling.iter().map(value).collect();
    let broadcasts = |value: fn(&Broadcast) -> f64| measured.broadcasts.iter().map(value).collect();
    let wrk_setting = format!("nginx, wrk, {} in flight", wrk.connections);
    report.row(Row::new(
        &wrk_setting,
        "posts/s (ceiling)",
        ceiling(|r| r.per_sec),
    ));
    report.row(Row::new(
        &wrk_setting,
        "latency p50 (ms)",
        ceiling(|r| r.p50_ms),
    ));
    report.row(Row::new(
        &wrk_setting,
        "latency p99 (ms)",
        ceiling(|r| r.p99_ms),
    ));
    let fanout_setting = format!("worker, {} connections", count(n));
    report.row(Row::new(
        &fanout_setting,
        "enqueue → finished (s)",
        broadcasts(|b| b.took.as_secs_f64()),
    ));
    report.row(Row::new(
        &fanout_setting,
        "posts/s",
        broadcasts(Broadcast::posts_per_sec),
    ));
    let share: Vec<f64> = measured
        .broadcasts
        .iter()
        .zip(&measured.ceiling)
        .map(|(broadcast, ceiling)| broadcast.posts_per_sec() / ceiling.per_sec)
        .collect();
    let mut share = Row::new(&fanout_setting, "posts/s ÷ nginx's ceiling", share);
    if settings.judge_fanout() {
        share = share.target(Goal::AtLeast(TARGET_SHARE_OF_CEILING));
    }
    report.row(share);
    for line in &measured.cpu {
        report.note(line.clone());
    }
    report
}
