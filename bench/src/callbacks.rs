//! Callbacks: `$default` `auth_request` and `send_message` under a fixed-concurrency load,
//! next to poem's hello world measured by the same load generator in the same run.
//!
//! The load goes straight to web, as API Gateway's HTTP_PROXY integration sends it: one
//! POST per frame with a `connectionId` header. Each load connection has its own token,
//! bound to its own connection id beforehand (its first `auth_request`). With a baseline
//! build, each build has a stack of its own and their loads alternate.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;

use crate::builds::Build;
use crate::callbacks_report::{self, ENDPOINTS, Measured};
use crate::cpu::Roles;
use crate::hello::HelloServer;
use crate::identities;
use crate::loadgen::{self, Load, Outcome, Target};
use crate::options::Settings;
use crate::report::Report;
use crate::stack::Stack;

fn connection_id(index: usize) -> String {
    format!("bench-load-{index}=")
}

fn frame_request(path: &'static str, connection: usize, frame: String) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("connectionId", connection_id(connection))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(frame)))
        .expect("a valid request")
}

fn ok_status(status: StatusCode, _body: &[u8]) -> bool {
    status == StatusCode::OK
}

/// 200 and `"success":true` (a refused send_message is also a 200).
fn sent(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::OK
        && serde_json::from_slice::<serde_json::Value>(body)
            .is_ok_and(|reply| reply["success"] == true)
}

/// The loads of one build's web ([`ENDPOINTS`], in order), with the stack they run on.
struct Endpoints {
    stack: Stack,
    targets: [Target; ENDPOINTS.len()],
}

impl Endpoints {
    async fn start(settings: &Settings, build: &Build) -> anyhow::Result<Self> {
        let stack = Stack::start_build(settings.database, build, &[]).await?;
        let tokens = identities::create(&stack.db, "load", settings.concurrency).await?;
        for (index, token) in tokens.iter().enumerate() {
            stack.web.authenticate(&connection_id(index), token).await;
        }
        let web: SocketAddr = stack
            .web
            .base_url()
            .trim_start_matches("http://")
            .parse()
            .context("web's address")?;
        let tokens = Arc::new(tokens);
        let auth_tokens = Arc::clone(&tokens);
        let auth = Target {
            addr: web,
            request: Arc::new(move |index| {
                let frame = json!({"method": "auth_request", "token": auth_tokens[index]});
                frame_request("/ws_apigateway/default", index, frame.to_string())
            }),
            accept: ok_status,
        };
        let send = Target {
            addr: web,
            request: Arc::new(move |index| {
                let frame = json!({
                    "method": "send_message",
                    "token": tokens[index],
                    "channel": "all_channel",
                    "body": "benchmark message",
                });
                frame_request("/ws_apigateway/default", index, frame.to_string())
            }),
            accept: sent,
        };
        Ok(Self {
            stack,
            targets: [auth, send],
        })
    }
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let mut endpoints = Vec::new();
    for build in &settings.builds {
        endpoints.push(Endpoints::start(settings, build).await?);
    }
    let hello = HelloServer::start()?;
    let hello_target = Target {
        addr: hello.addr,
        request: Arc::new(|_| {
            Request::get("/")
                .body(Full::new(Bytes::new()))
                .expect("a valid request")
        }),
        accept: ok_status,
    };
    let load = Load {
        concurrency: settings.concurrency,
        warmup: settings.warmup,
        duration: settings.callbacks_duration,
    };
    let mut hello_runs = Vec::new();
    let mut measured: Vec<Measured> = settings
        .builds
        .iter()
        .map(|_| Measured::default())
        .collect();
    // Interleaved, so a drift of the machine touches every figure alike: hello, then each
    // endpoint on each build in turn.
    for run in 1..=settings.runs {
        hello_runs.push(measure("poem hello world", run, &hello_target, load, None).await?);
        for (which, name) in ENDPOINTS.iter().enumerate() {
            for (stage, results) in endpoints.iter().zip(measured.iter_mut()) {
                let label = format!("{name} ({})", stage.stack.build().label);
                let target = &stage.targets[which];
                let outcome = measure(&label, run, target, load, Some(&stage.stack)).await?;
                results[which].push(outcome);
            }
        }
    }
    drop(hello);
    Ok(callbacks_report::report(settings, &hello_runs, &measured))
}

/// One load on `target`; the CPU of `stack`'s processes is charged to it.
async fn measure(
    name: &str,
    run: usize,
    target: &Target,
    load: Load,
    stack: Option<&Stack>,
) -> anyhow::Result<Outcome> {
    let roles = stack.map_or_else(Roles::default, Stack::roles);
    let tails = || stack.map(Stack::tails).unwrap_or_default();
    let outcome = loadgen::run_metered(target, load, roles)
        .await
        .map_err(|error| anyhow::anyhow!("{error:#}\n{}", tails()))?;
    eprintln!(
        "[bench] callbacks, {name}, run {run}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        outcome.per_sec(),
        outcome.latencies.quantile_ms(0.5),
        outcome.latencies.quantile_ms(0.99),
        outcome.failed
    );
    if outcome.ok == 0 {
        anyhow::bail!(
            "{name}: no request succeeded ({})\n{}",
            outcome.failure.as_deref().unwrap_or("no answer"),
            tails()
        );
    }
    Ok(outcome)
}
