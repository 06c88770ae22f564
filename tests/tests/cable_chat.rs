//! SPEC §6 with the stock `@rails/actioncable` consumer (run by Node): it chats with an API
//! Gateway client through the emulator, reads the history, is refused, and reconnects.

use std::time::Duration;

use e2e::node_cable::NodeCable;
use e2e::stack::Stack;
use e2e::web::ALLOWED_ORIGIN;
use e2e::{TestEnv, WebApp, WebOptions, fixtures, wait_until};
use serde_json::{Value, json};

fn send(token: &str, channel: &str, body: &str) -> Value {
    json!({"method": "send_message", "token": token, "channel": channel, "body": body})
}

fn bodies(reply: &Value) -> Vec<String> {
    reply["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| message["body"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_action_cable_client_and_an_api_gateway_client_chat_both_ways() {
    let env = TestEnv::postgres().await;
    let stack = Stack::start(&env, WebOptions::default(), &[]).await;
    let web = &stack.web;
    let alice_token = web.user_token("alice").await;
    let bob_token = web.user_token("bob").await;
    let mut alice = NodeCable::spawn(&web.cable_url(), ALLOWED_ORIGIN);
    alice.join(&alice_token).await;
    let mut bob = stack.authenticated_client(&bob_token).await;

    // Action Cable → both.
    let sent = alice
        .request(
            "send_message",
            json!({"token": alice_token, "channel": "all_channel", "body": "from cable"}),
            "send_result",
        )
        .await;
    assert_eq!(sent["success"], true, "{sent}");
    let on_gateway = bob.recv_action("send_message").await;
    let on_cable = alice.received("send_message").await;
    assert_eq!(on_gateway["messages"][0]["body"], "from cable");
    assert_eq!(on_gateway["messages"][0]["user"]["code"], "alice");
    assert_eq!(
        on_cable, on_gateway,
        "both kinds of client get the same message JSON"
    );

    // API Gateway → both.
    bob.request(
        &send(&bob_token, "all_channel", "from gateway"),
        "send_result",
    )
    .await;
    let on_cable = alice.received("send_message").await;
    assert_eq!(on_cable["messages"][0]["body"], "from gateway");
    bob.recv_action("send_message").await;

    // user_channel stays private, on Action Cable too.
    alice
        .request(
            "send_message",
            json!({"token": alice_token, "channel": "user_channel", "body": "note to self"}),
            "send_result",
        )
        .await;
    let private = alice.received("send_message").await;
    assert_eq!(private["messages"][0]["channel"], "user_channel_alice");
    bob.request(&send(&bob_token, "all_channel", "last"), "send_result")
        .await;
    let next = bob.recv_action("send_message").await;
    assert_eq!(
        next["messages"][0]["body"], "last",
        "alice's private message leaked"
    );

    // History, in the reply JSON of $default.
    let history = alice
        .request(
            "get_messages",
            json!({"token": alice_token}),
            "get_messages",
        )
        .await;
    assert_eq!(history["success"], true);
    assert_eq!(history["unsent_count"], 0);
    assert_eq!(
        bodies(&history),
        ["from cable", "from gateway", "note to self", "last"]
    );
    assert_eq!(
        history["data"],
        json!({"action": "get_messages", "token": alice_token})
    );
    let bob_history = bob
        .request(
            &json!({"method": "get_messages", "token": bob_token}),
            "get_messages",
        )
        .await;
    assert_eq!(bodies(&bob_history), ["from cable", "from gateway", "last"]);
    for (key, value) in history["messages"][0].as_object().unwrap() {
        assert_eq!(&bob_history["messages"][0][key], value, "{key}");
    }

    // Binding in request_id; closing the socket marks the token unsubscribed.
    let db = env.db.connect().await;
    let token = fixtures::token(&db, &alice_token).await;
    assert!(token.request_id.is_some() && token.connection_id.is_none());
    assert_eq!(token.last_status.as_deref(), Some("success"));
    alice.stop().await;
    wait_until(Duration::from_secs(10), || async {
        fixtures::token(&db, &alice_token)
            .await
            .last_status
            .as_deref()
            == Some("unsubscribed")
    })
    .await
    .expect("the closed socket's token is unsubscribed");
}

#[tokio::test]
async fn a_refused_token_is_answered_then_disconnected_and_the_client_does_not_reconnect() {
    let env = TestEnv::postgres().await;
    let web = WebApp::spawn(
        &env,
        WebOptions::default().with_env("DISCONNECT_DELAY_SECS", 1),
    )
    .await;
    let mut client = NodeCable::spawn(&web.cable_url(), ALLOWED_ORIGIN);
    // The consumer opens its socket with its first subscription.
    client.subscribe().await;
    client.event("socket_opening").await;
    client.event("connected").await;
    let reply = client
        .request(
            "auth_request",
            json!({"token": "no-such-token"}),
            "auth_result",
        )
        .await;
    assert_eq!(reply["success"], false);
    assert!(
        reply["alert"]
            .as_str()
            .is_some_and(|alert| !alert.is_empty())
    );
    assert_eq!(
        reply["data"],
        json!({"action": "auth_request", "token": "no-such-token"})
    );
    let disconnected = client.event("disconnected").await;
    assert_eq!(disconnected["willAttemptReconnect"], false);
    // The consumer's monitor would reopen a stale socket within 6 to 12 s; it must not.
    let reopened = client
        .event_within("socket_opening", Duration::from_secs(14))
        .await;
    assert_eq!(
        reopened, None,
        "the client reconnected after reconnect: false"
    );
}

#[tokio::test]
async fn on_sigterm_the_client_is_told_to_reconnect_and_reconnects_to_the_next_web() {
    let env = TestEnv::postgres().await;
    let options = WebOptions::default().with_env("WEB_DRAIN_SECS", 0);
    let mut web = WebApp::spawn(&env, options.clone()).await;
    let token = web.user_token("alice").await;
    let mut client = NodeCable::spawn(&web.cable_url(), ALLOWED_ORIGIN);
    client.join(&token).await;

    web.signal("TERM");
    let disconnected = client.event("disconnected").await;
    assert_eq!(disconnected["willAttemptReconnect"], true);
    assert!(web.wait().await.success());

    // The next web on the same address: the consumer reopens by itself and resubscribes.
    let addr = web.addr();
    let _next = WebApp::spawn(&env, options.with_env("WEB_ADDR", addr)).await;
    let reconnected = client.event("connected").await;
    assert_eq!(reconnected["reconnected"], true);
    let reply = client
        .request("auth_request", json!({"token": token}), "auth_result")
        .await;
    assert_eq!(
        reply["success"], true,
        "the token moves to the new socket: {reply}"
    );
}
