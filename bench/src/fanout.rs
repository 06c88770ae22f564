//! Fan-out: N authenticated clients held through the emulator, one `send_message` from one
//! of them, and the time until every client has it; next to the original's sequential loop.
//!
//! The clock starts when the frame leaves the sending client and stops when the last client
//! has read the broadcast, so each figure includes web's callback, the queue and the worker.

use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use crate::identities;
use crate::machine::CpuWindow;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stack::{Stack, WorkerTuning};
use crate::stats::{Latencies, count, figure, median};
use crate::swarm::{Event, Swarm, send_message_frame};

/// The targets at 10,000 connections.
const TARGET_SECONDS_AT_20MS: f64 = 1.2;
const TARGET_POSTS_AT_20MS: f64 = 8_000.0;
const TARGET_POSTS_AT_0MS: f64 = 25_000.0;
const TARGET_RATIO_AT_20MS: f64 = 150.0;

/// A stack with N clients connected and authenticated.
pub struct Stage {
    pub stack: Stack,
    pub swarm: Swarm,
    latency_ms: u64,
    next_tag: u64,
}

/// One broadcast, as the clients saw it.
pub struct Broadcast {
    pub audience: usize,
    /// Send → the last client has it.
    pub all_delivered: Duration,
    /// Send → the first client has it (web, queue and job start-up).
    pub first_delivered: Duration,
    /// Send → delivered, per client.
    pub latencies: Latencies,
}

impl Broadcast {
    pub fn posts_per_sec(&self) -> f64 {
        self.audience as f64 / self.all_delivered.as_secs_f64()
    }
}

/// The runs at one Management API latency.
pub struct Series {
    pub latency_ms: u64,
    pub runs: Vec<Broadcast>,
    /// How busy the machine was, and with what, while these runs were measured.
    pub cpu: String,
}

impl Series {
    pub fn column(&self, value: impl Fn(&Broadcast) -> f64) -> Vec<f64> {
        self.runs.iter().map(value).collect()
    }

    pub fn median_posts_per_sec(&self) -> f64 {
        median(&self.column(Broadcast::posts_per_sec))
    }
}

impl Stage {
    /// A fresh stack and `audience` clients, each with its own user and token.
    pub async fn open(settings: &Settings, audience: usize) -> anyhow::Result<Self> {
        Self::open_with(settings, audience, &[]).await
    }

    /// [`Stage::open`] with further `EMULATOR_*` variables.
    pub async fn open_with(
        settings: &Settings,
        audience: usize,
        emulator_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let stack = Stack::start_with(settings.database, emulator_env).await?;
        let started = std::time::Instant::now();
        let tokens = identities::create(&stack.db, "fan", audience).await?;
        let created = started.elapsed();
        let timeout = Duration::from_secs(120) + Duration::from_millis(20) * audience as u32;
        let swarm = Swarm::open(
            &stack.emulator.ws_url(),
            e2e::web::ALLOWED_ORIGIN,
            tokens,
            timeout,
        )
        .await?;
        eprintln!(
            "[bench] {audience} users and tokens stored in {:.1}s; {audience} clients connected \
             and authenticated through the emulator in {:.1}s",
            created.as_secs_f64(),
            (started.elapsed() - created).as_secs_f64()
        );
        Ok(Self {
            stack,
            swarm,
            latency_ms: 0,
            next_tag: 1,
        })
    }

    /// The Management API latency the emulator injects from now on.
    pub async fn set_latency(&mut self, latency_ms: u64) {
        self.stack.set_post_latency(latency_ms).await;
        self.latency_ms = latency_ms;
    }

    /// `count` fresh message tags; returns the first.
    pub fn take_tags(&mut self, count: u64) -> u64 {
        let first = self.next_tag;
        self.next_tag += count;
        first
    }

    /// One `send_message` from client 0; waits until every client has it and the job is done.
    pub async fn broadcast(&mut self, tuning: WorkerTuning) -> anyhow::Result<Broadcast> {
        let audience = self.swarm.len();
        self.stack.wait_idle(Duration::from_secs(60)).await?;
        self.swarm.drain();
        let latency_ms = self.latency_ms;
        let rounds = audience.div_ceil(tuning.in_flight(audience)) as u32;
        let timeout =
            Duration::from_secs(30) + Duration::from_millis(latency_ms + 5) * rounds.max(1);
        let tag = self.take_tags(1);
        let sender = self.swarm.sender(0);
        let frame = send_message_frame(&sender.token, tag);
        let sent = Instant::now();
        sender.send(frame)?;
        let deadline = sent + timeout;
        let mut seen = vec![false; audience];
        let mut received = 0;
        let mut latencies = Latencies::new();
        let (mut first, mut last) = (Duration::MAX, Duration::ZERO);
        while received < audience {
            match self.swarm.next_event(deadline).await {
                None => {
                    bail!("only {received} of {audience} clients had the message after {timeout:?}")
                }
                Some(Event::Delivered {
                    client,
                    tag: got,
                    at,
                }) if got == tag => {
                    if std::mem::replace(&mut seen[client], true) {
                        bail!("client {client} got the message twice");
                    }
                    received += 1;
                    let latency = at - sent;
                    latencies.record(latency);
                    first = first.min(latency);
                    last = last.max(latency);
                }
                Some(Event::Reply { success: false, .. }) => bail!("send_message was refused"),
                Some(Event::Closed { client }) => {
                    bail!("client {client} was disconnected during the broadcast")
                }
                Some(_) => {}
            }
        }
        self.stack.wait_idle(timeout).await?;
        Ok(Broadcast {
            audience,
            all_delivered: last,
            first_delivered: first,
            latencies,
        })
    }

    /// [`Self::broadcast`], with the processes' last output on failure.
    pub async fn checked_broadcast(&mut self, tuning: WorkerTuning) -> anyhow::Result<Broadcast> {
        match self.broadcast(tuning).await {
            Ok(broadcast) => Ok(broadcast),
            Err(error) => Err(anyhow::anyhow!("{error:#}\n{}", self.stack.tails())),
        }
    }

    /// One unmeasured warm-up broadcast, then `runs` measured ones, at each latency.
    pub async fn measure(
        &mut self,
        latencies_ms: &[u64],
        runs: usize,
        tuning: WorkerTuning,
        label: &str,
    ) -> anyhow::Result<Vec<Series>> {
        let mut all = Vec::new();
        for &latency_ms in latencies_ms {
            self.set_latency(latency_ms).await;
            self.checked_broadcast(tuning).await?;
            let window = CpuWindow::start();
            let mut series = Series {
                latency_ms,
                runs: Vec::new(),
                cpu: String::new(),
            };
            for run in 1..=runs {
                let broadcast = self.checked_broadcast(tuning).await?;
                eprintln!(
                    "[bench] {label}, {latency_ms} ms, run {run}: {} clients in {:.3}s = {} posts/s, \
                     p50 {} ms, p99 {} ms",
                    broadcast.audience,
                    broadcast.all_delivered.as_secs_f64(),
                    figure(broadcast.posts_per_sec()),
                    figure(broadcast.latencies.quantile_ms(0.5)),
                    figure(broadcast.latencies.quantile_ms(0.99)),
                );
                series.runs.push(broadcast);
            }
            series.cpu = window.finish();
            all.push(series);
        }
        Ok(all)
    }
}

/// The product's defaults, one worker process.
pub async fn concurrent(stage: &mut Stage, settings: &Settings) -> anyhow::Result<Vec<Series>> {
    stage.stack.set_workers(1, WorkerTuning::DEFAULTS).await?;
    stage
        .measure(
            &settings.latencies_ms,
            settings.runs,
            WorkerTuning::DEFAULTS,
            "fan-out",
        )
        .await
}

/// The sequential loop over its own, smaller audience.
pub async fn baseline(settings: &Settings) -> anyhow::Result<Vec<Series>> {
    let audience = settings.baseline_connections;
    let mut stage = Stage::open(settings, audience).await?;
    let tuning = WorkerTuning::sequential(audience);
    stage.stack.set_workers(1, tuning).await?;
    stage
        .measure(
            &settings.latencies_ms,
            settings.runs,
            tuning,
            "sequential baseline",
        )
        .await
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let concurrent = {
        let mut stage = Stage::open(settings, settings.connections).await?;
        concurrent(&mut stage, settings).await?
    };
    let baseline = baseline(settings).await?;
    Ok(report(settings, &concurrent, &baseline))
}

pub fn report(settings: &Settings, concurrent: &[Series], baseline: &[Series]) -> Report {
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
    report.setting(format!(
        "Management API latency injected by the emulator (PUT /_emulator/faults post_latency_ms); \
         {} runs after one warm-up broadcast; {}",
        settings.runs,
        settings.database_name()
    ));
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
            posts = posts.target(Goal::AtLeast(TARGET_POSTS_AT_20MS));
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
        let mut ratio = Row::new(
            format!("{ms} ms"),
            "posts/s ÷ sequential median (×)",
            series.column(|b| b.posts_per_sec() / base_rate),
        );
        if judge && ms == 20 {
            ratio = ratio.target(Goal::AtLeast(TARGET_RATIO_AT_20MS));
        }
        report.row(ratio);
    }
    for (name, all) in [("", concurrent), ("sequential, ", baseline)] {
        for series in all {
            report.note(format!("{name}{} ms: {}", series.latency_ms, series.cpu));
        }
    }
    report
}
