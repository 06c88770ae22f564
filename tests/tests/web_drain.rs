//! SPEC §4: web drains requests on SIGTERM. Keep-alive clients that keep posting while web
//! stops never see a request they sent reset or cut short: `/readyz` turns 503 first, web
//! keeps serving for `WEB_DRAIN_SECS` while every response says `Connection: close`, then
//! stops accepting (a brand-new connection is refused, which a client can retry elsewhere)
//! and answers what it already received before it exits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use e2e::{TestEnv, WebApp, WebOptions, wait_until};
use reqwest::header::CONNECTION;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::connection_id;

const CLIENTS: usize = 20;
const DRAIN: Duration = Duration::from_secs(2);
const GRACE: Duration = Duration::from_secs(10);
/// Answers a client gets before it counts as warm and SIGTERM may be sent.
const WARM_AFTER: u64 = 10;

/// What one keep-alive client saw.
#[derive(Debug, Default)]
struct Tally {
    answered: u64,
    answered_after_sigterm: u64,
    /// Responses that carried `Connection: close`.
    told_to_close: u64,
    /// New connections refused (the listener was closed): fine, a client retries elsewhere.
    refused: u64,
    /// Refusals before the drain period was over: web stopped accepting too early.
    refused_during_drain: u64,
    /// Requests that were sent and then reset, cut short, timed out or not answered 200.
    broken: Vec<String>,
}

/// What the clients and the test share.
#[derive(Default)]
struct Run {
    /// When SIGTERM was sent; unset before.
    sigterm: OnceLock<Instant>,
    /// Clients that have been answered a few times (their keep-alive connection is warm).
    warm: AtomicUsize,
    stop: AtomicBool,
}

impl Run {
    fn after_sigterm(&self, at: Instant) -> bool {
        self.sigterm.get().is_some_and(|sigterm| at > *sigterm)
    }
}

#[tokio::test]
async fn sigterm_drains_keep_alive_clients_without_a_single_reset() {
    let env = TestEnv::postgres().await;
    let options = WebOptions::default()
        .with_env("WEB_DRAIN_SECS", DRAIN.as_secs())
        .with_env("WEB_SHUTDOWN_GRACE_SECS", GRACE.as_secs());
    let mut web = WebApp::spawn(&env, options).await;
    let mut tokens = Vec::new();
    for _ in 0..CLIENTS {
        tokens.push(web.issue_token(None).await);
    }
    let run = Arc::new(Run::default());
    let url = web.url("/ws_apigateway/default");
    let clients: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let frame = json!({"method": "auth_request", "token": token}).to_string();
            tokio::spawn(keep_posting(
                url.clone(),
                connection_id(),
                frame,
                run.clone(),
            ))
        })
        .collect();
    let readyz = tokio::spawn(watch_readyz(web.url("/readyz"), run.clone()));
    // A keep-alive connection opened before the signal, to see the drain close it.
    let mut kept = TcpStream::connect(web.base_url().trim_start_matches("http://"))
        .await
        .expect("connects");
    let (status, headers) = get_healthz(&mut kept).await.expect("an answer");
    assert_eq!(status, 200);
    assert!(!headers.contains("connection: close"), "{headers}");

    wait_until(Duration::from_secs(20), || async {
        run.warm.load(Ordering::Relaxed) == CLIENTS
    })
    .await
    .expect("every client is answered on a warm keep-alive connection");
    run.sigterm.set(Instant::now()).unwrap();
    web.signal("TERM");

    let readyz_turned = wait_until(DRAIN, || async {
        let response = reqwest::get(web.url("/readyz")).await;
        response.is_ok_and(|response| response.status() == 503)
    })
    .await;
    let kept_closed = closed_after_next_answer(&mut kept).await;

    let status = tokio::time::timeout(DRAIN + GRACE + Duration::from_secs(5), web.wait())
        .await
        .expect("web exits within the drain and grace periods");
    let stopped_after = run.sigterm.get().unwrap().elapsed();
    run.stop.store(true, Ordering::Relaxed);
    let mut tallies = Vec::new();
    for client in clients {
        tallies.push(client.await.expect("the client task ends"));
    }
    let readyz = readyz.await.expect("the readiness watcher ends");

    for (n, tally) in tallies.iter().enumerate() {
        eprintln!(
            "client {n:2}: {} answered ({} after SIGTERM, {} with Connection: close), \
             {} refused, {} broken",
            tally.answered,
            tally.answered_after_sigterm,
            tally.told_to_close,
            tally.refused,
            tally.broken.len()
        );
    }
    eprintln!(
        "web exited {status:?} {stopped_after:?} after SIGTERM; /readyz after SIGTERM: {readyz:?}"
    );
    let broken: Vec<_> = tallies.iter().flat_map(|tally| &tally.broken).collect();
    assert!(
        broken.is_empty(),
        "{} requests were sent and not answered: {broken:#?}",
        broken.len()
    );
    assert!(status.success(), "{status:?}");
    readyz_turned.expect("/readyz turns 503 as soon as the drain starts");
    kept_closed.expect("an idle keep-alive connection is told to close, and closed");
    assert!(
        stopped_after >= DRAIN && stopped_after <= DRAIN + GRACE,
        "web drained for {DRAIN:?} and exited within the grace: {stopped_after:?}"
    );
    assert!(readyz.contains(&503), "{readyz:?}");
    for (n, tally) in tallies.iter().enumerate() {
        assert!(
            tally.answered_after_sigterm > 0,
            "client {n} was served during the drain: {tally:?}"
        );
        assert!(tally.told_to_close > 0, "client {n}: {tally:?}");
        assert_eq!(tally.refused_during_drain, 0, "client {n}: {tally:?}");
    }
}

/// Posts `frame` on one pooled client until `stop`, sorting every outcome.
async fn keep_posting(url: String, connection_id: String, frame: String, run: Arc<Run>) -> Tally {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let mut tally = Tally::default();
    while !run.stop.load(Ordering::Relaxed) {
        let sent_at = Instant::now();
        let result = http
            .post(&url)
            .header("connectionId", &connection_id)
            .body(frame.clone())
            .send()
            .await;
        let response = match result {
            Ok(response) => response,
            Err(error) if error.is_connect() => {
                tally.refused += 1;
                if run.sigterm.get().is_none_or(|at| sent_at < *at + DRAIN) {
                    tally.refused_during_drain += 1;
                }
                // Nothing listens; do not spin on refusals.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Err(error) => {
                tally.broken.push(format!("{error:?}"));
                continue;
            }
        };
        let status = response.status();
        let told_to_close = response
            .headers()
            .get(CONNECTION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
        match response.bytes().await {
            Ok(_) if status == 200 => {
                tally.answered += 1;
                tally.told_to_close += u64::from(told_to_close);
                if run.after_sigterm(sent_at) {
                    tally.answered_after_sigterm += 1;
                }
                if tally.answered == WARM_AFTER {
                    run.warm.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(body) => tally
                .broken
                .push(format!("{status}: {}", String::from_utf8_lossy(&body))),
            Err(error) => tally.broken.push(format!("body: {error:?}")),
        }
    }
    tally
}

/// The statuses `/readyz` answered after SIGTERM, until `stop`.
async fn watch_readyz(url: String, run: Arc<Run>) -> Vec<u16> {
    let http = reqwest::Client::new();
    let mut seen = Vec::new();
    while !run.stop.load(Ordering::Relaxed) {
        let asked_at = Instant::now();
        if let Ok(response) = http.get(&url).send().await
            && run.after_sigterm(asked_at)
            && seen.last() != Some(&response.status().as_u16())
        {
            seen.push(response.status().as_u16());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

/// During the drain, the next answer on a kept-alive connection says `Connection: close`,
/// and web closes the connection after it.
async fn closed_after_next_answer(stream: &mut TcpStream) -> Result<(), String> {
    let (status, headers) = get_healthz(stream).await?;
    if status != 200 || !headers.contains("connection: close") {
        return Err(format!("{status} {headers}"));
    }
    let mut rest = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await {
        Ok(Ok(0)) => Ok(()),
        other => Err(format!("still open after Connection: close: {other:?}")),
    }
}

/// `GET /healthz` on a kept-alive connection: the status and the lower-cased header block.
async fn get_healthz(stream: &mut TcpStream) -> Result<(u16, String), String> {
    let request = b"GET /healthz HTTP/1.1\r\nHost: web\r\n\r\n";
    stream.write_all(request).await.map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) => return Err(format!("closed mid-answer: {head:?}")),
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push_str(&line.to_ascii_lowercase()),
            Err(error) => return Err(format!("{error} after {head:?}")),
        }
    }
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| format!("no content length: {head}"))?;
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|error| format!("body: {error}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {head}"))?;
    Ok((status, head))
}
