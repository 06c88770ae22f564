//! Timeouts and limits, each configured short: idle timeout, maximum age, integration
//! timeout; the gateway secret; configuration errors.

use futures::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::harness::{Reply, TestEmulator, expect_close, next_text, within};

#[tokio::test]
async fn idle_connections_close_with_1001_and_fire_disconnect() {
    let emu = TestEmulator::start_with(&[("EMULATOR_IDLE_TIMEOUT_SECS", "1")]).await;
    let (mut ws, id) = emu.connect().await;

    let frame = expect_close(&mut ws).await;
    assert_eq!(frame.code, CloseCode::Away);
    assert_eq!(frame.reason.as_str(), "Going away");
    emu.backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;
}

#[tokio::test]
async fn connections_close_with_1001_at_their_maximum_age() {
    let emu = TestEmulator::start_with(&[("EMULATOR_MAX_CONNECTION_SECS", "1")]).await;
    let (mut ws, id) = emu.connect().await;

    assert_eq!(expect_close(&mut ws).await.code, CloseCode::Away);
    emu.backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;
}

#[tokio::test]
async fn slow_connect_answers_504() {
    let emu = TestEmulator::start_with(&[("EMULATOR_CALLBACK_TIMEOUT_MS", "200")]).await;
    emu.backend.set_reply(
        "connect",
        Reply::new(200, "").after(std::time::Duration::from_secs(3)),
    );

    match emu.try_connect(None).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 504),
        other => panic!("expected 504, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_default_sends_the_aws_timeout_frame() {
    let emu = TestEmulator::start_with(&[("EMULATOR_CALLBACK_TIMEOUT_MS", "200")]).await;
    emu.backend.set_reply(
        "default",
        Reply::new(200, "late").after(std::time::Duration::from_secs(3)),
    );
    let (mut ws, id) = emu.connect().await;

    ws.send(Message::text("{}")).await.expect("send");
    let frame: serde_json::Value =
        serde_json::from_str(&next_text(&mut ws).await).expect("json frame");
    assert_eq!(frame["message"], "Endpoint request timed out");
    assert_eq!(frame["connectionId"], id.as_str());
    assert!(frame["requestId"].as_str().is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn the_gateway_secret_travels_on_every_callback() {
    let emu = TestEmulator::start_with(&[("EMULATOR_GATEWAY_SECRET", "s3cret")]).await;
    let (mut ws, _id) = emu.connect().await;
    ws.send(Message::text("{}")).await.expect("send");
    emu.backend.wait_for("default", 1, |_| true).await;
    ws.close(None).await.expect("close");
    emu.backend.wait_for("disconnect", 1, |_| true).await;

    for route in ["connect", "default", "disconnect"] {
        for call in emu.backend.calls(route) {
            assert_eq!(
                call.header("x-gateway-secret"),
                Some("s3cret"),
                "on {route}"
            );
        }
    }
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    let output = within(
        "the emulator to refuse its configuration",
        tokio::process::Command::new(env!("CARGO_BIN_EXE_gateway-emulator"))
            .env("EMULATOR_ADDR", "127.0.0.1:0")
            .env("EMULATOR_THROTTLE_RATE", "1.5")
            .output(),
    )
    .await
    .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("EMULATOR_THROTTLE_RATE"),
        "stderr: {stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing printed as listening");
}

#[tokio::test]
async fn sigterm_closes_connections_with_1001_fires_disconnect_and_exits_cleanly() {
    let mut emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;

    let (status, frame) = tokio::join!(emu.terminate(), expect_close(&mut ws));
    assert_eq!(frame.code, CloseCode::Away);
    assert!(status.success(), "exit status {status}");
    assert_eq!(emu.backend.calls("disconnect")[0].connection_id(), id);
}
