//! Callbacks: `$default` `auth_request` and `send_message` under a fixed-concurrency load,
//! next to poem's hello world measured by the same load generator in the same run.
//!
//! The load goes straight to web, as API Gateway's HTTP_PROXY integration sends it: one
//! POST per frame with a `connectionId` header. Each load connection has its own token,
//! bound to its own connection id beforehand (its first `auth_request`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;

use crate::hello::HelloServer;
use crate::identities;
use crate::loadgen::{self, Load, Outcome, Target};
use crate::machine::CpuWindow;
use crate::options::Settings;
use crate::report::{Goal, Report, Row};
use crate::stack::Stack;

const TARGET_SEND_PER_SEC: f64 = 5_000.0;
const TARGET_SEND_P99_MS: f64 = 20.0;
const TARGET_AUTH_SHARE_OF_HELLO: f64 = 50.0;

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

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let stack = Stack::start(settings.database).await?;
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
    let hello = HelloServer::start()?;
    let tokens = Arc::new(tokens);
    let auth_tokens = Arc::clone(&tokens);
    let targets = [
        (
            "poem hello world",
            Target {
                addr: hello.addr,
                request: Arc::new(|_| {
                    Request::get("/")
                        .body(Full::new(Bytes::new()))
                        .expect("a valid request")
                }),
                accept: ok_status,
            },
        ),
        (
            "auth_request",
            Target {
                addr: web,
                request: Arc::new(move |index| {
                    let frame = json!({"method": "auth_request", "token": auth_tokens[index]});
                    frame_request("/ws_apigateway/default", index, frame.to_string())
                }),
                accept: ok_status,
            },
        ),
        (
            "send_message",
            Target {
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
            },
        ),
    ];
    let load = Load {
        concurrency: settings.concurrency,
        warmup: settings.warmup,
        duration: settings.callbacks_duration,
    };
    let mut outcomes: Vec<Vec<Outcome>> = targets.iter().map(|_| Vec::new()).collect();
    let window = CpuWindow::start();
    // Interleaved, so a drift of the machine touches every figure alike.
    for run in 1..=settings.runs {
        for ((name, target), results) in targets.iter().zip(outcomes.iter_mut()) {
            let outcome = loadgen::run(target, load)
                .await
                .map_err(|error| anyhow::anyhow!("{error:#}\n{}", stack.tails()))?;
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
                    stack.tails()
                );
            }
            results.push(outcome);
        }
    }
    let cpu = window.finish();
    drop(hello);
    let mut report = report(settings, &targets.map(|(name, _)| name), &outcomes);
    report.note(cpu);
    Ok(report)
}

fn report(settings: &Settings, names: &[&str], outcomes: &[Vec<Outcome>]) -> Report {
    let judge = settings.judge();
    let mut report = Report::new("Callbacks: $default under load, next to poem's hello world");
    report.setting(format!(
        "load generator: {} keep-alive HTTP/1.1 connections, one request in flight each (closed \
         loop), {} s measured after {} ms of warm-up, {} runs interleaved \
         (hello, auth_request, send_message, hello, …)",
        settings.concurrency,
        settings.callbacks_duration.as_secs(),
        settings.warmup.as_millis(),
        settings.runs
    ));
    report.setting(
        "auth_request and send_message: POST /ws_apigateway/default to the real web binary \
         (product defaults, connection pool of 20), each load connection with its own token \
         bound to its own connectionId; no worker runs, so the broadcast jobs wait in Redis",
    );
    report.setting(format!(
        "poem hello world: GET / answered \"Hello, world!\" by poem in this process, on a \
         runtime of its own with 2 worker threads; {}",
        settings.database_name()
    ));
    let hello_rates: Vec<f64> = outcomes[0].iter().map(Outcome::per_sec).collect();
    for (name, runs) in names.iter().zip(outcomes) {
        let mut rate = Row::new(
            *name,
            "requests/s",
            runs.iter().map(Outcome::per_sec).collect(),
        );
        let p50 = Row::new(
            *name,
            "p50 (ms)",
            runs.iter().map(|o| o.latencies.quantile_ms(0.5)).collect(),
        );
        let mut p99 = Row::new(
            *name,
            "p99 (ms)",
            runs.iter().map(|o| o.latencies.quantile_ms(0.99)).collect(),
        );
        if judge && *name == "send_message" {
            rate = rate.target(Goal::AtLeast(TARGET_SEND_PER_SEC));
            p99 = p99.target(Goal::AtMost(TARGET_SEND_P99_MS));
        }
        report.row(rate);
        report.row(p50);
        report.row(p99);
        let failed: Vec<f64> = runs.iter().map(|o| o.failed as f64).collect();
        if failed.iter().any(|f| *f > 0.0) {
            report.row(Row::new(*name, "failed requests", failed));
        }
        if *name == "auth_request" {
            let share: Vec<f64> = runs
                .iter()
                .zip(&hello_rates)
                .map(|(o, hello)| 100.0 * o.per_sec() / hello)
                .collect();
            let mut row = Row::new(*name, "% of hello world's requests/s", share);
            if judge {
                row = row.target(Goal::AtLeast(TARGET_AUTH_SHARE_OF_HELLO));
            }
            report.row(row);
        }
    }
    for (name, runs) in names.iter().zip(outcomes) {
        if let Some(failure) = runs.iter().find_map(|o| o.failure.clone()) {
            report.note(format!("{name}: first failure: {failure}"));
        }
    }
    report
}
