//! The embedded SQLite database: a representative part of the callbacks, which must behave
//! as they do on PostgreSQL.

use e2e::fixtures::{all_messages, reply_ids, token};
use e2e::redis::DEFAULT_QUEUE;
use e2e::web::ALLOWED_ORIGIN;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{assert_one_delete_job, connection_id, ja, sqlite_world, timed};

#[tokio::test]
async fn sqlite_connect_checks_the_connection_id_and_the_origin() {
    let w = sqlite_world().await;
    let (status, body) = w.web.connect(&connection_id(), Some(ALLOWED_ORIGIN)).await;
    assert_eq!(
        (status, body),
        (200, json!({"action": "connect", "success": true}))
    );
    let (status, _) = w.web.connect(&connection_id(), Some("h")).await;
    assert_eq!(status, 422);
    let (status, _) = w.web.connect(&"a".repeat(256), Some(ALLOWED_ORIGIN)).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn sqlite_auth_send_and_history() {
    let w = sqlite_world().await;
    let code = w.web.user_token("u1").await;
    let id = connection_id();
    w.web.authenticate(&id, &code).await;
    let stored = token(&w.db, &code).await;
    assert_eq!(stored.connection_id.as_deref(), Some(id.as_str()));
    assert_eq!(stored.last_status.as_deref(), Some("success"));
    assert!(stored.auth_successed_at.is_some() && stored.started_at.is_some());

    for (channel, text) in [("all_channel", "to all"), ("user_channel", "to me")] {
        let frame =
            json!({"method": "send_message", "token": code, "channel": channel, "body": text});
        let (status, body) = w.web.frame(&id, &frame).await;
        assert_eq!(
            (status, body),
            (
                200,
                json!({"action": "send_result", "success": true, "data": frame})
            )
        );
    }
    // The frames after the first write their time behind the answer, batched.
    e2e::wait_until(std::time::Duration::from_secs(5), || async {
        token(&w.db, &code).await.last_auth_successed_at > stored.last_auth_successed_at
    })
    .await
    .expect("last_auth_successed_at written on SQLite");
    let messages = all_messages(&w.db).await;
    let channels: Vec<&str> = messages.iter().map(|m| m.channel.as_str()).collect();
    assert_eq!(channels, ["all_channel", "user_channel_u1"]);
    assert_eq!(w.env.redis.waiting(DEFAULT_QUEUE).await.len(), 2);

    let frame = json!({"method": "get_messages", "token": code});
    let (status, body) = w.web.frame(&id, &frame).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reply_ids(&body),
        messages.iter().map(|m| m.id).collect::<Vec<_>>()
    );
    let frame = json!({"method": "get_messages", "token": code, "last_id": messages[0].id});
    let (_, body) = w.web.frame(&id, &frame).await;
    assert_eq!(reply_ids(&body), vec![messages[1].id]);

    let guest = w.web.issue_token(None).await;
    let frame = json!({"method": "get_messages", "token": guest});
    let (_, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(
        reply_ids(&body),
        vec![messages[0].id],
        "a guest reads all_channel only"
    );
}

#[tokio::test]
async fn sqlite_a_refused_token_is_recorded_and_closed_later() {
    let w = sqlite_world().await;
    let frame = json!({"method": "auth_request", "token": "unknown"});
    let id = connection_id();
    let ((status, body), sent) = timed(w.web.frame(&id, &frame)).await;
    let alert = ja(Alert::TokenNotFound);
    let expected =
        json!({"action": "auth_result", "success": false, "alert": alert, "data": frame});
    assert_eq!((status, body), (422, expected));
    assert_one_delete_job(&w, &id, 5, sent).await;
}

#[tokio::test]
async fn sqlite_disconnect_marks_the_token_and_is_idempotent() {
    let w = sqlite_world().await;
    let (status, body) = w.web.disconnect(&connection_id()).await;
    assert_eq!(
        (status, &body["alert"]),
        (200, &json!(ja(Alert::ConnectionIdNotFound)))
    );
    let code = w.web.issue_token(None).await;
    let id = connection_id();
    w.web.authenticate(&id, &code).await;
    for _ in 0..2 {
        let (status, body) = w.web.disconnect(&id).await;
        assert_eq!(
            (status, body),
            (200, json!({"action": "disconnect", "success": true}))
        );
        assert_eq!(
            token(&w.db, &code).await.last_status.as_deref(),
            Some("unsubscribed")
        );
    }
}
