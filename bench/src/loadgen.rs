//! A closed-loop HTTP/1.1 load generator: `concurrency` keep-alive connections, one request
//! in flight on each, for a fixed time after an unmeasured warm-up. A request counts when it
//! completes inside the measured window; its latency is send → whole answer read. The CPU
//! time of each process is measured over the same window.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::cpu::{CpuUse, Meter, Roles};
use crate::stats::Latencies;

/// Builds the request for connection `index`.
pub type MakeRequest = Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>;
/// Whether an answer is a success.
pub type Accept = fn(StatusCode, &[u8]) -> bool;

#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub request: MakeRequest,
    pub accept: Accept,
}

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    /// The first refused answer or error, to say why requests failed.
    pub failure: Option<String>,
    /// CPU time of each process over the measured window.
    pub cpu: CpuUse,
}

impl Outcome {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Requests answered in the measured window, refused ones included.
    pub fn requests(&self) -> u64 {
        self.ok + self.failed
    }
}

/// Reconnections one connection may need before the load is given up.
const MAX_RECONNECTS: u32 = 100;

/// Runs `load` on `target`; measures the CPU time of `roles`' processes (and this tool's, the
/// servers') over the measured window.
pub async fn run_metered(target: &Target, load: Load, roles: Roles) -> anyhow::Result<Outcome> {
    let measure_from = Instant::now() + load.warmup;
    let until = measure_from + load.duration;
    let meter = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        let meter = Meter::start(roles);
        tokio::time::sleep_until(until).await;
        meter.finish()
    });
    let tasks: Vec<_> = (0..load.concurrency)
        .map(|index| tokio::spawn(connection(target.clone(), index, measure_from, until)))
        .collect();
    let mut outcome = Outcome {
        ok: 0,
        failed: 0,
        elapsed: load.duration,
        latencies: Latencies::new(),
        failure: None,
        cpu: CpuUse::default(),
    };
    for task in tasks {
        let part = task.await.context("a load connection panicked")??;
        outcome.ok += part.ok;
        outcome.failed += part.failed;
        outcome.latencies.add(&part.latencies);
        if outcome.failure.is_none() {
            outcome.failure = part.failure;
        }
    }
    outcome.cpu = meter.await.context("the CPU meter panicked")?;
    Ok(outcome)
}

async fn connection(
    target: Target,
    index: usize,
    measure_from: Instant,
    until: Instant,
) -> anyhow::Result<Outcome> {
    let mut part = Outcome {
        ok: 0,
        failed: 0,
        elapsed: until - measure_from,
        latencies: Latencies::new(),
        failure: None,
        cpu: CpuUse::default(),
    };
    let mut sender = connect(target.addr).await?;
    let mut reconnects = 0;
    let host = target.addr.to_string();
    while Instant::now() < until {
        let mut request = (target.request)(index);
        if let Ok(value) = http::HeaderValue::from_str(&host) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        let sent = Instant::now();
        let answer = exchange(&mut sender, request).await;
        let done = Instant::now();
        let counted = done >= measure_from && done <= until;
        match answer {
            Ok((status, body)) if (target.accept)(status, &body) => {
                if counted {
                    part.ok += 1;
                    part.latencies.record(done - sent);
                }
            }
            Ok((status, body)) => {
                part.failed += u64::from(counted);
                part.failure
                    .get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            Err(error) => {
                part.failed += u64::from(counted);
                part.failure.get_or_insert_with(|| format!("{error:#}"));
                reconnects += 1;
                if reconnects > MAX_RECONNECTS {
                    bail!("connection {index} failed {reconnects} times: {error:#}");
                }
                sender = connect(target.addr).await?;
            }
        }
    }
    Ok(part)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}
