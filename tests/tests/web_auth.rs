//! SPEC §1 `$default` authentication: success, reconnect, each error in its order, the
//! recorded status and the delayed DeleteConnectionJob.

use chrono::{Duration, Utc};
use e2e::fixtures::{Snapshot, set_token_created_at, token, token_on};
use e2e::{TestEnv, WebApp, WebOptions, wait_until};
use serde_json::{Value, json};
use shared::i18n::Alert;

use crate::common::{World, assert_one_delete_job, connection_id, ja, timed, world, world_with};

/// Sends `frame` on `id` and checks the refusal: 422, the exact body, one delete job.
async fn assert_refused(w: &World, id: &str, frame: &Value, alert: Alert, delay_secs: i64) {
    let ((status, body), sent) = timed(w.web.frame(id, frame)).await;
    let expected =
        json!({"action": "auth_result", "success": false, "alert": ja(alert), "data": frame});
    assert_eq!((status, body), (422, expected), "{frame}");
    assert_one_delete_job(w, id, delay_secs, sent).await;
}

#[tokio::test]
async fn auth_request_answers_auth_result_with_the_frame() {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let frame = json!({"method": "auth_request", "token": code, "extra": {"k": [1, "two"]}});
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    let expected = json!({"action": "auth_result", "success": true, "data": frame});
    assert_eq!((status, body), (200, expected));
}

#[tokio::test]
async fn the_first_success_binds_the_connection_and_records_it() {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let id = connection_id();
    let (_, sent) = timed(w.web.authenticate(&id, &code)).await;
    let stored = token(&w.db, &code).await;
    let within = |at: Option<chrono::DateTime<Utc>>| {
        let at = at.expect("set").timestamp_millis();
        (*sent.start() - 1..=*sent.end() + 1).contains(&at)
    };
    assert!(within(stored.auth_successed_at), "{stored:?}");
    assert!(within(stored.last_auth_successed_at), "{stored:?}");
    assert!(within(stored.started_at), "{stored:?}");
    assert_eq!(stored.last_status.as_deref(), Some("success"));
    assert_eq!(stored.connection_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn later_successes_keep_the_first_time_and_update_the_last() {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let id = connection_id();
    w.web.authenticate(&id, &code).await;
    let first = token(&w.db, &code).await;
    let (_, sent) = timed(w.web.authenticate(&id, &code)).await;
    // Written behind the answer, within AUTH_TIME_FLUSH_MS (100 ms).
    wait_until(Duration::seconds(5).to_std().unwrap(), || async {
        token(&w.db, &code).await.last_auth_successed_at > first.last_auth_successed_at
    })
    .await
    .expect("last_auth_successed_at written after the answer");
    let second = token(&w.db, &code).await;
    let at = second
        .last_auth_successed_at
        .expect("set")
        .timestamp_millis();
    assert!(
        (*sent.start() - 1..=*sent.end() + 1).contains(&at),
        "the frame's own time, not the write's: {second:?}"
    );
    assert_eq!(
        second.auth_successed_at, first.auth_successed_at,
        "set once"
    );
    assert!(
        second.last_auth_successed_at > first.last_auth_successed_at,
        "{second:?}"
    );
    assert_eq!(
        second.started_at, first.started_at,
        "same connection, same start"
    );
    assert_eq!(second.connection_id, first.connection_id);
    assert_eq!(second.last_status.as_deref(), Some("success"));
}

#[tokio::test]
async fn a_token_used_from_a_new_connection_moves_there() {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let (old, new) = (connection_id(), connection_id());
    w.web.authenticate(&old, &code).await;
    let before = token(&w.db, &code).await;
    w.web.authenticate(&new, &code).await;
    let after = token(&w.db, &code).await;
    assert_eq!(after.connection_id.as_deref(), Some(new.as_str()));
    assert!(
        after.started_at > before.started_at,
        "a new connection starts anew"
    );
    assert_eq!(after.auth_successed_at, before.auth_successed_at);
    assert!(
        token_on(&w.db, &old).await.is_none(),
        "nothing left on the old connection"
    );
    // A late $disconnect of the old connection leaves the new one alone.
    let (status, body) = w.web.disconnect(&old).await;
    assert_eq!(status, 200);
    assert_eq!(body["alert"], ja(Alert::ConnectionIdNotFound));
    assert_eq!(
        token(&w.db, &code).await.last_status.as_deref(),
        Some("success")
    );
}

#[tokio::test]
async fn a_blank_token_is_refused() {
    for token_field in [None, Some(json!("")), Some(json!("   ")), Some(Value::Null)] {
        let w = world().await;
        let mut frame = json!({"method": "auth_request"});
        if let Some(value) = token_field {
            frame["token"] = value;
        }
        assert_refused(&w, &connection_id(), &frame, Alert::TokenBlank, 5).await;
    }
}

#[tokio::test]
async fn a_different_token_on_a_bound_connection_is_refused() {
    let w = world().await;
    let (bound, other) = (w.web.user_token("u1").await, w.web.user_token("u2").await);
    let id = connection_id();
    w.web.authenticate(&id, &bound).await;
    let frame = json!({"method": "get_messages", "token": other});
    assert_refused(&w, &id, &frame, Alert::TokenDifferent, 5).await;
    assert_eq!(
        token(&w.db, &bound).await.connection_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        token(&w.db, &other).await.connection_id,
        None,
        "never bound"
    );
}

#[tokio::test]
async fn an_unknown_token_is_refused_as_notfound() {
    let w = world().await;
    w.web.user_token("u1").await;
    let before = Snapshot::take(&w.env, &w.db).await;
    let frame = json!({"method": "auth_request", "token": "f".repeat(64)});
    assert_refused(&w, &connection_id(), &frame, Alert::TokenNotFound, 5).await;
    assert_eq!(Snapshot::take(&w.env, &w.db).await.tokens, before.tokens);
}

#[tokio::test]
async fn an_unused_token_past_its_start_window_is_expired_start() {
    let w = world_with(WebOptions::default().with_env("TOKEN_EXPIRED_START_MINUTES", 10)).await;
    let code = w.web.user_token("u1").await;
    // Within the configured window (beyond the default of 5 minutes): accepted.
    set_token_created_at(&w.db, &code, Utc::now() - Duration::minutes(9)).await;
    let fresh = connection_id();
    w.web.authenticate(&fresh, &code).await;

    let late = w.web.user_token("u2").await;
    set_token_created_at(&w.db, &late, Utc::now() - Duration::minutes(11)).await;
    let frame = json!({"method": "auth_request", "token": late});
    assert_refused(&w, &connection_id(), &frame, Alert::TokenExpiredStart, 5).await;
    let stored = token(&w.db, &late).await;
    assert_eq!(stored.last_status.as_deref(), Some("expired_start"));
    assert_eq!(
        (stored.connection_id, stored.auth_successed_at),
        (None, None)
    );
}

#[tokio::test]
async fn a_used_token_past_its_life_is_expired_created() {
    let w = world_with(WebOptions::default().with_env("TOKEN_EXPIRED_HOURS", 2)).await;
    let code = w.web.user_token("u1").await;
    let id = connection_id();
    w.web.authenticate(&id, &code).await;
    set_token_created_at(&w.db, &code, Utc::now() - Duration::minutes(119)).await;
    w.web.authenticate(&id, &code).await;

    set_token_created_at(&w.db, &code, Utc::now() - Duration::minutes(121)).await;
    let frame = json!({"method": "get_messages", "token": code});
    assert_refused(&w, &id, &frame, Alert::TokenExpiredCreated, 5).await;
    assert_eq!(
        token(&w.db, &code).await.last_status.as_deref(),
        Some("expired_created")
    );
}

#[tokio::test]
async fn errors_are_checked_in_the_spec_order() {
    let w = world().await;
    let (bound, other) = (w.web.user_token("u1").await, w.web.user_token("u2").await);
    let id = connection_id();
    w.web.authenticate(&id, &bound).await;
    // blank before different: a bound connection with no token.
    let frame = json!({"method": "auth_request", "token": ""});
    let (status, body) = w.web.frame(&id, &frame).await;
    assert_eq!(
        (status, &body["alert"]),
        (422, &json!(ja(Alert::TokenBlank)))
    );
    // different before notfound: a bound connection with an unknown token.
    let frame = json!({"method": "auth_request", "token": "nope"});
    let (status, body) = w.web.frame(&id, &frame).await;
    assert_eq!(
        (status, &body["alert"]),
        (422, &json!(ja(Alert::TokenDifferent)))
    );
    // expired_start before expired_created: never used, issued beyond both limits.
    set_token_created_at(&w.db, &other, Utc::now() - Duration::hours(30)).await;
    let frame = json!({"method": "auth_request", "token": other});
    let (status, body) = w.web.frame(&connection_id(), &frame).await;
    assert_eq!(
        (status, &body["alert"]),
        (422, &json!(ja(Alert::TokenExpiredStart)))
    );
}

#[tokio::test]
async fn the_delete_job_waits_disconnect_delay_secs() {
    let w = world_with(WebOptions::default().with_env("DISCONNECT_DELAY_SECS", 30)).await;
    let frame = json!({"method": "auth_request", "token": "unknown"});
    assert_refused(&w, &connection_id(), &frame, Alert::TokenNotFound, 30).await;
}

#[tokio::test]
async fn a_refusal_comes_before_the_method_is_looked_at() {
    for method in [json!("send_message"), json!("no_such_method"), Value::Null] {
        let w = world().await;
        let frame =
            json!({"method": method, "token": "unknown", "channel": "all_channel", "body": "hi"});
        assert_refused(&w, &connection_id(), &frame, Alert::TokenNotFound, 5).await;
        assert!(e2e::fixtures::all_messages(&w.db).await.is_empty());
    }
}

#[tokio::test]
async fn sigterm_writes_the_auth_times_not_yet_written() {
    let env = TestEnv::postgres().await;
    // A flush interval no test waits for: only the one on shutdown can write the time.
    let options = WebOptions::default()
        .with_env("AUTH_TIME_FLUSH_MS", 60_000)
        .with_env("WEB_DRAIN_SECS", 0);
    let mut web = WebApp::spawn(&env, options).await;
    let db = env.db.connect().await;
    let code = web.user_token("u1").await;
    let id = connection_id();
    web.authenticate(&id, &code).await;
    let bound = token(&db, &code).await;
    web.authenticate(&id, &code).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        token(&db, &code).await.last_auth_successed_at,
        bound.last_auth_successed_at,
        "pending until a flush"
    );
    web.signal("TERM");
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), web.wait())
        .await
        .expect("web exits");
    assert!(status.success(), "{status:?}");
    let stored = token(&db, &code).await;
    assert!(
        stored.last_auth_successed_at > bound.last_auth_successed_at,
        "written on the way out: {stored:?}"
    );
}
