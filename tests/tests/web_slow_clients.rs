//! Slow and heavy clients: a head or body that trickles in gets 408 and the connection is
//! closed, an idle keep-alive connection is closed, and an oversized body's 413 always
//! reaches the client (the rest of the body is drained instead of reset).

use std::time::{Duration, Instant};

use e2e::WebOptions;
use e2e::fixtures::Snapshot;
use e2e::raw_http::RawConnection;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{connection_id, ja, world, world_with};

/// Timeouts of one second, so that the tests are quick.
fn impatient() -> WebOptions {
    WebOptions::default()
        .with_env("HTTP_HEADER_TIMEOUT_SECS", 1)
        .with_env("HTTP_BODY_TIMEOUT_SECS", 1)
        .with_env("HTTP_IDLE_TIMEOUT_SECS", 1)
}

fn timeout_reply() -> serde_json::Value {
    json!({"success": false, "alert": ja(Alert::RequestTimeout)})
}

#[tokio::test]
async fn a_head_that_stalls_gets_408_json_and_the_connection_closes() {
    let w = world_with(impatient()).await;
    let started = Instant::now();
    let mut connection = RawConnection::open(w.web.addr()).await;
    connection
        .send(b"POST /ws_apigateway/default HTTP/1.1\r\nhost: x\r\nconnectionId: abc=\r\n")
        .await;
    let answer = connection.answer().await.expect("a 408");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!((answer.status, answer.json()), (408, timeout_reply()));
    connection.closed().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_or_stays_idle_is_closed() {
    let w = world_with(impatient()).await;
    let started = Instant::now();
    let mut silent = RawConnection::open(w.web.addr()).await;
    silent.closed().await;
    assert!(started.elapsed() >= Duration::from_millis(900));

    let mut kept = RawConnection::open(w.web.addr()).await;
    for _ in 0..3 {
        kept.send(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await;
        let answer = kept
            .answer()
            .await
            .expect("an answer on the kept-alive connection");
        assert_eq!(answer.status, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let idle_since = Instant::now();
    kept.closed().await;
    assert!(idle_since.elapsed() >= Duration::from_millis(600));
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_json_writes_nothing_and_the_connection_closes() {
    let w = world_with(impatient()).await;
    let code = w.web.issue_token(None).await;
    let before = Snapshot::take(&w.env, &w.db).await;
    let frame = json!({"method": "auth_request", "token": code}).to_string();
    let mut connection = RawConnection::open(w.web.addr()).await;
    let head = format!(
        "POST /ws_apigateway/default HTTP/1.1\r\nhost: x\r\nconnectionId: {}\r\n\
         content-length: {}\r\n\r\n",
        connection_id(),
        frame.len()
    );
    connection.send(head.as_bytes()).await;
    connection.send(&frame.as_bytes()[..10]).await;
    let answer = connection.answer().await.expect("a 408");
    assert_eq!((answer.status, answer.json()), (408, timeout_reply()));
    connection.closed().await;
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

/// A client still uploading when the 413 is decided must still read it, on every request
/// of a kept-alive connection: the rest of the body is drained, not reset.
#[tokio::test]
async fn oversized_bodies_get_their_413_and_the_connection_stays_usable() {
    let w = world().await;
    let code = w.web.issue_token(None).await;
    let big = json!({"method": "auth_request", "token": code, "x": "x".repeat(2 * 1024 * 1024)})
        .to_string();
    let mut connection = RawConnection::open(w.web.addr()).await;
    let id = connection_id();
    for with_id in [true, true, false, true] {
        let id_header = if with_id {
            format!("connectionId: {id}\r\n")
        } else {
            String::new()
        };
        let head = format!(
            "POST /ws_apigateway/default HTTP/1.1\r\nhost: x\r\n{id_header}content-length: {}\r\n\r\n",
            big.len()
        );
        connection.send(head.as_bytes()).await;
        connection.send(big.as_bytes()).await;
        let answer = connection.answer().await.expect("an answer");
        let (status, alert) = if with_id {
            (413, Alert::RequestTooLarge)
        } else {
            (400, Alert::ConnectionIdBlank)
        };
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(answer.json()["alert"], ja(alert));
    }
    connection
        .send(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    assert_eq!(connection.answer().await.expect("an answer").status, 200);
}
