//! SPEC §1 `get_messages`: paging by `limit` or `last_id`, visibility, the `<message>` shape.

use chrono::{DateTime, FixedOffset};
use e2e::WebOptions;
use e2e::fixtures::{insert_message, insert_messages, reply_ids, soft_delete_message, user};
use serde_json::{Value, json};
use shared::i18n::Alert;

use crate::common::{assert_no_jobs, connection_id, ja, world, world_with};

fn small_limits() -> WebOptions {
    WebOptions::default()
        .with_env("DEFAULT_MESSAGES_LIMIT", 3)
        .with_env("MAX_MESSAGES_LIMIT", 5)
}

/// `get_messages` with `extra` fields; must succeed. Returns the reply.
async fn history(w: &crate::common::World, token: &str, extra: Value) -> Value {
    let mut frame = json!({"method": "get_messages", "token": token});
    frame
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(status, 200, "{frame}: {body}");
    assert_eq!(body["action"], "get_messages");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"], frame);
    body
}

#[tokio::test]
async fn without_last_id_the_newest_default_limit_come_oldest_first() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 25).await;
    let body = history(&w, &token, json!({})).await;
    assert_eq!(
        reply_ids(&body),
        ids[5..].to_vec(),
        "the newest 20, oldest first"
    );
    assert_eq!(body["unsent_count"], 0);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        5,
        "action, success, messages, unsent_count, data: {keys:?}"
    );
}

#[tokio::test]
async fn a_limit_below_one_means_the_default_and_above_the_maximum_is_capped() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 105).await;
    for (limit, expected) in [
        (json!(0), 20),
        (json!(-5), 20),
        (Value::Null, 20),
        (json!(1), 1),
        (json!(7), 7),
        (json!(100), 100),
        (json!(101), 100),
        (json!(1_000_000), 100),
    ] {
        let body = history(&w, &token, json!({"limit": limit})).await;
        assert_eq!(
            reply_ids(&body),
            ids[105 - expected..].to_vec(),
            "limit {limit}"
        );
        assert_eq!(body["unsent_count"], 0, "limit {limit}");
    }
}

#[tokio::test]
async fn the_configured_limits_are_honoured() {
    let w = world_with(small_limits()).await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 9).await;
    let body = history(&w, &token, json!({})).await;
    assert_eq!(reply_ids(&body), ids[6..].to_vec());
    let body = history(&w, &token, json!({"limit": 8})).await;
    assert_eq!(reply_ids(&body), ids[4..].to_vec());
}

#[tokio::test]
async fn with_last_id_only_newer_messages_come() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 10).await;
    let body = history(&w, &token, json!({"last_id": ids[6], "limit": 1})).await;
    assert_eq!(
        reply_ids(&body),
        ids[7..].to_vec(),
        "limit is ignored with last_id"
    );
    assert_eq!(body["unsent_count"], 0);
    let body = history(&w, &token, json!({"last_id": ids[9]})).await;
    assert_eq!(body["messages"], json!([]));
    assert_eq!(body["unsent_count"], 0);
}

#[tokio::test]
async fn with_last_id_beyond_the_maximum_the_newest_come_and_the_rest_are_counted() {
    let w = world_with(small_limits()).await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 14).await;
    let body = history(&w, &token, json!({"last_id": ids[1]})).await;
    assert_eq!(reply_ids(&body), ids[9..].to_vec(), "the newest 5 of 12");
    assert_eq!(body["unsent_count"], 7);
}

#[tokio::test]
async fn an_invalid_last_id_is_400() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    let id = connection_id();
    for last_id in [
        json!(0),
        json!(-1),
        json!("abc"),
        json!("0"),
        json!(1.5),
        json!(true),
        json!([1]),
    ] {
        let frame = json!({"method": "get_messages", "token": token, "last_id": last_id});
        let (status, body) = w.web.frame(&id, &frame).await;
        let alert = ja(Alert::LastIdInvalid);
        let expected =
            json!({"action": "get_messages", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (400, expected), "last_id {last_id}");
    }
    assert_no_jobs(&w).await;
}

#[tokio::test]
async fn a_guest_reads_all_channel_only() {
    let w = world().await;
    let guest = w.web.issue_token(None).await;
    w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let first = insert_message(&w.db, "all_channel", "hello all", author)
        .await
        .id;
    insert_message(&w.db, "user_channel_u1", "private", author).await;
    insert_message(&w.db, "other_channel", "elsewhere", author).await;
    let second = insert_message(&w.db, "all_channel", "again", author)
        .await
        .id;
    let body = history(&w, &guest, json!({})).await;
    assert_eq!(reply_ids(&body), vec![first, second]);
    let body = history(&w, &guest, json!({"last_id": first})).await;
    assert_eq!(reply_ids(&body), vec![second]);
}

#[tokio::test]
async fn a_user_reads_their_own_user_channel_but_not_another_users() {
    let w = world().await;
    let token = w.web.user_token("u1").await;
    w.web.user_token("u2").await;
    let (u1, u2) = (user(&w.db, "u1").await.id, user(&w.db, "u2").await.id);
    let first = insert_message(&w.db, "all_channel", "to all", u2).await.id;
    let all = insert_message(&w.db, "all_channel", "to all again", u2)
        .await
        .id;
    let own = insert_message(&w.db, "user_channel_u1", "mine", u1)
        .await
        .id;
    insert_message(&w.db, "user_channel_u2", "theirs", u2).await;
    insert_message(&w.db, "user_channel_u10", "prefix lookalike", u2).await;
    let body = history(&w, &token, json!({})).await;
    assert_eq!(reply_ids(&body), vec![first, all, own]);
    let body = history(&w, &token, json!({"last_id": first})).await;
    assert_eq!(reply_ids(&body), vec![all, own]);
}

#[tokio::test]
async fn soft_deleted_messages_never_appear() {
    let w = world_with(small_limits()).await;
    let token = w.web.user_token("u1").await;
    let author = user(&w.db, "u1").await.id;
    let ids = insert_messages(&w.db, "all_channel", author, "m", 9).await;
    for deleted in [ids[8], ids[5]] {
        soft_delete_message(&w.db, deleted).await;
    }
    let body = history(&w, &token, json!({})).await;
    assert_eq!(reply_ids(&body), vec![ids[4], ids[6], ids[7]]);
    let body = history(&w, &token, json!({"last_id": ids[0]})).await;
    assert_eq!(
        reply_ids(&body),
        vec![ids[2], ids[3], ids[4], ids[6], ids[7]]
    );
    assert_eq!(body["unsent_count"], 1, "deleted messages are not counted");
}

#[tokio::test]
async fn a_message_has_the_documented_shape() {
    let base = "https://img.example.test";
    let options = WebOptions::default()
        .with_env("BASE_IMAGE_URL", base)
        .with_env("TIME_ZONE_OFFSET", "+09:00");
    let w = world_with(options).await;
    let (status, _) = w
        .web
        .put_user("u1", "Alice", Some("/uploads/user/image/1/face.png"))
        .await;
    assert_eq!(status, 201);
    let token = w.web.issue_token(Some("u1")).await;
    let author = user(&w.db, "u1").await.id;
    let public = insert_message(&w.db, "all_channel", "hello <b>\"all\"</b>", author).await;
    let direct = insert_message(&w.db, "user_channel_u1", "just me", author).await;
    let body = history(&w, &token, json!({})).await;
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let zone = FixedOffset::east_opt(9 * 3600).unwrap();
    for ((message, stored), channel_i18n) in messages
        .iter()
        .zip([&public, &direct])
        .zip(["全体", "ユーザー"])
    {
        let created_at = message["created_at"].as_str().expect("created_at");
        let parsed = DateTime::parse_from_rfc3339(created_at).expect("RFC 3339");
        assert_eq!(
            parsed.offset(),
            &zone,
            "{created_at} is in TIME_ZONE_OFFSET"
        );
        assert_eq!(
            parsed.timestamp_millis(),
            stored.created_at.timestamp_millis()
        );
        let local = stored.created_at.with_timezone(&zone);
        let image = |size: &str| format!("{base}/uploads/user/image/1/{size}_face.png");
        let expected = json!({
            "id": stored.id,
            "channel": stored.channel,
            "channel_i18n": channel_i18n,
            "body": stored.body,
            "user": {"code": "u1", "name": "Alice", "image_url": {
                "mini": image("mini"), "small": image("small"), "medium": image("medium"),
                "large": image("large"), "xlarge": image("xlarge")}},
            "created_at": created_at,
            "created_at_i18n": local.format("%Y/%m/%d %H:%M:%S").to_string(),
        });
        assert_eq!(message, &expected);
    }
}

#[tokio::test]
async fn a_user_without_an_image_gets_an_absolute_default_per_size() {
    let base = "https://img.example.test";
    let w = world_with(WebOptions::default().with_env("BASE_IMAGE_URL", base)).await;
    let token = w.web.user_token("u1").await;
    insert_message(&w.db, "all_channel", "hi", user(&w.db, "u1").await.id).await;
    let body = history(&w, &token, json!({})).await;
    let urls = &body["messages"][0]["user"]["image_url"];
    let mut seen = Vec::new();
    for size in ["mini", "small", "medium", "large", "xlarge"] {
        let url = urls[size]
            .as_str()
            .unwrap_or_else(|| panic!("no {size} in {urls}"));
        assert!(
            url.starts_with(&format!("{base}/")),
            "{url} is absolute on BASE_IMAGE_URL"
        );
        assert!(url.contains(size), "{url} is the {size} default");
        seen.push(url.to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "one default per size: {urls}");
    assert_eq!(urls.as_object().unwrap().len(), 5);
}
