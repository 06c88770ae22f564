//! The client side: handshake, `$default` round trips, close codes, `$disconnect`.

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::harness::{Reply, TestEmulator, expect_close, next_text, within};

#[tokio::test]
async fn handshake_waits_for_connect_which_gets_connection_id_and_origin() {
    let emu = TestEmulator::start().await;
    let gate = emu.backend.gate("connect");

    let connecting = emu.try_connect(Some("https://app.example.com"));
    tokio::pin!(connecting);
    let calls = tokio::select! {
        _ = &mut connecting => panic!("the handshake finished before $connect answered"),
        calls = emu.backend.wait_for("connect", 1, |_| true) => calls,
    };
    gate.add_permits(1);
    connecting
        .await
        .expect("handshake accepted once $connect answered 200");

    let call = &calls[0];
    let id = call.connection_id();
    assert_eq!(id.len(), 16, "AWS-shaped id: {id}");
    assert!(id.ends_with('='), "AWS-shaped id: {id}");
    assert_eq!(call.header("origin"), Some("https://app.example.com"));
    assert_eq!(call.header("x-gateway-secret"), None);
    assert!(call.body.is_empty());
}

#[tokio::test]
async fn rejected_connect_rejects_the_handshake_with_its_status_and_body() {
    let emu = TestEmulator::start().await;
    emu.backend
        .set_reply("connect", Reply::new(422, r#"{"success":false}"#));

    match emu.try_connect(Some("https://evil.example.com")).await {
        Err(WsError::Http(response)) => {
            assert_eq!(response.status().as_u16(), 422);
            assert_eq!(response.headers()["content-type"], "application/json");
            assert_eq!(
                response.body().as_deref(),
                Some(&br#"{"success":false}"#[..])
            );
        }
        other => panic!("expected an HTTP rejection, got {other:?}"),
    }
    let stats = emu.stats().await;
    assert_eq!(stats["connections_open"], 0);
    assert_eq!(stats["connections_rejected"], 1);
    assert!(
        emu.backend.calls("disconnect").is_empty(),
        "no $disconnect for a refused connection"
    );
}

#[tokio::test]
async fn unreachable_backend_rejects_the_handshake_with_502() {
    // Bound but never listening: connections to it are refused, and no other process of
    // the test run can take the port meanwhile (a freed port was, and answered 200).
    let reserved = tokio::net::TcpSocket::new_v4().expect("a socket");
    reserved
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    let url = format!(
        "http://{}/ws_apigateway",
        reserved.local_addr().expect("addr")
    );
    let emu = TestEmulator::start_with(&[("EMULATOR_CALLBACK_URL", &url)]).await;

    match emu.try_connect(None).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 502),
        other => panic!("expected 502, got {other:?}"),
    }
}

#[tokio::test]
async fn default_gets_each_frame_in_order_and_its_answer_comes_back() {
    let emu = TestEmulator::start().await;
    // Whatever the status, the body goes back to the client (two-way route).
    emu.backend
        .set_reply("default", Reply::new(422, r#"{"success":false}"#));
    let (mut ws, id) = emu.connect().await;

    for n in 1..=3 {
        ws.send(Message::text(format!(r#"{{"method":"m{n}"}}"#)))
            .await
            .expect("send");
    }
    for _ in 1..=3 {
        assert_eq!(next_text(&mut ws).await, r#"{"success":false}"#);
    }
    let calls = emu.backend.wait_for("default", 3, |_| true).await;
    let bodies: Vec<_> = calls
        .iter()
        .map(|c| String::from_utf8_lossy(&c.body).into_owned())
        .collect();
    assert_eq!(
        bodies,
        [
            r#"{"method":"m1"}"#,
            r#"{"method":"m2"}"#,
            r#"{"method":"m3"}"#
        ]
    );
    for call in &calls {
        assert_eq!(call.connection_id(), id);
        assert_eq!(
            call.header("origin"),
            None,
            "origin exists on $connect only"
        );
    }
}

#[tokio::test]
async fn empty_default_answer_sends_no_frame() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    ws.send(Message::text("{}")).await.expect("send");
    emu.backend.wait_for("default", 1, |_| true).await;

    // The next frame the client sees is this POST, not an empty reply.
    let post = emu.sdk().post_to_connection().connection_id(&id);
    post.data("marker".as_bytes().into())
        .send()
        .await
        .expect("post");
    assert_eq!(next_text(&mut ws).await, "marker");
}

#[tokio::test]
async fn client_close_fires_disconnect_once() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    ws.close(None).await.expect("close");
    let echoed = within("the close handshake", ws.next()).await;
    assert!(
        matches!(echoed, Some(Ok(Message::Close(_)))),
        "the server answers a close with a close, got {echoed:?}"
    );

    let calls = emu
        .backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;
    assert_eq!(calls[0].header("origin"), None);
    assert!(calls[0].body.is_empty());
    emu.wait_for_stats("no open connection", |s| s["connections_open"] == 0)
        .await;
    assert_eq!(emu.backend.calls("disconnect").len(), 1);
}

#[tokio::test]
async fn binary_frame_closes_with_1003() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;
    ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");

    assert_eq!(expect_close(&mut ws).await.code, CloseCode::Unsupported);
    emu.backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;
    assert!(
        emu.backend.calls("default").is_empty(),
        "binary frames never reach $default"
    );
}

#[tokio::test]
async fn frame_over_32_kib_closes_with_1009() {
    let emu = TestEmulator::start().await;
    let (mut ws, id) = emu.connect().await;

    ws.send(Message::text("a".repeat(32 * 1024)))
        .await
        .expect("send limit-sized frame");
    emu.backend
        .wait_for("default", 1, |c| c.body.len() == 32 * 1024)
        .await;

    ws.send(Message::text("a".repeat(32 * 1024 + 1)))
        .await
        .expect("send oversized frame");
    assert_eq!(expect_close(&mut ws).await.code, CloseCode::Size);
    emu.backend
        .wait_for("disconnect", 1, |c| c.connection_id() == id)
        .await;
}
