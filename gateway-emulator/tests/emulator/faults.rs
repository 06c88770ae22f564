//! Fault injection and counters through `/_emulator/*`.

use std::time::{Duration, Instant};

use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures::SinkExt;
use serde_json::{Value, json};

use crate::harness::{TestEmulator, next_text, within};

async fn put_faults(emu: &TestEmulator, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(emu.control_url("faults"))
        .json(&body)
        .send()
        .await
        .expect("PUT faults")
}

#[tokio::test]
async fn injected_throttling_reaches_the_sdk_as_limit_exceeded() {
    let emu = TestEmulator::start().await;
    let (_ws, id) = emu.connect().await;
    let sdk = emu.sdk();

    let settings: Value = put_faults(&emu, json!({"throttle_rate": 1.0}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        settings,
        json!({"post_latency_ms": 0, "throttle_rate": 1.0, "error_rate": 0.0})
    );
    let error = sdk
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(429));
    assert!(matches!(
        error.into_service_error(),
        PostToConnectionError::LimitExceededException(_)
    ));
    assert_eq!(
        emu.stats().await["throttled"],
        1,
        "retries are off: exactly one attempt"
    );

    put_faults(&emu, json!({"throttle_rate": 0.0, "error_rate": 1.0})).await;
    let error = sdk
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .expect_err("error");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(emu.stats().await["errors"], 1);

    put_faults(&emu, json!({"error_rate": 0.0})).await;
    sdk.post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .expect("no faults left");
    let current: Value = reqwest::get(emu.control_url("faults"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(
        current,
        json!({"post_latency_ms": 0, "throttle_rate": 0.0, "error_rate": 0.0})
    );
}

#[tokio::test]
async fn invalid_fault_settings_are_refused() {
    let emu = TestEmulator::start().await;
    assert_eq!(
        put_faults(&emu, json!({"throttle_rate": 1.5}))
            .await
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        put_faults(&emu, json!({"bogus": 1}))
            .await
            .status()
            .as_u16(),
        400
    );
}

#[tokio::test]
async fn faults_can_be_set_at_start_up() {
    let emu = TestEmulator::start_with(&[
        ("EMULATOR_THROTTLE_RATE", "1"),
        ("EMULATOR_POST_LATENCY_MS", "5"),
    ])
    .await;
    let current: Value = reqwest::get(emu.control_url("faults"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(
        current,
        json!({"post_latency_ms": 5, "throttle_rate": 1.0, "error_rate": 0.0})
    );
}

#[tokio::test]
async fn latency_delays_delivery_and_a_client_leaving_meanwhile_gets_nothing() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    let sdk = emu.sdk();
    let latency = Duration::from_millis(300);
    put_faults(&emu, json!({"post_latency_ms": latency.as_millis() as u64})).await;

    let started = Instant::now();
    sdk.post_to_connection()
        .connection_id(&id)
        .data(Blob::new("slow"))
        .send()
        .await
        .expect("post");
    assert!(started.elapsed() >= latency);
    assert_eq!(next_text(&mut ws).await, "slow");

    // A second post waits out its latency while the client leaves: it must not be delivered.
    let pending = {
        let sdk = sdk.clone();
        let id = id.clone();
        tokio::spawn(async move {
            sdk.post_to_connection()
                .connection_id(id)
                .data(Blob::new("lost"))
                .send()
                .await
        })
    };
    ws.close(None).await.expect("close");
    let result = within("the delayed post", pending).await.expect("task");
    assert!(matches!(
        result.expect_err("gone").into_service_error(),
        PostToConnectionError::GoneException(_)
    ));
}

#[tokio::test]
async fn stats_count_connections_frames_and_posts() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    let sdk = emu.sdk();
    ws.send(tokio_tungstenite::tungstenite::Message::text("{}"))
        .await
        .expect("send");
    emu.backend.wait_for("default", 1, |_| true).await;
    sdk.post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .expect("post");

    let stats = emu.stats().await;
    assert_eq!(stats["connections_open"], 1);
    assert_eq!(stats["connections_total"], 1);
    assert_eq!(stats["frames_received"], 1);
    assert_eq!(stats["posts_ok"], 1);
}
