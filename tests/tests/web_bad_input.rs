//! Hostile or broken requests: each gets a 4xx JSON answer, never a 5xx, and writes nothing
//! (no message, no token change, no job).

use e2e::fixtures::{Snapshot, token};
use reqwest::Method;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{World, assert_no_jobs, connection_id, ja, world};

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
