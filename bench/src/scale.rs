//! Scale: the fan-out with 1, 2 and 3 worker processes. The audience is cut into sub-jobs
//! (`BROADCAST_SPLIT_SIZE`) so that every process takes a share of one broadcast.

use crate::cpu::{self, Part};
use crate::fanout::{Broadcast, Series, Stage};
use crate::fanout_report::CPU_SETTING;
use crate::options::Settings;
use crate::report::{Report, Row};
use crate::stack::WorkerTuning;
use crate::stats::count;

/// Sub-jobs per broadcast: one for every job slot of three processes (4 each by default).
const PARTS: usize = 12;

pub fn tuning(audience: usize) -> WorkerTuning {
    WorkerTuning {
        split_size: audience.div_ceil(PARTS).max(1),
        ..WorkerTuning::DEFAULTS
    }
}

/// Measures on a stage that already holds the clients.
pub async fn measure(stage: &mut Stage, settings: &Settings) -> anyhow::Result<Report> {
    let audience = stage.swarm.len();
    let tuning = tuning(audience);
    let mut results: Vec<(usize, Vec<Series>)> = Vec::new();
    for &workers in &settings.workers {
        stage.stack.set_workers(workers, tuning).await?;
        let label = format!("scale, {workers} worker(s)");
        let series = stage
            .measure(&settings.latencies_ms, settings.runs, tuning, &label)
            .await?;
        results.push((workers, series));
    }
    stage.stack.stop_workers().await;
    let mut report = Report::new(format!(
        "Scale: the fan-out to {} clients with {} worker processes",
        count(audience),
        settings
            .workers
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    report.setting(format!(
        "every worker: {} — each broadcast is cut into {} sub-jobs that the processes share",
        tuning.describe(),
        audience.div_ceil(tuning.split_size)
    ));
    report.setting(format!(
        "same clients, clock and emulator as the fan-out; {} runs after one warm-up; {}; \
         all processes share this machine's 2 cores with the emulator, web, Redis, the \
         database and the clients",
        settings.runs,
        settings.database_name()
    ));
    report.setting(CPU_SETTING);
    for latency_ms in &settings.latencies_ms {
        for (workers, series) in &results {
            let Some(series) = series.iter().find(|s| s.latency_ms == *latency_ms) else {
                continue;
            };
            let at = format!("{latency_ms} ms, {workers} worker(s)");
            report.row(Row::new(
                &at,
                "send → all delivered (s)",
                series.column(|b| b.all_delivered.as_secs_f64()),
            ));
            report.row(Row::new(
                &at,
                "posts/s",
                series.column(Broadcast::posts_per_sec),
            ));
            report.row(Row::new(
                &at,
                "per-client delivery p99 (ms)",
                series.column(|b| b.latencies.quantile_ms(0.99)),
            ));
            let runs: cpu::Runs = series
                .runs
                .iter()
                .map(|broadcast| (&broadcast.cpu, broadcast.audience as u64))
                .collect();
            report.row(cpu::per_unit_row(
                &at,
                "every worker process together",
                "post",
                Part::Worker,
                &runs,
            ));
            report.row(cpu::busy_row(&at, &runs));
        }
    }
    Ok(report)
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let mut stage = Stage::open(settings, settings.connections).await?;
    measure(&mut stage, settings).await
}
