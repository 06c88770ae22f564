//! The whole product through real WebSocket clients: emulator, web and worker on real
//! PostgreSQL (and SQLite) and Redis.

use std::time::Duration;

use e2e::audience;
use e2e::stack::Stack;
use e2e::ws_client::Ended;
use e2e::{TestEnv, WebOptions, fixtures, wait_until};
use serde_json::{Value, json};

fn auth(token: &str) -> Value {
    json!({"method": "auth_request", "token": token})
}

fn send(token: &str, channel: &str, body: &str) -> Value {
    json!({"method": "send_message", "token": token, "channel": channel, "body": body})
}

async fn queue_idle(env: &TestEnv) -> bool {
    let counts = audience::queues(env).default.counts().await.unwrap();
    counts.waiting + counts.running + counts.failed == 0
}

#[tokio::test]
async fn two_users_and_a_guest_chat_through_the_emulator() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    let web = &stack.web;
    web.put_user("alice", "Alice", Some("/uploads/user/image/1/a.png"))
        .await;
    web.put_user("bob", "Bob", None).await;
    let (alice_token, bob_token, guest_token) = (
        web.issue_token(Some("alice")).await,
        web.issue_token(Some("bob")).await,
        web.issue_token(None).await,
    );
    let mut alice = stack.client().await;
    let mut bob = stack.client().await;
    let mut guest = stack.client().await;
    for (client, token) in [
        (&mut alice, &alice_token),
        (&mut bob, &bob_token),
        (&mut guest, &guest_token),
    ] {
        let reply = client.request(&auth(token), "auth_result").await;
        assert_eq!(reply["success"], true, "{reply}");
    }

    // Everyone gets an all_channel message, the sender included.
    let reply = alice
        .request(
            &send(&alice_token, "all_channel", "hello all"),
            "send_result",
        )
        .await;
    assert_eq!(reply["success"], true);
    for client in [&mut alice, &mut bob, &mut guest] {
        let frame = client.recv_action("send_message").await;
        assert_eq!(frame["messages"][0]["body"], "hello all");
        assert_eq!(frame["messages"][0]["user"]["code"], "alice");
    }

    // user_channel stays private: only bob's connections get his.
    bob.request(
        &send(&bob_token, "user_channel", "note to self"),
        "send_result",
    )
    .await;
    let private = bob.recv_action("send_message").await;
    assert_eq!(private["messages"][0]["channel"], "user_channel_bob");
    wait_until(Duration::from_secs(10), || queue_idle(&env))
        .await
        .unwrap();
    alice
        .request(&send(&alice_token, "all_channel", "second"), "send_result")
        .await;
    for client in [&mut alice, &mut guest] {
        let next = client.recv_action("send_message").await;
        assert_eq!(
            next["messages"][0]["body"], "second",
            "bob's private message leaked"
        );
    }
    bob.recv_action("send_message").await;

    // Guests read but cannot send.
    let refused = guest
        .request(&send(&guest_token, "all_channel", "hi"), "send_result")
        .await;
    assert_eq!(refused["success"], false);

    // History: the guest sees all_channel only; bob sees his own channel too.
    let history = guest
        .request(
            &json!({"method": "get_messages", "token": guest_token}),
            "get_messages",
        )
        .await;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["hello all", "second"]);
    let mine = bob
        .request(
            &json!({"method": "get_messages", "token": bob_token, "limit": 2}),
            "get_messages",
        )
        .await;
    let bodies: Vec<&str> = mine["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["note to self", "second"]);
    let first_id = history["messages"][0]["id"].as_i64().unwrap();
    let newer = bob
        .request(
            &json!({"method": "get_messages", "token": bob_token, "last_id": first_id}),
            "get_messages",
        )
        .await;
    assert_eq!(newer["messages"].as_array().unwrap().len(), 2);
    assert_eq!(newer["unsent_count"], 0);

    // $disconnect marks the token.
    let db = env.db.connect().await;
    bob.close().await;
    wait_until(Duration::from_secs(10), || async {
        fixtures::token(&db, &bob_token)
            .await
            .last_status
            .as_deref()
            == Some("unsubscribed")
    })
    .await
    .expect("$disconnect reached web");
}

#[tokio::test]
async fn a_refused_token_is_answered_then_disconnected_after_the_delay() {
    let env = TestEnv::postgres().await;
    let web_options = WebOptions::default().with_env("DISCONNECT_DELAY_SECS", "1");
    let stack = Stack::start(&env, web_options, &[]).await;
    let mut client = stack.client().await;
    let started = std::time::Instant::now();
    let reply = client.request(&auth("no-such-token"), "auth_result").await;
    assert_eq!(reply["success"], false);
    assert_eq!(reply["data"]["token"], "no-such-token");
    let code = client.closed(Duration::from_secs(15)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the delay"
    );
    assert_eq!(code, 1000, "closed by DeleteConnection");
}

#[tokio::test]
async fn a_foreign_origin_is_refused_at_the_handshake() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    assert_eq!(
        stack.connect(Some("https://evil.example")).await.err(),
        Some(Ended::Refused(422))
    );
    assert_eq!(stack.connect(None).await.err(), Some(Ended::Refused(400)));
}

#[tokio::test]
async fn a_dead_connection_is_retired_after_410() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    let db = env.db.connect().await;
    stack.web.put_user("alice", "Alice", None).await;
    let alice_token = stack.web.issue_token(Some("alice")).await;
    let mut alice = stack.client().await;
    alice.request(&auth(&alice_token), "auth_result").await;
    // A token still bound to a connection the gateway no longer has ($disconnect was lost).
    let ghost_user = audience::user(&db, "ghost").await;
    audience::bind(&db, Some(&ghost_user), "GhostConn123=").await;
    alice
        .request(
            &send(&alice_token, "all_channel", "anyone there?"),
            "send_result",
        )
        .await;
    alice.recv_action("send_message").await;
    wait_until(Duration::from_secs(10), || async {
        fixtures::token_on(&db, "GhostConn123=")
            .await
            .and_then(|t| t.last_status)
            .as_deref()
            == Some("gone")
    })
    .await
    .expect("410 retired the token");
}

#[tokio::test]
async fn chat_works_on_sqlite_too() {
    let env = TestEnv::sqlite().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    stack.web.put_user("alice", "Alice", None).await;
    let token = stack.web.issue_token(Some("alice")).await;
    let mut alice = stack.client().await;
    let mut other = stack.client().await;
    alice.request(&auth(&token), "auth_result").await;
    let guest_token = stack.web.issue_token(None).await;
    other.request(&auth(&guest_token), "auth_result").await;
    alice
        .request(&send(&token, "all_channel", "from sqlite"), "send_result")
        .await;
    for client in [&mut alice, &mut other] {
        let frame = client.recv_action("send_message").await;
        assert_eq!(frame["messages"][0]["body"], "from sqlite");
    }
}
