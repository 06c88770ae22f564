//! Fan-out: N authenticated clients held through the emulator, one `send_message` from one
//! of them, and the time until every client has it; next to the original's sequential loop.
//!
//! The clock starts when the frame leaves the sending client and stops when the last client
//! has read the broadcast, so each figure includes web's callback, the queue and the worker.

use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use crate::builds::Build;
use crate::cpu::{CpuUse, Meter};
use crate::fanout_report;
use crate::identities;
use crate::options::Settings;
use crate::report::Report;
use crate::stack::{Stack, WorkerTuning};
use crate::stats::{Latencies, figure, median};
use crate::swarm::{Event, Swarm, send_message_frame};

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
    /// CPU time of each process from the send until the job was done.
    pub cpu: CpuUse,
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
}

impl Series {
    pub fn column(&self, value: impl Fn(&Broadcast) -> f64) -> Vec<f64> {
        self.runs.iter().map(value).collect()
    }

    pub fn median_posts_per_sec(&self) -> f64 {
        median(&self.column(Broadcast::posts_per_sec))
    }

    /// Adds `more`'s runs to the series of the same latency in `all`.
    fn absorb(all: &mut Vec<Series>, more: Vec<Series>) {
        for series in more {
            match all.iter_mut().find(|s| s.latency_ms == series.latency_ms) {
                Some(same) => same.runs.extend(series.runs),
                None => all.push(series),
            }
        }
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
        Self::open_build(settings, audience, &Build::current(), emulator_env).await
    }

    /// [`Stage::open_with`] on a stack of `build`.
    pub async fn open_build(
        settings: &Settings,
        audience: usize,
        build: &Build,
        emulator_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let stack = Stack::start_build(settings.database, build, emulator_env).await?;
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
        let meter = Meter::start(self.stack.roles());
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
            cpu: meter.finish(),
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
            let mut series = Series {
                latency_ms,
                runs: Vec::new(),
            };
            for run in 1..=runs {
                let broadcast = self.checked_broadcast(tuning).await?;
                eprintln!(
                    "[bench] {label}, {latency_ms} ms, run {run}: {} clients in {:.3}s = {} posts/s, \
                     p50 {} ms, p99 {} ms, worker CPU per post {} µs",
                    broadcast.audience,
                    broadcast.all_delivered.as_secs_f64(),
                    figure(broadcast.posts_per_sec()),
                    figure(broadcast.latencies.quantile_ms(0.5)),
                    figure(broadcast.latencies.quantile_ms(0.99)),
                    figure(
                        broadcast
                            .cpu
                            .micros_per(crate::cpu::Part::Worker, broadcast.audience as u64)
                    ),
                );
                series.runs.push(broadcast);
            }
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

/// [`concurrent`] for every build of the settings. With one build, every run is on one set
/// of clients; with a baseline, each run is on a fresh stack of its build, the builds
/// alternating (two sets of 10,000 clients at once would pass the descriptor limit). Returns
/// the series of each build and the last stage, the current build's, for `scale`.
pub async fn concurrent_builds(settings: &Settings) -> anyhow::Result<(Vec<Vec<Series>>, Stage)> {
    if let [_only] = settings.builds.as_slice() {
        let mut stage = Stage::open(settings, settings.connections).await?;
        let series = concurrent(&mut stage, settings).await?;
        return Ok((vec![series], stage));
    }
    let mut results: Vec<Vec<Series>> = settings.builds.iter().map(|_| Vec::new()).collect();
    let mut kept: Option<Stage> = None;
    for run in 1..=settings.runs {
        for (build, results) in settings.builds.iter().zip(results.iter_mut()) {
            // Close the other build's clients before opening these.
            drop(kept.take());
            let mut stage = Stage::open_build(settings, settings.connections, build, &[]).await?;
            stage.stack.set_workers(1, WorkerTuning::DEFAULTS).await?;
            let label = format!("fan-out, {} (pass {run})", build.label);
            let measured = stage
                .measure(&settings.latencies_ms, 1, WorkerTuning::DEFAULTS, &label)
                .await?;
            Series::absorb(results, measured);
            kept = Some(stage);
        }
    }
    let stage = kept.expect("at least one run of each build");
    Ok((results, stage))
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
    let (concurrent, stage) = concurrent_builds(settings).await?;
    drop(stage);
    let baseline = baseline(settings).await?;
    Ok(fanout_report::report(settings, &concurrent, &baseline))
}
