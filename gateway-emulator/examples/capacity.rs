//! Capacity check: holds N WebSocket clients on the emulator, then fires Management API POSTs
//! at them over keep-alive HTTP/1.1 connections and reports what it saw.
//!
//! ```text
//! cargo build --release -p gateway-emulator --bins --examples
//! target/release/examples/capacity --connections 10000 --seconds 10 --http-connections 32
//! ```
//!
//! It starts its own backend (answering every callback 200) and spawns the emulator binary
//! next to itself (`target/release/gateway-emulator`, or `EMULATOR_BIN`), so both run as
//! separate processes on the same machine, as in a benchmark.

use std::convert::Infallible;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use futures::StreamExt;
use hdrhistogram::Histogram;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, Parser)]
struct Args {
    /// WebSocket clients to open and hold.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// How long to fire POSTs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep-alive HTTP connections firing POSTs, one request in flight each.
    #[arg(long, default_value_t = 32)]
    http_connections: usize,
    /// Bytes per POST.
    #[arg(long, default_value_t = 64)]
    payload: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    gateway_emulator::server::raise_nofile_limit().context("raising the open files limit")?;

    let connect_ids = Arc::new(Mutex::new(Vec::with_capacity(args.connections)));
    let backend = start_backend(Arc::clone(&connect_ids)).await?;
    let (mut emulator, addr) = spawn_emulator(&format!("http://{backend}/ws_apigateway")).await?;
    let pid = emulator.id().unwrap_or_default();
    println!(
        "emulator pid {pid} on {addr}, RSS at start {}",
        rss_kib(pid)
    );

    // Clients: open them with bounded parallelism, then keep each reading (and counting).
    let frames = Arc::new(AtomicU64::new(0));
    let opening = Arc::new(Semaphore::new(256));
    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (opening, frames) = (Arc::clone(&opening), Arc::clone(&frames));
        let url = format!("ws://{addr}/local");
        clients.push(tokio::spawn(async move {
            let permit = opening.acquire_owned().await.ok()?;
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                .await
                .ok()?;
            drop(permit);
            let (_sink, mut stream) = ws.split();
            while let Some(Ok(_)) = stream.next().await {
                frames.fetch_add(1, Ordering::Relaxed);
            }
            Some(())
        }));
    }
    let ids: Vec<String> = loop {
        let held = connect_ids
            .lock()
            .map(|ids| ids.clone())
            .unwrap_or_default();
        if held.len() >= args.connections || started.elapsed() > Duration::from_secs(120) {
            break held;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let failed = clients.iter().filter(|c| c.is_finished()).count();
    println!(
        "connections held: {} of {} in {:.1}s ({failed} failed), emulator RSS {}",
        ids.len(),
        args.connections,
        started.elapsed().as_secs_f64(),
        rss_kib(pid)
    );
    if ids.is_empty() {
        bail!("no connection was established");
    }

    // POSTs, round-robin over every connection.
    let paths: Arc<Vec<Uri>> = Arc::new(
        ids.iter()
            .map(|id| format!("/local/@connections/{}", id.replace('=', "%3D")).parse())
            .collect::<Result<_, _>>()?,
    );
    let payload = Bytes::from(vec![b'x'; args.payload]);
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let frames_before = frames.load(Ordering::Relaxed);
    let firing = Instant::now();
    let workers: Vec<_> = (0..args.http_connections)
        .map(|n| {
            tokio::spawn(post_worker(
                addr,
                Arc::clone(&paths),
                n,
                args.http_connections,
                payload.clone(),
                until,
            ))
        })
        .collect();
    let mut latency = Histogram::<u64>::new(3)?;
    let (mut ok, mut not_ok) = (0u64, 0u64);
    for worker in workers {
        let report = worker.await??;
        latency.add(&report.latency)?;
        ok += report.ok;
        not_ok += report.not_ok;
    }
    let elapsed = firing.elapsed().as_secs_f64();
    // Let in-flight frames land before counting them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let delivered = frames.load(Ordering::Relaxed) - frames_before;
    println!(
        "posts: {ok} ok, {not_ok} not ok in {elapsed:.1}s = {:.0} posts/s over {} HTTP connections",
        ok as f64 / elapsed,
        args.http_connections
    );
    println!(
        "latency µs: p50 {} p99 {} max {}; frames received by clients: {delivered}; emulator RSS {}",
        latency.value_at_quantile(0.5),
        latency.value_at_quantile(0.99),
        latency.max(),
        rss_kib(pid)
    );
    let stats = reqwest::get(format!("http://{addr}/_emulator/stats"))
        .await?
        .text()
        .await?;
    println!("emulator stats: {stats}");

    emulator.kill().await.context("stopping the emulator")?;
    Ok(())
}

struct WorkerReport {
    ok: u64,
    not_ok: u64,
    latency: Histogram<u64>,
}

async fn post_worker(
    addr: std::net::SocketAddr,
    paths: Arc<Vec<Uri>>,
    start: usize,
    stride: usize,
    payload: Bytes,
    until: Instant,
) -> anyhow::Result<WorkerReport> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let host = addr.to_string();
    let mut report = WorkerReport {
        ok: 0,
        not_ok: 0,
        latency: Histogram::new(3)?,
    };
    let mut next = start;
    while Instant::now() < until {
        let request = Request::post(paths[next % paths.len()].clone())
            .header(http::header::HOST, &host)
            .header(
                http::header::AUTHORIZATION,
                "AWS4-HMAC-SHA256 Credential=capacity/20240101/us-east-1/execute-api/aws4_request",
            )
            .body(Full::new(payload.clone()))?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        report
            .latency
            .record(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX))?;
        if status.is_success() {
            report.ok += 1
        } else {
            report.not_ok += 1
        }
        next += stride;
    }
    Ok(report)
}

/// A backend that answers every callback 200 and remembers `$connect`'s connection ids.
async fn start_backend(
    connect_ids: Arc<Mutex<Vec<String>>>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let ids = Arc::clone(&connect_ids);
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let ids = Arc::clone(&ids);
                async move {
                    if request.uri().path().ends_with("/connect")
                        && let (Some(id), Ok(mut ids)) =
                            (request.headers().get("connectionid"), ids.lock())
                    {
                        ids.push(id.to_str().unwrap_or_default().to_owned());
                    }
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    Ok(addr)
}

async fn spawn_emulator(
    callback_url: &str,
) -> anyhow::Result<(tokio::process::Child, std::net::SocketAddr)> {
    let binary = match std::env::var_os("EMULATOR_BIN") {
        Some(path) => path.into(),
        // target/<profile>/examples/capacity → target/<profile>/gateway-emulator
        None => std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .context("locating the target directory")?
            .join("gateway-emulator"),
    };
    let mut child = tokio::process::Command::new(&binary)
        .env("EMULATOR_ADDR", "127.0.0.1:0")
        .env("EMULATOR_CALLBACK_URL", callback_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "spawning {} (build it, or set EMULATOR_BIN)",
                binary.display()
            )
        })?;
    let stdout = child.stdout.take().context("emulator stdout")?;
    let line = BufReader::new(stdout)
        .lines()
        .next_line()
        .await?
        .context("emulator printed nothing")?;
    let addr = line
        .strip_prefix("gateway-emulator listening on http://")
        .context("unexpected first line")?
        .parse()?;
    Ok((child, addr))
}

fn rss_kib(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "n/a".into())
}
