//! Hostile or broken requests: each gets a 4xx JSON answer, never a 5xx, and writes nothing
//! (no message, no token change, no job).

use e2e::WebOptions;
use e2e::fixtures::{Snapshot, token};
use reqwest::Method;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{World, assert_no_jobs, connection_id, ja, world, world_with};

/// A world with a user whose token is bound to a connection, and that connection's id.
async fn bound_world() -> (World, String, String) {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let id = connection_id();
    w.web.authenticate(&id, &code).await;
    (w, code, id)
}

/// Sends `body` as a `$default` frame on `id`: must answer `status` and write nothing.
async fn assert_refused_untouched(w: &World, id: &str, body: Vec<u8>, status: u16, alert: Alert) {
    let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
    let before = Snapshot::take(&w.env, &w.db).await;
    let (got, reply) = w.web.default(id, body).await;
    assert_eq!(got, status, "{shown:?}: {reply}");
    assert_eq!(reply["success"], false, "{shown:?}");
    assert_eq!(reply["alert"], ja(alert), "{shown:?}");
    assert_eq!(
        Snapshot::take(&w.env, &w.db).await,
        before,
        "{shown:?} wrote something"
    );
}

#[tokio::test]
async fn bodies_that_are_not_a_json_object_are_400() {
    let (w, _, id) = bound_world().await;
    for body in [
        "{\"method\":",
        "not json",
        "",
        "   ",
        "[]",
        "[1, 2]",
        "\"auth_request\"",
        "42",
        "null",
        "true",
        "{\"method\":\"auth_request\"} trailing",
    ] {
        assert_refused_untouched(&w, &id, body.into(), 400, Alert::RequestInvalidJson).await;
    }
}

#[tokio::test]
async fn deeply_nested_json_is_400() {
    let (w, _, id) = bound_world().await;
    let arrays = "[".repeat(10_000);
    assert_refused_untouched(&w, &id, arrays.into(), 400, Alert::RequestInvalidJson).await;
    let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_refused_untouched(&w, &id, closed.into(), 400, Alert::RequestInvalidJson).await;
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert_refused_untouched(&w, &id, objects.into(), 400, Alert::RequestInvalidJson).await;
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let (w, code, id) = bound_world().await;
    let mut body =
        format!("{{\"method\":\"auth_request\",\"token\":\"{code}\",\"x\":\"").into_bytes();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(b"\"}");
    assert_refused_untouched(&w, &id, body, 400, Alert::RequestInvalidJson).await;
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_400() {
    let (w, code, id) = bound_world().await;
    for frame in [
        json!({"method": "auth_request", "token": 123}),
        json!({"method": "auth_request", "token": [code]}),
        json!({"method": "auth_request", "token": {"code": code}}),
        json!({"method": 123, "token": code}),
        json!({"method": ["send_message"], "token": code, "channel": "all_channel", "body": "x"}),
    ] {
        let body = frame.to_string().into_bytes();
        assert_refused_untouched(&w, &id, body, 400, Alert::RequestInvalidField).await;
    }
}

#[tokio::test]
async fn a_2_mb_body_is_413() {
    let (w, code, id) = bound_world().await;
    for size in [2 * 1024 * 1024, 200 * 1024] {
        let text = "x".repeat(size);
        let frame = json!({"method": "send_message", "token": code, "channel": "all_channel", "body": text});
        let body = frame.to_string().into_bytes();
        assert_refused_untouched(&w, &id, body, 413, Alert::RequestTooLarge).await;
    }
}

#[tokio::test]
async fn a_non_numeric_last_id_is_400_and_writes_no_message_nor_job() {
    let (w, code, id) = bound_world().await;
    let frame = json!({"method": "get_messages", "token": code, "last_id": "abc"});
    let (status, body) = w.web.frame(&id, &frame).await;
    assert_eq!(
        (status, &body["action"]),
        (400, &json!("get_messages")),
        "{body}"
    );
    assert_eq!(body["alert"], ja(Alert::LastIdInvalid));
    let after = Snapshot::take(&w.env, &w.db).await;
    assert!(after.messages.is_empty());
    assert_no_jobs(&w).await;
    let stored = token(&w.db, &code).await;
    assert_eq!(stored.last_status.as_deref(), Some("success"));
    assert_eq!(stored.connection_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn other_http_methods_on_a_callback_are_405_json() {
    let (w, _, id) = bound_world().await;
    let before = Snapshot::take(&w.env, &w.db).await;
    for route in [
        "connect",
        "disconnect",
        "default",
        "connect.json",
        "disconnect.json",
        "default.json",
    ] {
        for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
            let url = w.web.url(&format!("/ws_apigateway/{route}"));
            let request = w
                .web
                .http()
                .request(method.clone(), url)
                .header("connectionId", &id);
            let (status, body) = w.web.send(request.body("{}")).await;
            assert_eq!(status, 405, "{method} {route}: {body}");
            assert_eq!(body["success"], false);
            assert_eq!(body["alert"], ja(Alert::RequestMethodNotAllowed));
        }
    }
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

#[tokio::test]
async fn an_unknown_path_is_404_json() {
    let (w, _, id) = bound_world().await;
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::POST, "/ws_apigateway/unknown"),
        (Method::POST, "/ws_apigateway/default.xml"),
        (Method::POST, "/ws_apigateway"),
        (Method::POST, "/ws_apigateway/default/extra"),
        (Method::POST, "/api/nope"),
    ] {
        let request = w.web.http().request(method.clone(), w.web.url(path));
        let (status, body) = w
            .web
            .send(request.header("connectionId", &id).body("{}"))
            .await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["alert"], ja(Alert::RequestNotFound), "{path}");
    }
}

#[tokio::test]
async fn a_nul_character_in_a_message_body_is_422_send_result() {
    let (w, code, id) = bound_world().await;
    for text in ["a\u{0}b", "\u{0}"] {
        let frame = json!({"method": "send_message", "token": code, "channel": "all_channel", "body": text});
        let (status, body) = w.web.frame(&id, &frame).await;
        let alert = ja(Alert::RequestNulCharacter);
        let expected =
            json!({"action": "send_result", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (422, expected), "{text:?}");
    }
    // The token authenticated (that is recorded); nothing was stored or enqueued.
    assert!(Snapshot::take(&w.env, &w.db).await.messages.is_empty());
    assert_no_jobs(&w).await;
}

/// A NUL in the token or the method is a malformed frame: 400, nothing recorded on any
/// token, no disconnect. The reply names the action it answers and echoes the frame.
#[tokio::test]
async fn a_nul_character_in_the_token_or_method_is_400_and_writes_nothing() {
    let (w, code, id) = bound_world().await;
    let alert = ja(Alert::RequestNulCharacter);
    for (method, action) in [
        ("auth_request", "auth_result"),
        ("get_messages", "auth_result"),
        ("send_message", "auth_result"),
    ] {
        for token in [format!("{code}\u{0}"), "\u{0}".to_owned()] {
            let frame =
                json!({"method": method, "token": token, "channel": "all_channel", "body": "x"});
            let before = Snapshot::take(&w.env, &w.db).await;
            let (status, body) = w.web.frame(&id, &frame).await;
            let expected =
                json!({"action": action, "success": false, "alert": alert, "data": frame});
            assert_eq!((status, body), (400, expected), "{method}");
            assert_eq!(Snapshot::take(&w.env, &w.db).await, before, "{method}");
        }
    }
    let frame = json!({"method": "auth_\u{0}request", "token": code});
    let before = Snapshot::take(&w.env, &w.db).await;
    let (status, body) = w.web.frame(&id, &frame).await;
    let expected = json!({"success": false, "alert": alert, "data": frame});
    assert_eq!((status, body), (400, expected));
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

#[tokio::test]
async fn nul_or_control_characters_in_admin_fields_are_400_and_write_nothing() {
    let w = world().await;
    w.web.put_user("u1", "Alice", None).await;
    let before = Snapshot::take(&w.env, &w.db).await;
    let cases = [
        ("u1", json!({"name": "Al\u{0}ice"}), Alert::UserNameInvalid),
        ("u1", json!({"name": "Al\nice"}), Alert::UserNameInvalid),
        (
            "u1",
            json!({"name": "a".repeat(256)}),
            Alert::UserNameInvalid,
        ),
        (
            "u1",
            json!({"name": "Alice", "image": "/a\u{0}.png"}),
            Alert::UserImageInvalid,
        ),
        (
            "u1",
            json!({"name": "Alice", "image": "/a\r\n.png"}),
            Alert::UserImageInvalid,
        ),
        ("u2", json!({"name": "\u{0}"}), Alert::UserNameInvalid),
        ("u%00", json!({"name": "Alice"}), Alert::RequestInvalidField),
    ];
    for (code, body, alert) in cases {
        let request = w
            .web
            .admin(Method::PUT, &format!("/api/users/{code}"))
            .json(&body);
        let (status, reply) = w.web.send(request).await;
        assert_eq!(status, 400, "{code} {body}: {reply}");
        assert_eq!(reply["alert"], ja(alert), "{code} {body}");
    }
    for user_code in ["u1\u{0}", "\u{0}", "a b"] {
        let (status, reply) = w.web.post_token(&json!({"user_code": user_code})).await;
        assert_eq!(status, 400, "{user_code:?}: {reply}");
        assert_eq!(reply["alert"], ja(Alert::RequestInvalidField));
    }
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

/// One rule for `limit` (README): any whole number is accepted, ≤ 0 meaning the default and
/// anything above the maximum the maximum, however large; anything else is 400.
#[tokio::test]
async fn every_whole_number_limit_is_accepted_and_anything_else_is_400() {
    let (w, code, id) = bound_world().await;
    let author = e2e::fixtures::user(&w.db, "u1").await.id;
    e2e::fixtures::insert_messages(&w.db, "all_channel", author, "m", 105).await;
    for (limit, expected) in [
        (json!(-1), 20),
        (json!(-1_000_000), 20),
        (json!(i64::MIN), 20),
        (json!(-1e30), 20),
        (json!("-3"), 20),
        (json!("-99999999999999999999"), 20),
        (json!(3.0), 3),
        (json!(u64::MAX), 100),
        (json!(1e30), 100),
        (json!("99999999999999999999"), 100),
    ] {
        let frame = json!({"method": "get_messages", "token": code, "limit": limit});
        let (status, body) = w.web.frame(&id, &frame).await;
        assert_eq!(status, 200, "limit {limit}: {body}");
        let count = body["messages"].as_array().map(Vec::len);
        assert_eq!(count, Some(expected), "limit {limit}");
    }
    let alert = ja(Alert::LimitInvalid);
    for limit in [
        json!(1.5),
        json!(-0.5),
        json!("1.5"),
        json!("ten"),
        json!(true),
        json!([5]),
        json!({}),
    ] {
        let frame = json!({"method": "get_messages", "token": code, "limit": limit});
        let (status, body) = w.web.frame(&id, &frame).await;
        let expected =
            json!({"action": "get_messages", "success": false, "alert": alert, "data": frame});
        assert_eq!((status, body), (400, expected), "limit {limit}");
    }
}

/// Errors of a frame's method carry its action and the frame, whatever their status: a
/// wrong-typed token (400), an unknown method (404, no action to name), a failure on our
/// side (503, here PostgreSQL being unreachable while the token is checked).
#[tokio::test]
async fn error_replies_to_a_frame_name_their_action_and_echo_the_frame() {
    let (w, code, id) = bound_world().await;
    let frame = json!({"method": "get_messages", "token": 5});
    let alert = ja(Alert::RequestInvalidField);
    let expected =
        json!({"action": "auth_result", "success": false, "alert": alert, "data": frame});
    assert_eq!(w.web.frame(&id, &frame).await, (400, expected));

    let frame = json!({"method": "nope", "token": code});
    let alert = ja(Alert::RequestUnknownMethod);
    let expected = json!({"success": false, "alert": alert, "data": frame});
    assert_eq!(w.web.frame(&id, &frame).await, (404, expected));

    let unreachable = "postgres://postgres@127.0.0.1:1/nowhere";
    let broken = world_with(WebOptions::default().with_env("DATABASE_URL", unreachable)).await;
    let frame = json!({"method": "get_messages", "token": code});
    let alert = ja(Alert::ServiceUnavailable);
    let expected =
        json!({"action": "auth_result", "success": false, "alert": alert, "data": frame});
    assert_eq!(broken.web.frame(&id, &frame).await, (503, expected));
}

#[tokio::test]
async fn connect_and_disconnect_failures_name_their_action() {
    let w = world().await;
    let (status, body) = w.web.connect("abc=", Some("https://evil.example")).await;
    let alert = ja(Alert::OriginInvalid);
    let expected = json!({"action": "connect", "success": false, "alert": alert});
    assert_eq!((status, body), (422, expected));
    let (status, body) = w.web.send(w.web.callback("disconnect", None)).await;
    let alert = ja(Alert::ConnectionIdBlank);
    let expected = json!({"action": "disconnect", "success": false, "alert": alert});
    assert_eq!((status, body), (400, expected));
}
