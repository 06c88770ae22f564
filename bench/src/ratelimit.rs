//! Rate limit: two worker processes fan out to N clients through an emulator that enforces
//! an account quota (`EMULATOR_ACCOUNT_RPS`), with `APIGW_RATE_LIMIT` under it and without
//! it. The emulator counts what arrives per second and what it throttled (429).

use crate::fanout::Stage;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stack::WorkerTuning;
use crate::stats::count;
use e2e::traffic::Traffic;

const WORKERS: usize = 2;
/// Management API latency, as API Gateway answers from the same region.
const LATENCY_MS: u64 = 20;
/// Sub-jobs per broadcast, so that both processes run parts of each.
const PARTS: usize = 4;

/// What one broadcast came to, seen by the clients and by the emulator.
struct Run {
    seconds: f64,
    traffic: Traffic,
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let quota = settings.account_rps.to_string();
    let audience = settings.connections;
    let mut stage = Stage::open_with(
        settings,
        audience,
        &[("EMULATOR_ACCOUNT_RPS", quota.as_str())],
    )
    .await?;
    stage.set_latency(LATENCY_MS).await;
    let mut limited = Vec::new();
    let mut unlimited = Vec::new();
    for (limit, runs) in [(settings.rate_limit, &mut limited), (0, &mut unlimited)] {
        let tuning = WorkerTuning {
            split_size: audience.div_ceil(PARTS).max(1),
            rate_limit: limit,
            ..WorkerTuning::DEFAULTS
        };
        stage.stack.set_workers(WORKERS, tuning).await?;
        for run in 1..=settings.runs {
            let before = stage.stack.emulator.stats().await;
            let broadcast = stage.checked_broadcast(tuning).await?;
            let traffic = Traffic::between(&before, &stage.stack.emulator.stats().await);
            eprintln!(
                "[bench] ratelimit, APIGW_RATE_LIMIT={limit}, run {run}: {} clients in {:.3}s; {}",
                broadcast.audience,
                broadcast.all_delivered.as_secs_f64(),
                traffic.describe()
            );
            runs.push(Run {
                seconds: broadcast.all_delivered.as_secs_f64(),
                traffic,
            });
        }
    }
    stage.stack.stop_workers().await;
    Ok(report(settings, &limited, &unlimited))
}

fn report(settings: &Settings, limited: &[Run], unlimited: &[Run]) -> Report {
    let limit = f64::from(settings.rate_limit);
    let mut report = Report::new(format!(
        "Rate limit: {WORKERS} workers, {} clients, account quota {}/s",
        count(settings.connections),
        count(settings.account_rps as usize)
    ));
    report.setting(format!(
        "gateway-emulator with EMULATOR_ACCOUNT_RPS={} (burst half of it, as AWS's) and \
         {LATENCY_MS} ms per Management API call; {WORKERS} worker processes at the default \
         concurrency, each broadcast cut into {PARTS} sub-jobs; one send_message per run, \
         {} runs; rates counted by the emulator per wall-clock second",
        settings.account_rps, settings.runs
    ));
    for (name, runs, judged) in [
        (
            format!("APIGW_RATE_LIMIT={}", settings.rate_limit),
            limited,
            settings.judge(),
        ),
        ("APIGW_RATE_LIMIT=0".to_owned(), unlimited, false),
    ] {
        let column = |value: &dyn Fn(&Run) -> f64| runs.iter().map(value).collect::<Vec<_>>();
        report.row(Row::new(
            &name,
            "send → all delivered (s)",
            column(&|run| run.seconds),
        ));
        report.row(Row::new(
            &name,
            "calls/s, sustained",
            column(&|run| run.traffic.sustained_per_second()),
        ));
        let mut peak = Row::new(
            &name,
            "calls/s, busiest second",
            column(&|run| run.traffic.peak_per_second() as f64),
        );
        let mut share = Row::new(
            &name,
            "throttled (429) share of calls (%)",
            column(&|run| run.traffic.throttled_share() * 100.0),
        );
        if judged {
            peak = peak.target(Goal::AtMost(limit * 1.1));
            share = share.target(Goal::AtMost(2.0));
        }
        report.row(peak);
        report.row(share);
        report.row(Row::new(
            &name,
            "throttled calls (429)",
            column(&|run| run.traffic.quota_throttled as f64),
        ));
    }
    report
}
