//! Action Cable: one `send_message` to N `/cable` clients spread over two web replicas, the
//! time until each has it; beside the same broadcast to N API Gateway clients through the
//! emulator; and what an idle Action Cable connection costs web in memory.
//!
//! The Action Cable path never touches the Management API: the worker publishes the
//! broadcast once to Redis, and each replica forwards it to its own sockets.

use std::time::Duration;

use anyhow::{Context, bail};
use e2e::cable_client::CableClient;
use e2e::web::ALLOWED_ORIGIN;
use e2e::{WebApp, WebOptions};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::fanout::{self, Series};
use crate::identities;
use crate::options::Settings;
use crate::report::{Report, Row};
use crate::stack::{Stack, WorkerTuning};
use crate::stats::{Latencies, count};

/// Clients opening their connection at the same time.
const CONNECT_CONCURRENCY: usize = 100;
const BODY_TAG: &str = "cable-bench ";
/// API Gateway's side runs at a Management API latency of this many milliseconds.
const GATEWAY_LATENCY_MS: u64 = 20;

/// A broadcast's arrival at one client: (client, tag, when).
type Arrival = (usize, u64, Instant);

/// Two web replicas, one worker, N clients authenticated over `/cable`, and a sender.
struct Stage {
    stack: Stack,
    _second: WebApp,
    sender: CableClient,
    /// Every frame carries its token: each action authenticates.
    sender_token: String,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
    audience: usize,
    /// Web's resident memory per idle, authenticated connection, both replicas together.
    kib_per_connection: f64,
    next_tag: u64,
}

/// What the clients saw of one broadcast.
struct Run {
    all_delivered: Duration,
    latencies: Latencies,
}

impl Stage {
    async fn open(settings: &Settings, audience: usize) -> anyhow::Result<Self> {
        let mut stack = Stack::start(settings.database).await?;
        let second = WebApp::spawn(&stack.env, WebOptions::default()).await;
        stack.set_workers(1, WorkerTuning::DEFAULTS).await?;
        let mut tokens = identities::create(&stack.db, "cab", audience + 1).await?;
        let sender_token = tokens.pop().context("a sender token")?;
        let urls = [stack.web.cable_url(), second.cable_url()];
        let pids = [stack.web.id(), second.id()];
        let before = resident_kib(&pids)?;
        let started = std::time::Instant::now();
        let clients: Vec<CableClient> = futures::stream::iter(tokens.into_iter().enumerate())
            .map(|(index, token)| {
                let url = &urls[index % 2];
                async move { CableClient::joined(url, ALLOWED_ORIGIN, &token).await }
            })
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;
        let kib_per_connection = (resident_kib(&pids)? - before) / audience.max(1) as f64;
        eprintln!(
            "[bench] {audience} Action Cable clients connected and authenticated over 2 web \
             replicas in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let (arrivals_in, arrivals) = mpsc::unbounded_channel();
        for (index, client) in clients.into_iter().enumerate() {
            tokio::spawn(listen(client, index, arrivals_in.clone()));
        }
        let sender = CableClient::joined(&urls[0], ALLOWED_ORIGIN, &sender_token).await;
        Ok(Self {
            stack,
            _second: second,
            sender,
            sender_token,
            arrivals,
            audience,
            kib_per_connection,
            next_tag: 1,
        })
    }

    /// One `send_message` from the sender; waits until every client has it.
    async fn broadcast(&mut self) -> anyhow::Result<Run> {
        self.stack.wait_idle(Duration::from_secs(60)).await?;
        while self.arrivals.try_recv().is_ok() {}
        let tag = self.next_tag;
        self.next_tag += 1;
        let timeout = Duration::from_secs(60) + Duration::from_millis(2) * self.audience as u32;
        let sent = Instant::now();
        let reply = self
            .sender
            .request(
                "send_message",
                json!({
                    "token": self.sender_token,
                    "channel": "all_channel",
                    "body": format!("{BODY_TAG}{tag}"),
                }),
                "send_result",
            )
            .await;
        if reply["success"] != true {
            bail!("send_message was refused: {reply}");
        }
        let deadline = sent + timeout;
        let mut seen = vec![false; self.audience];
        let (mut received, mut last) = (0, Duration::ZERO);
        let mut latencies = Latencies::new();
        while received < self.audience {
            let arrival = tokio::time::timeout_at(deadline, self.arrivals.recv()).await;
            let Ok(Some((client, got, at))) = arrival else {
                bail!(
                    "only {received} of {} clients had the message after {timeout:?}",
                    self.audience
                );
            };
            if got != tag {
                continue;
            }
            if std::mem::replace(&mut seen[client], true) {
                bail!("client {client} got the message twice");
            }
            received += 1;
            let latency = at - sent;
            latencies.record(latency);
            last = last.max(latency);
        }
        Ok(Run {
            all_delivered: last,
            latencies,
        })
    }
}

/// Reports every tagged broadcast the client reads, until it is closed.
async fn listen(mut client: CableClient, index: usize, arrivals: mpsc::UnboundedSender<Arrival>) {
    while let Some(frame) = client.next_message().await {
        let at = Instant::now();
        let tag = frame["message"]["messages"][0]["body"]
            .as_str()
            .and_then(|body| body.strip_prefix(BODY_TAG))
            .and_then(|tag| tag.parse().ok());
        if let Some(tag) = tag
            && arrivals.send((index, tag, at)).is_err()
        {
            return;
        }
    }
}

/// The resident memory of these processes together, in KiB (`VmRSS`).
fn resident_kib(pids: &[Option<u32>]) -> anyhow::Result<f64> {
    let mut total = 0.0;
    for pid in pids {
        let pid = pid.context("web is running")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmRSS in /proc/<pid>/status")?;
        total += kib;
    }
    Ok(total)
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let n = settings.connections;
    let (cable, kib_per_connection) = {
        let mut stage = Stage::open(settings, n).await?;
        stage.broadcast().await?;
        let mut runs = Vec::new();
        for run in 1..=settings.runs {
            let measured = stage.broadcast().await?;
            eprintln!(
                "[bench] action cable, run {run}: {n} clients in {:.3}s, p95 {:.0} ms",
                measured.all_delivered.as_secs_f64(),
                measured.latencies.quantile_ms(0.95)
            );
            runs.push(measured);
        }
        (runs, stage.kib_per_connection)
    };
    let gateway = {
        let mut stage = fanout::Stage::open(settings, n).await?;
        stage.stack.set_workers(1, WorkerTuning::DEFAULTS).await?;
        stage
            .measure(
                &[GATEWAY_LATENCY_MS],
                settings.runs,
                WorkerTuning::DEFAULTS,
                "api gateway beside action cable",
            )
            .await?
    };
    Ok(report(settings, &cable, kib_per_connection, &gateway))
}

fn report(
    settings: &Settings,
    cable: &[Run],
    kib_per_connection: f64,
    gateway: &[Series],
) -> Report {
    let n = count(settings.connections);
    let mut report = Report::new(format!(
        "Action Cable: one send_message to {n} /cable clients over 2 web replicas"
    ));
    report.setting(format!(
        "{n} raw Action Cable clients (actioncable-v1-json), half on each of two web replicas \
         sharing one Redis, each subscribed to MessageChannel and authenticated with its own \
         token; a separate client sends one send_message to all_channel; the clock runs from \
         that frame to the last client reading the broadcast (web, the queue, the worker's one \
         PUBLISH and each replica's forwarding included)"
    ));
    report.setting(format!(
        "beside it, the same broadcast to {n} API Gateway clients through gateway-emulator at \
         {GATEWAY_LATENCY_MS} ms Management API latency, product defaults {}; {} runs after \
         one warm-up each; {}",
        WorkerTuning::DEFAULTS.describe(),
        settings.runs,
        settings.database_name()
    ));
    report.setting(
        "published elsewhere, for scale only (other machines): AnyCable p95 ≈ 1.0 s and Rails' \
         own Action Cable ≈ 9.8 s for 10,000 clients on 8 vCPUs"
            .to_owned(),
    );
    let at = format!("Action Cable, {n} clients");
    let column = |value: &dyn Fn(&Run) -> f64| cable.iter().map(value).collect::<Vec<_>>();
    report.row(Row::new(
        &at,
        "send → all delivered (s)",
        column(&|run| run.all_delivered.as_secs_f64()),
    ));
    for (name, q) in [("p50", 0.5), ("p95", 0.95)] {
        report.row(Row::new(
            &at,
            format!("per-client delivery {name} (ms)"),
            column(&|run| run.latencies.quantile_ms(q)),
        ));
    }
    report.row(Row::new(
        &at,
        "per-client delivery max (ms)",
        column(&|run| run.latencies.max_ms()),
    ));
    report.row(Row::new(
        &at,
        "web's resident memory per idle connection (KiB)",
        vec![kib_per_connection],
    ));
    for series in gateway {
        let at = format!("API Gateway, {n} clients, {} ms", series.latency_ms);
        report.row(Row::new(
            &at,
            "send → all delivered (s)",
            series.column(|b| b.all_delivered.as_secs_f64()),
        ));
        for (name, q) in [("p50", 0.5), ("p95", 0.95)] {
            report.row(Row::new(
                &at,
                format!("per-client delivery {name} (ms)"),
                series.column(|b| b.latencies.quantile_ms(q)),
            ));
        }
        report.row(Row::new(
            &at,
            "per-client delivery max (ms)",
            series.column(|b| b.latencies.max_ms()),
        ));
    }
    report
}
