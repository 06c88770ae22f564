//! Latency: send → delivered while a steady stream of messages flows to a small audience.
//!
//! The clients take turns sending `send_message` at a fixed rate (open loop: message k is
//! due at start + k / rate, whatever happened to the ones before), and every client
//! receives every message. Latency runs from the instant a message was due to be sent to
//! the instant a client read it, so a late send counts against the product. After the runs
//! at the given rate, [`latency_search`](crate::latency_search) finds the highest rate that
//! holds. With a baseline build, each build has a stage of its own and their runs alternate.

use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use crate::builds::{self, Build};
use crate::fanout::Stage;
use crate::latency_search::{self, Search};
use crate::machine::CpuWindow;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stack::WorkerTuning;
use crate::stats::{Latencies, count, figure};
use crate::swarm::{Event, Sender, send_message_frame};

/// The targets are stated at this rate.
const TARGET_RATE: u64 = 1_000;
const TARGET_P50_MS: f64 = 10.0;
/// Also the bound of the search for the highest rate that holds.
pub const TARGET_P99_MS: f64 = 50.0;
/// How long deliveries may trail the last send before the missing ones are counted.
const DRAIN: Duration = Duration::from_secs(30);
/// How long the answers to the frames (`send_result`) may trail the deliveries: once all are
/// in, web has handled every frame and the next stream starts on a quiet stack.
const REPLIES: Duration = Duration::from_secs(10);

/// One steady stream.
pub struct Stream {
    pub sent: u64,
    pub expected: u64,
    pub received: u64,
    pub refused: u64,
    /// Answers to the frames sent (`send_result`), refused ones included.
    pub replies: u64,
    pub latencies: Latencies,
    /// How late the pacer ever was (this machine's timer and load, not the product).
    pub max_send_lag: Duration,
}

/// One build's stage and what was measured on it.
struct Measured {
    stage: Stage,
    runs: Vec<Stream>,
    search: Option<Search>,
    /// How busy the machine was over this build's runs at the given rate.
    cpu: Vec<String>,
}

async fn open(settings: &Settings, build: &Build) -> anyhow::Result<Measured> {
    let mut stage = Stage::open_build(settings, settings.latency_clients, build, &[]).await?;
    stage.stack.set_workers(1, WorkerTuning::DEFAULTS).await?;
    stage.stack.set_post_latency(0).await;
    let warmup = stream(&mut stage, settings.rate, settings.warmup, DRAIN).await?;
    eprintln!(
        "[bench] latency warm-up ({}): {} messages, p50 {} ms",
        build.label,
        warmup.sent,
        figure(warmup.latencies.quantile_ms(0.5))
    );
    Ok(Measured {
        stage,
        runs: Vec::new(),
        search: None,
        cpu: Vec::new(),
    })
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let mut measured = Vec::new();
    for build in &settings.builds {
        measured.push(open(settings, build).await?);
    }
    for run in 1..=settings.runs {
        for index in 0..measured.len() {
            wait_until_every_build_idle(&measured).await?;
            let build = &mut measured[index];
            let label = build.stage.stack.build().label;
            let window = CpuWindow::start();
            let stage = &mut build.stage;
            let result = match stream(stage, settings.rate, settings.latency_duration, DRAIN).await
            {
                Ok(result) => result,
                Err(error) => return Err(anyhow::anyhow!("{error:#}\n{}", stage.stack.tails())),
            };
            eprintln!(
                "[bench] latency ({label}), run {run}: {} sent, {} of {} delivered, p50 {} ms, \
                 p99 {} ms, max {} ms",
                result.sent,
                result.received,
                result.expected,
                figure(result.latencies.quantile_ms(0.5)),
                figure(result.latencies.quantile_ms(0.99)),
                figure(result.latencies.max_ms()),
            );
            build.cpu.push(format!("run {run}: {}", window.finish()));
            build.runs.push(result);
        }
    }
    let plan = latency_search::Plan::for_settings(settings);
    for index in 0..measured.len() {
        wait_until_every_build_idle(&measured).await?;
        let build = &mut measured[index];
        let stage = &mut build.stage;
        let search = match latency_search::highest_rate(stage, &plan).await {
            Ok(search) => search,
            Err(error) => return Err(anyhow::anyhow!("{error:#}\n{}", stage.stack.tails())),
        };
        build.search = Some(search);
    }
    let reports = measured
        .iter()
        .map(|build| {
            let mut report = report(settings, &build.runs, build.search.as_ref());
            for line in &build.cpu {
                report.note(line.clone());
            }
            report
        })
        .collect();
    Ok(builds::merged(reports, &settings.builds))
}

/// Builds share the machine: a run starts once no build is still working off a backlog,
/// so that one build's leftover work is never measured against the other.
async fn wait_until_every_build_idle(measured: &[Measured]) -> anyhow::Result<()> {
    for build in measured {
        build.stage.stack.wait_idle(BACKLOG_DRAIN).await?;
    }
    Ok(())
}

/// The longest wait for the queue to empty before a run starts.
const BACKLOG_DRAIN: Duration = Duration::from_secs(300);

/// Messages at `rate` for `duration`, received until every client has every message or
/// `drain` after the last send.
pub async fn stream(
    stage: &mut Stage,
    rate: u64,
    duration: Duration,
    drain: Duration,
) -> anyhow::Result<Stream> {
    // A build that could not keep up with the last run is still working off its backlog:
    // at a few hundred messages a second, tens of thousands of them take minutes.
    stage.stack.wait_idle(BACKLOG_DRAIN).await?;
    stage.swarm.drain();
    let clients = stage.swarm.len();
    let total = ((duration.as_secs_f64() * rate as f64).round() as u64).max(1);
    let first_tag = stage.take_tags(total);
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let senders: Vec<Sender> = (0..clients)
        .map(|client| stage.swarm.sender(client).clone())
        .collect();
    let start = Instant::now() + Duration::from_millis(50);
    let due = move |k: u64| start + period.mul_f64(k as f64);
    let pacer = tokio::spawn(async move {
        let mut max_lag = Duration::ZERO;
        for k in 0..total {
            tokio::time::sleep_until(due(k)).await;
            max_lag = max_lag.max(Instant::now() - due(k));
            let sender = &senders[k as usize % clients];
            sender.send(send_message_frame(&sender.token, first_tag + k))?;
        }
        anyhow::Ok(max_lag)
    });
    let expected = total * clients as u64;
    let deadline = due(total) + drain;
    let mut result = Stream {
        sent: total,
        expected,
        received: 0,
        refused: 0,
        replies: 0,
        latencies: Latencies::new(),
        max_send_lag: Duration::ZERO,
    };
    while result.received < expected {
        match stage.swarm.next_event(deadline).await {
            None => break,
            Some(Event::Delivered { tag, at, .. })
                if (first_tag..first_tag + total).contains(&tag) =>
            {
                result.received += 1;
                result
                    .latencies
                    .record(at.saturating_duration_since(due(tag - first_tag)));
            }
            Some(Event::Reply { success }) => {
                result.replies += 1;
                result.refused += u64::from(!success);
            }
            Some(Event::Closed { client }) => bail!("client {client} was disconnected"),
            Some(_) => {}
        }
    }
    result.max_send_lag = pacer.await??;
    let replies_deadline = Instant::now() + REPLIES;
    while result.replies < total {
        match stage.swarm.next_event(replies_deadline).await {
            None => break,
            Some(Event::Reply { success }) => {
                result.replies += 1;
                result.refused += u64::from(!success);
            }
            Some(_) => {}
        }
    }
    Ok(result)
}

fn report(settings: &Settings, runs: &[Stream], search: Option<&Search>) -> Report {
    let judge = settings.judge() && settings.rate == TARGET_RATE;
    let clients = settings.latency_clients;
    let mut report = Report::new(format!(
        "Latency: send → delivered at {} messages/s for {} s",
        count(settings.rate as usize),
        settings.latency_duration.as_secs()
    ));
    report.setting(format!(
        "{clients} WebSocket clients through gateway-emulator take turns sending send_message \
         to all_channel ({} messages/s each) and each receives every message: {} deliveries/s",
        figure(settings.rate as f64 / clients as f64),
        count(settings.rate as usize * clients)
    ));
    report.setting(
        "latency from the instant a message was due (open loop, so a late send counts \
         against the product) to the instant a client read it; every delivery is a sample",
    );
    report.setting(format!(
        "worker: 1 process, {}; Management API latency 0 ms; {} runs after {} ms of warm-up; {}",
        WorkerTuning::DEFAULTS.describe(),
        settings.runs,
        settings.warmup.as_millis(),
        settings.database_name()
    ));
    let at = format!(
        "{} msg/s × {clients} clients",
        count(settings.rate as usize)
    );
    let column = |value: &dyn Fn(&Stream) -> f64| runs.iter().map(value).collect::<Vec<f64>>();
    let mut p50 = Row::new(
        &at,
        "send → delivered p50 (ms)",
        column(&|r| r.latencies.quantile_ms(0.5)),
    );
    let mut p99 = Row::new(
        &at,
        "send → delivered p99 (ms)",
        column(&|r| r.latencies.quantile_ms(0.99)),
    );
    if judge {
        p50 = p50.target(Goal::AtMost(TARGET_P50_MS));
        p99 = p99.target(Goal::AtMost(TARGET_P99_MS));
    }
    report.row(p50);
    report.row(p99);
    report.row(Row::new(
        &at,
        "send → delivered max (ms)",
        column(&|r| r.latencies.max_ms()),
    ));
    report.row(Row::new(
        &at,
        "deliveries received / expected (%)",
        column(&|r| 100.0 * r.received as f64 / r.expected as f64),
    ));
    report.row(Row::new(
        &at,
        "send_message refused",
        column(&|r| r.refused as f64),
    ));
    report.row(Row::new(
        &at,
        "pacer's largest lag (ms)",
        column(&|r| r.max_send_lag.as_secs_f64() * 1000.0),
    ));
    if let Some(search) = search {
        latency_search::describe(search, &mut report);
    }
    report
}
