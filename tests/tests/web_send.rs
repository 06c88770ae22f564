//! SPEC §1 `send_message`, unknown methods and the locale of alerts.

use e2e::WebOptions;
use e2e::fixtures::{Snapshot, all_messages, reply_ids, user};
use e2e::redis::{DEFAULT_QUEUE, LOW_PRIORITY_QUEUE};
use serde_json::{Value, json};
use shared::i18n::Alert;

use crate::common::{World, assert_no_jobs, connection_id, en, ja, world, world_with};

fn send(token: &str, channel: Value, body: Value) -> Value {
    json!({"method": "send_message", "token": token, "channel": channel, "body": body})
}

/// The message is stored on `real_channel` and exactly one BroadcastJob waits on `default`.
async fn assert_stored_and_broadcast(w: &World, channel: &str, real_channel: &str, text: &str) {
    let author = user(&w.db, "u1").await;
    let stored = all_messages(&w.db).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let message = &stored[0];
    assert_eq!(
        (message.channel.as_str(), message.body.as_str()),
        (real_channel, text)
    );
    assert_eq!((message.user_id, message.deleted_at), (author.id, None));

    let redis = &w.env.redis;
    assert_eq!(redis.stored_jobs(DEFAULT_QUEUE).await, 1);
    assert_eq!(redis.stored_jobs(LOW_PRIORITY_QUEUE).await, 0);
    let waiting = redis.waiting(DEFAULT_QUEUE).await;
    assert_eq!(waiting.len(), 1, "due at once: {waiting:?}");
    let job = &waiting[0].json;
    assert_eq!(job["job"], "BroadcastJob", "{job}");
    let mut args = job["args"].clone();
    // The frame every connection gets, rendered by web, so the worker need not read it back.
    let frame: Value = serde_json::from_str(args["frame"].as_str().expect("a frame")).unwrap();
    args.as_object_mut().unwrap().remove("frame");
    let expected = json!({
        "message_id": message.id,
        "sender_user_id": author.id,
        "channel": channel,
        "real_channel": real_channel,
    });
    assert_eq!(args, expected, "{job}");
    assert_eq!(
        (&frame["action"], &frame["success"]),
        (&json!("send_message"), &json!(true))
    );
    let rendered = &frame["messages"][0];
    assert_eq!(
        (&rendered["id"], &rendered["body"], &rendered["channel"]),
        (&json!(message.id), &json!(text), &json!(real_channel)),
        "{frame}"
    );
    assert_eq!(rendered["user"]["code"], "u1", "{frame}");
}

#[tokio::test]
async fn sending_to_all_channel_stores_the_message_and_enqueues_one_broadcast() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let frame = send(&token, json!("all_channel"), json!("hello everyone"));
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    let expected = json!({"action": "send_result", "success": true, "data": frame});
    assert_eq!((status, body), (200, expected));
    assert_stored_and_broadcast(&w, "all_channel", "all_channel", "hello everyone").await;
}

#[tokio::test]
async fn sending_to_user_channel_stores_it_on_the_users_real_channel() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let frame = send(&token, json!("user_channel"), json!("note to self"));
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    let expected = json!({"action": "send_result", "success": true, "data": frame});
    assert_eq!((status, body), (200, expected));
    assert_stored_and_broadcast(&w, "user_channel", "user_channel_u1", "note to self").await;
}

#[tokio::test]
async fn a_sent_message_is_read_back_by_get_messages() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let id = connection_id();
    let (status, _) = w
        .web
        .frame(&id, &send(&token, json!("all_channel"), json!("ping")))
        .await;
    assert_eq!(status, 200);
    let frame = json!({"method": "get_messages", "token": token});
    let (status, body) = w.web.frame(&id, &frame).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(reply_ids(&body), vec![all_messages(&w.db).await[0].id]);
    assert_eq!(body["messages"][0]["body"], "ping");
    assert_eq!(body["messages"][0]["user"]["code"], "u1");
}

#[tokio::test]
async fn a_guest_cannot_send() {
    let w = world().await;
    let guest = w.web.issue_token(None).await;
    for channel in ["all_channel", "user_channel"] {
        let frame = send(&guest, json!(channel), json!("hello"));
        let (status, body) = w.web.frame(&connection_id(), &frame).await;
        let alert = ja(Alert::ChannelNotSubscribed);
        let expected =
            json!({"action": "send_result", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (200, expected), "{channel}");
    }
    assert!(all_messages(&w.db).await.is_empty());
    assert_no_jobs(&w).await;
}

#[tokio::test]
async fn an_unknown_channel_is_not_subscribed() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    for channel in [
        json!("other_channel"),
        json!("user_channel_u1"),
        json!("user_channel_u2"),
        json!("ALL_CHANNEL"),
        json!(""),
        json!(123),
        Value::Null,
    ] {
        let frame = send(&token, channel.clone(), json!("hello"));
        let (status, body) = w.web.frame(&connection_id(), &frame).await;
        let alert = ja(Alert::ChannelNotSubscribed);
        let expected =
            json!({"action": "send_result", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (200, expected), "channel {channel}");
    }
    assert!(all_messages(&w.db).await.is_empty());
    assert_no_jobs(&w).await;
}

#[tokio::test]
async fn a_blank_body_is_422() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    for text in [json!(""), json!("   "), json!("\n\t \u{3000}"), Value::Null] {
        let frame = send(&token, json!("all_channel"), text.clone());
        let (status, body) = w.web.frame(&connection_id(), &frame).await;
        let alert = ja(Alert::BodyBlank);
        let expected =
            json!({"action": "send_result", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (422, expected), "body {text}");
    }
    assert!(all_messages(&w.db).await.is_empty());
    assert_no_jobs(&w).await;
}

#[tokio::test]
async fn a_body_longer_than_max_message_body_chars_is_422() {
    let w = world_with(WebOptions::default().with_env("MAX_MESSAGE_BODY_CHARS", 10)).await;
    let token = w.web.user_token("u1").await;
    for text in ["a".repeat(11), "あ".repeat(11), "😀".repeat(11)] {
        let frame = send(&token, json!("all_channel"), json!(text));
        let (status, body) = w.web.frame(&connection_id(), &frame).await;
        let alert = ja(Alert::BodyTooLong);
        let expected =
            json!({"action": "send_result", "success": false, "alert": alert, "data": frame});
        assert_eq!(
            (status, body),
            (422, expected),
            "{} characters",
            text.chars().count()
        );
    }
    assert!(all_messages(&w.db).await.is_empty());
    assert_no_jobs(&w).await;
    // Exactly the maximum, counted in characters, not bytes: stored.
    let frame = send(&token, json!("all_channel"), json!("あ".repeat(10)));
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "{body}");
    assert_stored_and_broadcast(&w, "all_channel", "all_channel", &"あ".repeat(10)).await;
}

#[tokio::test]
async fn the_default_maximum_body_fits_and_one_more_character_does_not() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let frame = send(&token, json!("all_channel"), json!("x".repeat(4_001)));
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(
        (status, &body["alert"]),
        (422, &json!(ja(Alert::BodyTooLong)))
    );
    let frame = send(&token, json!("all_channel"), json!("x".repeat(4_000)));
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unknown_or_missing_method_is_404() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let id = connection_id();
    w.web.authenticate(&id, &token).await;
    let before = Snapshot::take(&w.env, &w.db).await;
    for frame in [
        json!({"token": token}),
        json!({"token": token, "method": null}),
        json!({"token": token, "method": "delete_everything"}),
        json!({"token": token, "method": ""}),
        json!({"token": token, "method": "AUTH_REQUEST"}),
    ] {
        let (status, body) = w.web.frame(&id, &frame).await;
        assert_eq!(status, 404, "{frame}: {body}");
        assert_eq!(body["success"], false, "{frame}");
        assert_eq!(body["alert"], ja(Alert::RequestUnknownMethod), "{frame}");
    }
    let after = Snapshot::take(&w.env, &w.db).await;
    assert_eq!(
        (after.messages, after.default_jobs),
        (before.messages, before.default_jobs)
    );
    assert_eq!(after.low_priority_jobs, 0);
}

#[tokio::test]
async fn locale_en_gives_english_alerts_and_names() {
    let w = world_with(WebOptions {
        locale: "en".to_owned(),
        ..WebOptions::default()
    })
    .await;
    let (_, body) = w.web.disconnect(&connection_id()).await;
    assert_eq!(body["alert"], en(Alert::ConnectionIdNotFound));
    let (_, body) = w.web.connect(&connection_id(), Some("h")).await;
    assert_eq!(body["alert"], en(Alert::OriginInvalid));
    let frame = json!({"method": "auth_request", "token": ""});
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(
        (status, &body["alert"]),
        (422, &json!("The token is missing."))
    );
    let token = w.web.user_token("u1").await;
    let frame = send(&token, json!("all_channel"), json!("hi"));
    assert_eq!(w.web.frame(&connection_id(), &frame).await.0, 200);
    let frame = json!({"method": "get_messages", "token": token});
    let (_, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(body["messages"][0]["channel_i18n"], "Everyone");
}
