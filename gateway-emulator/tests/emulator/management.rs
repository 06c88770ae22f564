//! The Management API through the unmodified AWS SDK, plus raw-HTTP checks of what the SDK
//! cannot show (status codes, headers, requests without a signature).

use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::get_connection::GetConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::harness::{TestEmulator, expect_close, next_text};

const UNKNOWN_ID: &str = "AAAAAAAAAAAAAAA=";

#[tokio::test]
async fn post_delivers_a_frame_and_get_describes_the_connection() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    let sdk = emu.sdk();

    sdk.post_to_connection()
        .connection_id(&id)
        .data(Blob::new("hello"))
        .send()
        .await
        .expect("post");
    assert_eq!(next_text(&mut ws).await, "hello");

    let info = sdk
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("get");
    let identity = info.identity().expect("identity");
    assert_eq!(identity.source_ip(), Some("127.0.0.1"));
    assert_eq!(identity.user_agent(), Some("emulator-tests/1.0"));
    let connected_at = info.connected_at().expect("connectedAt");
    let last_active_at = info.last_active_at().expect("lastActiveAt");
    assert!(last_active_at >= connected_at);
}

#[tokio::test]
async fn unknown_ids_are_gone_for_every_operation() {
    let emu = TestEmulator::start().await;
    let sdk = emu.sdk();

    let post = sdk
        .post_to_connection()
        .connection_id(UNKNOWN_ID)
        .data(Blob::new("x"))
        .send()
        .await;
    let error = post.expect_err("post to an unknown id");
    assert_eq!(raw_status(&error), Some(410));
    assert!(matches!(
        error.into_service_error(),
        PostToConnectionError::GoneException(_)
    ));

    let get = sdk.get_connection().connection_id(UNKNOWN_ID).send().await;
    assert!(matches!(
        get.expect_err("get").into_service_error(),
        GetConnectionError::GoneException(_)
    ));

    let delete = sdk
        .delete_connection()
        .connection_id(UNKNOWN_ID)
        .send()
        .await;
    assert!(matches!(
        delete.expect_err("delete").into_service_error(),
        DeleteConnectionError::GoneException(_)
    ));
    assert_eq!(emu.stats().await["posts_gone"], 1);
}

#[tokio::test]
async fn delete_closes_with_1000_and_fires_disconnect() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    let sdk = emu.sdk();

    sdk.delete_connection()
        .connection_id(&id)
        .send()
        .await
        .expect("delete");
    assert_eq!(expect_close(&mut ws).await.code, CloseCode::Normal);
    emu.backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;

    let post = sdk
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("late"))
        .send()
        .await;
    assert!(matches!(
        post.expect_err("post after delete").into_service_error(),
        PostToConnectionError::GoneException(_)
    ));
}

#[tokio::test]
async fn posts_over_128_kib_are_payload_too_large() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    let sdk = emu.sdk();

    let limit = "b".repeat(128 * 1024);
    sdk.post_to_connection()
        .connection_id(&id)
        .data(Blob::new(limit.clone()))
        .send()
        .await
        .expect("post at the limit");
    assert_eq!(next_text(&mut ws).await.len(), limit.len());

    let over = sdk
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(limit + "b"))
        .send()
        .await;
    let error = over.expect_err("post over the limit");
    assert_eq!(raw_status(&error), Some(413));
    assert!(matches!(
        error.into_service_error(),
        PostToConnectionError::PayloadTooLargeException(_)
    ));
}

#[tokio::test]
async fn posting_while_connect_is_still_running_is_gone() {
    let emu = TestEmulator::start().await;
    let gate = emu.backend.gate("connect");
    let connecting = emu.try_connect(None);
    tokio::pin!(connecting);
    let id = tokio::select! {
        _ = &mut connecting => panic!("the handshake finished before $connect answered"),
        id = emu.backend.wait_for_connect_number(1) => id,
    };

    let post = emu
        .sdk()
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("early"))
        .send()
        .await;
    assert!(matches!(
        post.expect_err("post during $connect").into_service_error(),
        PostToConnectionError::GoneException(_)
    ));
    gate.add_permits(1);
    connecting.await.expect("handshake");
}

#[tokio::test]
async fn requests_without_a_sigv4_signature_are_forbidden() {
    let emu = TestEmulator::start().await;
    let (_ws, id) = emu.connect().await;
    let encoded = id.replace('=', "%3D");

    let response = reqwest::Client::new()
        .post(format!("http://{}/local/@connections/{encoded}", emu.addr))
        .body("unsigned")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(response.headers()["x-amzn-errortype"], "ForbiddenException");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(body["message"], "Missing Authentication Token");
}

#[tokio::test]
async fn a_wrong_stage_is_forbidden() {
    let emu = TestEmulator::start().await;
    let (_ws, id) = emu.connect().await;
    let config = emu
        .sdk()
        .config()
        .to_builder()
        .endpoint_url(format!("http://{}/prod", emu.addr))
        .build();
    let sdk = aws_sdk_apigatewaymanagement::Client::from_conf(config);

    let post = sdk
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await;
    assert!(matches!(
        post.expect_err("wrong stage").into_service_error(),
        PostToConnectionError::ForbiddenException(_)
    ));
}

fn raw_status<E>(
    error: &SdkError<E, aws_sdk_apigatewaymanagement::config::http::HttpResponse>,
) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

#[tokio::test]
async fn a_client_that_does_not_read_gets_429_once_its_buffer_is_full() {
    let emu = TestEmulator::start().await;
    // The client is kept open but never read from.
    let (_ws, id) = emu.connect().await;
    let sdk = emu.sdk();
    let payload = Blob::new("c".repeat(128 * 1024));

    // Kernel socket buffers absorb some megabytes first, then the emulator's per-connection
    // queue fills; the bound only keeps a broken emulator from looping forever.
    for _ in 0..2_000 {
        let post = sdk
            .post_to_connection()
            .connection_id(&id)
            .data(payload.clone())
            .send()
            .await;
        if let Err(error) = post {
            assert_eq!(raw_status(&error), Some(429));
            assert!(matches!(
                error.into_service_error(),
                PostToConnectionError::LimitExceededException(_)
            ));
            return;
        }
    }
    panic!("2,000 posts of 128 KiB to a client that never reads were all accepted");
}
