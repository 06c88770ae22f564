//! SPEC §6, streams and every way the server ends a socket, with a raw client: Redis pub/sub
//! in Action Cable's format, two web replicas, refused tokens, remote disconnect, SIGTERM and
//! slow readers.

use std::time::{Duration, Instant};

use e2e::cable_client::{CableClient, MESSAGE_CHANNEL};
use e2e::web::ALLOWED_ORIGIN;
use e2e::{TestEnv, WebApp, WebOptions, fixtures, wait_until};
use redis::AsyncCommands;
use serde_json::{Value, json};
use shared::jobs::DeleteConnectionJob;

use crate::common::{world, world_with};

/// A client subscribed to `MessageChannel` and authenticated with `token`.
async fn joined(web: &WebApp, token: &str) -> CableClient {
    CableClient::joined(&web.cable_url(), ALLOWED_ORIGIN, token).await
}

/// `PUBLISH <prefix>:<stream> <payload>`, as the worker or a Rails app does.
async fn publish(env: &TestEnv, stream: &str, payload: &str) -> i64 {
    let mut redis = env.redis.connection().await;
    redis
        .publish(format!("{}:{stream}", env.redis.prefix()), payload)
        .await
        .unwrap()
}

/// Whether a web replica listens to the test's streams (a probe every socket may receive).
async fn subscribers(env: &TestEnv) -> bool {
    replicas_listening(env, 1).await
}

async fn replicas_listening(env: &TestEnv, replicas: i64) -> bool {
    publish(env, "all_channel", "{\"warm\":true}").await >= replicas
}

#[tokio::test]
async fn what_rails_publishes_reaches_the_sockets_of_its_stream_in_action_cable_format() {
    let w = world().await;
    let alice_token = w.web.user_token("alice").await;
    let guest_token = w.web.issue_token(None).await;
    let mut alice = joined(&w.web, &alice_token).await;
    let mut guest = joined(&w.web, &guest_token).await;
    wait_until(Duration::from_secs(10), || subscribers(&w.env))
        .await
        .unwrap();

    publish(&w.env, "user_channel_alice", r#"{"to":"alice"}"#).await;
    publish(&w.env, "all_channel", "not json").await;
    publish(&w.env, "all_channel", r#"{"to": "all", "n": [1, 2]}"#).await;
    assert_eq!(
        not_warm(&mut alice).await,
        json!({"identifier": MESSAGE_CHANNEL, "message": {"to": "alice"}})
    );
    assert_eq!(
        not_warm(&mut alice).await["message"],
        json!({"to": "all", "n": [1, 2]})
    );
    assert_eq!(
        not_warm(&mut guest).await["message"],
        json!({"to": "all", "n": [1, 2]}),
        "a guest streams all_channel only; invalid JSON is dropped"
    );
}

/// The next frame that is not the probe of [`subscribers`].
async fn not_warm(client: &mut CableClient) -> Value {
    loop {
        let frame = client.recv().await;
        if frame["message"]["warm"] != true {
            return frame;
        }
    }
}

#[tokio::test]
async fn an_unsubscribed_subscription_stops_streaming() {
    let w = world().await;
    let token = w.web.user_token("alice").await;
    let mut client = joined(&w.web, &token).await;
    wait_until(Duration::from_secs(10), || subscribers(&w.env))
        .await
        .unwrap();
    client.command("unsubscribe", MESSAGE_CHANNEL).await;
    // Commands are handled in order: once this confirmation arrives, the unsubscribe is done.
    client
        .command("subscribe", r#"{"channel":"MessageChannel","probe":1}"#)
        .await;
    client.recv_type("confirm_subscription").await;
    publish(&w.env, "all_channel", r#"{"after":"unsubscribe"}"#).await;
    let frames = client.frames_within(Duration::from_millis(1500)).await;
    assert!(
        frames
            .iter()
            .all(|frame| frame["message"]["after"].is_null()),
        "nothing streams after unsubscribe: {frames:?}"
    );
    // Subscribing again confirms, and streams once the token is accepted again.
    client.subscribe().await;
    client
        .request("auth_request", json!({"token": token}), "auth_result")
        .await;
    publish(&w.env, "all_channel", r#"{"after":"resubscribe"}"#).await;
    assert_eq!(
        not_warm(&mut client).await["message"],
        json!({"after": "resubscribe"})
    );
}

#[tokio::test]
async fn two_web_replicas_on_one_redis_each_serve_their_sockets() {
    let env = TestEnv::postgres().await;
    let stack = e2e::stack::Stack::start(&env, WebOptions::default(), &[]).await;
    let other = WebApp::spawn(&env, WebOptions::default()).await;
    let alice_token = stack.web.user_token("alice").await;
    let bob_token = stack.web.user_token("bob").await;
    let mut alice = joined(&stack.web, &alice_token).await;
    let mut bob = joined(&other, &bob_token).await;
    wait_until(Duration::from_secs(10), || replicas_listening(&env, 2))
        .await
        .unwrap();
    let mut clients = [
        (&mut alice, &alice_token, "hi bob"),
        (&mut bob, &bob_token, "hi alice"),
    ];
    for sender in 0..2 {
        let (client, token, body) = &mut clients[sender];
        let sent = client
            .request(
                "send_message",
                json!({"token": token, "channel": "all_channel", "body": body}),
                "send_result",
            )
            .await;
        assert_eq!(sent["success"], true, "{sent}");
        let body = *body;
        for (client, _, _) in clients.iter_mut() {
            let got = client.recv_action("send_message").await;
            assert_eq!(got["message"]["messages"][0]["body"], body);
        }
    }
}

#[tokio::test]
async fn a_refused_token_gets_its_auth_result_then_a_disconnect_after_the_delay() {
    let w = world_with(WebOptions::default().with_env("DISCONNECT_DELAY_SECS", 2)).await;
    let mut client = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    client.subscribe().await;
    let refused_at = Instant::now();
    let reply = client
        .request("auth_request", json!({"token": "nope"}), "auth_result")
        .await;
    assert_eq!(reply["success"], false);
    let (code, frames) = client.closed(Duration::from_secs(20)).await;
    assert!(refused_at.elapsed() >= Duration::from_millis(1900));
    let last: Vec<&Value> = frames
        .iter()
        .filter(|frame| frame["type"] != "ping")
        .collect();
    assert_eq!(
        last,
        [&json!({"type": "disconnect", "reason": "unauthorized", "reconnect": false})]
    );
    assert_eq!(code, 1000);
}

#[tokio::test]
async fn a_remote_disconnect_closes_the_socket_on_whichever_replica_holds_it() {
    let w = world().await;
    let other = WebApp::spawn(&w.env, WebOptions::default()).await;
    let token = w.web.user_token("alice").await;
    let mut client = joined(&other, &token).await;
    let cable_id = fixtures::token(&w.db, &token)
        .await
        .request_id
        .expect("bound through request_id");
    publish(
        &w.env,
        &format!("action_cable/{cable_id}"),
        r#"{"type":"disconnect","reconnect":false}"#,
    )
    .await;
    let (code, frames) = client.closed(Duration::from_secs(20)).await;
    assert_eq!(code, 1000);
    assert_eq!(
        frames.last(),
        Some(&json!({"type": "disconnect", "reason": "remote", "reconnect": false}))
    );
}

#[tokio::test]
async fn a_delete_connection_job_closes_an_action_cable_socket_on_whichever_replica_holds_it() {
    let env = TestEnv::postgres().await;
    let stack = e2e::stack::Stack::start(&env, WebOptions::default(), &[]).await;
    let other = WebApp::spawn(&env, WebOptions::default()).await;
    let token = stack.web.user_token("alice").await;
    let mut client = joined(&other, &token).await;
    let db = env.db.connect().await;
    let cable_id = fixtures::token(&db, &token)
        .await
        .request_id
        .expect("bound through request_id");
    let job = DeleteConnectionJob {
        connection_id: cable_id,
        action_cable: true,
    };
    e2e::audience::queues(&env)
        .enqueue(&job, Duration::ZERO)
        .await
        .expect("enqueue");
    let (code, frames) = client.closed(Duration::from_secs(20)).await;
    assert_eq!(code, 1000);
    assert_eq!(
        frames.last(),
        Some(&json!({"type": "disconnect", "reason": "remote", "reconnect": false}))
    );
    let unsubscribed = || async {
        fixtures::token(&db, &token).await.last_status.as_deref() == Some("unsubscribed")
    };
    wait_until(Duration::from_secs(10), unsubscribed)
        .await
        .expect("closing the socket unsubscribes its token");
}

#[tokio::test]
async fn on_sigterm_every_socket_gets_disconnect_with_reconnect_true() {
    let mut w = world_with(WebOptions::default().with_env("WEB_DRAIN_SECS", 3)).await;
    let mut first = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    let mut second = CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    w.web.signal("TERM");
    for client in [&mut first, &mut second] {
        let (code, frames) = client.closed(Duration::from_secs(20)).await;
        assert_eq!(code, 1000);
        assert_eq!(
            frames.last(),
            Some(&json!({"type": "disconnect", "reason": "server_restart", "reconnect": true}))
        );
    }
    // While it drains, a reconnecting client is sent elsewhere.
    let refused = CableClient::connect(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    assert_eq!(refused.err(), Some(e2e::ws_client::Ended::Refused(503)));
    assert!(w.web.wait().await.success());
}

#[tokio::test]
async fn a_client_that_reads_too_slowly_is_disconnected_and_others_still_receive() {
    let w = world_with(WebOptions::default().with_env("ACTION_CABLE_SEND_QUEUE", 8)).await;
    let slow_token = w.web.user_token("slow").await;
    let fast_token = w.web.user_token("fast").await;
    // Joined, then never read again.
    let _slow = joined(&w.web, &slow_token).await;
    let mut fast = joined(&w.web, &fast_token).await;
    wait_until(Duration::from_secs(10), || subscribers(&w.env))
        .await
        .unwrap();
    let big = json!({"filler": "x".repeat(30_000)}).to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while !w.web.logs().transcript().contains("SlowReader") {
        assert!(
            Instant::now() < deadline,
            "the slow reader was never disconnected"
        );
        publish(&w.env, "all_channel", &big).await;
        sent += 1;
        // The fast reader keeps up.
        while fast.recv().await["message"]["filler"].is_null() {}
    }
    assert!(sent > 8, "the kernel's buffers filled before the queue did");
    wait_until(Duration::from_secs(10), || async {
        fixtures::token(&w.db, &slow_token)
            .await
            .last_status
            .as_deref()
            == Some("unsubscribed")
    })
    .await
    .expect("the slow reader's token is unsubscribed");
    publish(&w.env, "all_channel", r#"{"after":true}"#).await;
    while fast.recv().await["message"]["after"] != true {}
}
