//! SPEC §6, the protocol's edges, with a raw WebSocket client on `web`'s `/cable`.

use std::time::Duration;

use e2e::WebOptions;
use e2e::cable_client::{CableClient, MESSAGE_CHANNEL, PROTOCOL};
use e2e::wait_until;
use e2e::web::ALLOWED_ORIGIN;
use e2e::ws_client::Ended;
use serde_json::json;

use crate::common::{world, world_with};

#[tokio::test]
async fn a_foreign_or_missing_origin_is_refused_with_404_before_the_upgrade() {
    let w = world().await;
    let url = w.web.cable_url();
    for origin in [Some("http://evil.example"), Some("h"), Some("null"), None] {
        let refused = CableClient::connect_with(&url, origin, Some(PROTOCOL)).await;
        assert_eq!(
            refused.err(),
            Some(Ended::Refused(404)),
            "origin {origin:?}"
        );
    }
    wait_until(Duration::from_secs(5), || async {
        w.web.logs().transcript().contains("origin not allowed")
            && w.web.logs().transcript().contains("evil.example")
    })
    .await
    .expect("the refusal is logged with its origin");
    // The same matcher as $connect: an exact entry and a one-label wildcard.
    for origin in [ALLOWED_ORIGIN, "https://chat.example.com"] {
        let client = CableClient::connect(&url, origin).await;
        assert!(client.is_ok(), "{origin} is allowed");
    }
    // Not a WebSocket upgrade: 404, as Rails answers.
    let (status, _) = w.web.get("/cable").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_subprotocol_is_actioncable_v1_json_and_a_client_without_one_is_served_too() {
    let w = world().await;
    let client = CableClient::connect(&w.web.cable_url(), ALLOWED_ORIGIN)
        .await
        .unwrap();
    assert_eq!(client.protocol.as_deref(), Some(PROTOCOL));
    let mut bare = CableClient::connect_with(&w.web.cable_url(), Some(ALLOWED_ORIGIN), None)
        .await
        .expect("served without a subprotocol, as Rails does");
    assert_eq!(bare.protocol, None);
    assert_eq!(bare.recv().await, json!({"type": "welcome"}));
}

#[tokio::test]
async fn a_welcome_then_a_ping_every_3_seconds_with_unix_seconds() {
    let w = world().await;
    let mut client = CableClient::connect(&w.web.cable_url(), ALLOWED_ORIGIN)
        .await
        .unwrap();
    assert_eq!(client.recv_any().await, json!({"type": "welcome"}));
    let first = client.recv_type("ping").await;
    let second = client.recv_type("ping").await;
    let now = chrono::Utc::now().timestamp();
    let (a, b) = (
        first["message"].as_i64().unwrap(),
        second["message"].as_i64().unwrap(),
    );
    assert!((now - b).abs() <= 2, "ping {b} is unix seconds (now {now})");
    assert!((2..=4).contains(&(b - a)), "pings {a} then {b}: 3 s apart");
    // Meanwhile the stream subscriber pinged Redis (every 5 s) and kept its connection.
    let logs = w.web.logs().transcript();
    assert!(logs.contains("streams: subscribed"), "{logs}");
    assert!(!logs.contains("pub/sub is down"), "{logs}");
}

#[tokio::test]
async fn message_channel_is_confirmed_every_time_and_any_other_channel_rejected() {
    let w = world().await;
    let mut client = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    let other = r#"{"channel":"ChatChannel","room":"1"}"#;
    client.command("subscribe", other).await;
    assert_eq!(
        client.recv().await,
        json!({"type": "reject_subscription", "identifier": other})
    );
    // The identifier is echoed byte for byte, spacing and key order included.
    let spaced = r#"{ "room": 7,  "channel" : "MessageChannel" }"#;
    for _ in 0..2 {
        client.command("subscribe", spaced).await;
        assert_eq!(
            client.recv().await,
            json!({"type": "confirm_subscription", "identifier": spaced})
        );
    }
}

#[tokio::test]
async fn what_cannot_be_understood_is_ignored_and_the_connection_stays_usable() {
    let w = world().await;
    let token = w.web.user_token("alice").await;
    let mut client = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    client.send_text("this is not JSON").await;
    client.send_text(r#"{"command":"subscribe"}"#).await;
    client.send_text(r#"["subscribe"]"#).await;
    // A subscription that does not exist yet, and an unknown command.
    client
        .perform(MESSAGE_CHANNEL, "auth_request", json!({"token": token}))
        .await;
    client.command("dance", MESSAGE_CHANNEL).await;
    client.subscribe().await;
    client
        .perform(MESSAGE_CHANNEL, "shout", json!({"token": token}))
        .await;
    client
        .send_text(
            json!({"command": "message", "identifier": MESSAGE_CHANNEL, "data": "{not json"})
                .to_string(),
        )
        .await;
    let unsubscribed = r#"{"channel":"MessageChannel","room":2}"#;
    client.command("unsubscribe", unsubscribed).await;
    let frames: Vec<_> = client
        .frames_within(Duration::from_millis(1500))
        .await
        .into_iter()
        .filter(|frame| frame["type"] != "ping")
        .collect();
    assert!(
        frames.is_empty(),
        "nothing answers what was ignored: {frames:?}"
    );
    let reply = client
        .request("auth_request", json!({"token": token}), "auth_result")
        .await;
    assert_eq!(reply["success"], true, "{reply}");
    for fragment in [
        "not a command",
        "unknown command",
        "does not exist",
        "unknown action",
    ] {
        assert!(
            w.web.logs().transcript().contains(fragment),
            "logged: {fragment}"
        );
    }
    assert!(
        !w.web.logs().transcript().contains(&token),
        "the token is never logged"
    );
}

#[tokio::test]
async fn a_frame_over_32_kb_closes_the_socket_with_1009() {
    let w = world().await;
    let mut client = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    client.subscribe().await;
    // Just under the limit is fine (and ignored: not a command).
    client.send_text("x".repeat(32 * 1024)).await;
    client.subscribe().await;
    client.send_text("x".repeat(32 * 1024 + 1)).await;
    let (code, _) = client.closed(Duration::from_secs(10)).await;
    assert_eq!(code, 1009);
}

#[tokio::test]
async fn connections_beyond_the_maximum_get_503_and_are_counted_in_metrics() {
    let w = world_with(WebOptions::default().with_env("ACTION_CABLE_MAX_CONNECTIONS", 2)).await;
    let url = w.web.cable_url();
    let first = CableClient::welcomed(&url, ALLOWED_ORIGIN).await;
    let _second = CableClient::welcomed(&url, ALLOWED_ORIGIN).await;
    let refused = CableClient::connect(&url, ALLOWED_ORIGIN).await;
    assert_eq!(refused.err(), Some(Ended::Refused(503)));
    assert!(gauge(&w.web).await.contains("web_cable_connections 2"));
    first.close().await;
    wait_until(Duration::from_secs(10), || async {
        gauge(&w.web).await.contains("web_cable_connections 1")
    })
    .await
    .expect("a closed socket leaves the count");
    CableClient::welcomed(&url, ALLOWED_ORIGIN).await;
}

async fn gauge(web: &e2e::WebApp) -> String {
    web.http()
        .get(web.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
