//! SPEC §4 admin API: `PUT /api/users/{code}` and `POST /api/ws_tokens`, behind the bearer
//! `ADMIN_API_KEY`, off without one.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use e2e::WebOptions;
use e2e::fixtures::{Snapshot, token, user};
use e2e::web::WebApp;
use reqwest::{Method, RequestBuilder};
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{ja, world, world_with};

/// Both admin endpoints with a valid body, and `authorization` as that header when given.
fn admin_requests(web: &WebApp, authorization: Option<&str>) -> Vec<(String, RequestBuilder)> {
    let requests = [
        (Method::PUT, "/api/users/u1", json!({"name": "Alice"})),
        (Method::POST, "/api/ws_tokens", json!({})),
    ];
    requests
        .into_iter()
        .map(|(method, path, body)| {
            let mut request = web
                .http()
                .request(method.clone(), web.url(path))
                .json(&body);
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            (format!("{method} {path}"), request)
        })
        .collect()
}

#[tokio::test]
async fn without_an_admin_api_key_the_admin_api_is_off() {
    let w = world_with(WebOptions {
        admin_api_key: None,
        ..WebOptions::default()
    })
    .await;
    let before = Snapshot::take(&w.env, &w.db).await;
    for bearer in [None, Some(""), Some("anything")] {
        let authorization = bearer.map(|bearer| format!("Bearer {bearer}"));
        for (name, request) in admin_requests(&w.web, authorization.as_deref()) {
            let (status, reply) = w.web.send(request).await;
            assert_eq!(status, 404, "{name} with {bearer:?}: {reply}");
            assert_eq!(reply["success"], false);
        }
    }
    assert_eq!(Snapshot::take(&w.env, &w.db).await, before);
}

#[tokio::test]
async fn a_wrong_or_missing_bearer_is_401() {
    let w = world().await;
    let wrong = [
        None,
        Some("Bearer wrong".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Bearer {}x", e2e::web::ADMIN_API_KEY)),
        Some(format!("Basic {}", e2e::web::ADMIN_API_KEY)),
        Some(e2e::web::ADMIN_API_KEY.to_owned()),
    ];
    for authorization in wrong {
        for (name, request) in admin_requests(&w.web, authorization.as_deref()) {
            let (status, reply) = w.web.send(request).await;
            assert_eq!(status, 401, "{name} with {authorization:?}: {reply}");
            assert_eq!(reply["alert"], ja(Alert::AdminUnauthorized));
        }
    }
    let nothing = Snapshot::take(&w.env, &w.db).await;
    assert!(nothing.users.is_empty() && nothing.tokens.is_empty());
}

#[tokio::test]
async fn put_user_creates_then_updates() {
    let w = world().await;
    let (status, body) = w
        .web
        .put_user("u-1_A", "Alice", Some("/uploads/a.png"))
        .await;
    let created = json!({"code": "u-1_A", "name": "Alice", "image": "/uploads/a.png"});
    assert_eq!((status, body), (201, created));
    let stored = user(&w.db, "u-1_A").await;
    assert_eq!(
        (stored.name.as_str(), stored.image_path.as_deref()),
        ("Alice", Some("/uploads/a.png"))
    );

    let (status, body) = w.web.put_user("u-1_A", "Alice B.", None).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"code": "u-1_A", "name": "Alice B.", "image": null})
        )
    );
    let updated = user(&w.db, "u-1_A").await;
    assert_eq!(
        (updated.id, updated.name.as_str(), updated.image_path),
        (stored.id, "Alice B.", None)
    );
    assert_eq!(Snapshot::take(&w.env, &w.db).await.users.len(), 1);
}

#[tokio::test]
async fn an_invalid_user_code_or_a_blank_name_is_400() {
    let w = world().await;
    for code in ["bad.code", "a%20b", "%E3%81%82", &"x".repeat(65)] {
        let (status, body) = w.web.put_user(code, "Alice", None).await;
        assert_eq!(status, 400, "code {code}: {body}");
        assert_eq!(body["success"], false);
    }
    for name in ["", "   "] {
        let (status, body) = w.web.put_user("u1", name, None).await;
        assert_eq!(status, 400, "name {name:?}: {body}");
        assert_eq!(body["alert"], ja(Alert::UserNameBlank));
    }
    for body in [
        json!({}),
        json!({"name": null}),
        json!({"name": 5}),
        json!([]),
    ] {
        let request = w.web.admin(Method::PUT, "/api/users/u1").json(&body);
        let (status, reply) = w.web.send(request).await;
        assert_eq!(status, 400, "{body}: {reply}");
    }
    assert!(Snapshot::take(&w.env, &w.db).await.users.is_empty());
}

#[tokio::test]
async fn a_token_for_a_user_is_201_long_random_and_unique() {
    let w = world().await;
    w.web.put_user("u1", "Alice", None).await;
    let (status, body) = w.web.post_token(&json!({"user_code": "u1"})).await;
    assert_eq!(status, 201, "{body}");
    let code = body["token"].as_str().expect("token").to_owned();
    assert!(code.len() >= 32, "at least 128 bits as hex: {code}");
    assert!(code.chars().all(|c| c.is_ascii_hexdigit()), "{code}");
    assert_eq!(body["user_code"], "u1");
    let stored = token(&w.db, &code).await;
    assert_eq!(stored.user_id, Some(user(&w.db, "u1").await.id));
    assert_eq!(
        (
            stored.connection_id,
            stored.last_status,
            stored.auth_successed_at
        ),
        (None, None, None)
    );
    let created_at: DateTime<Utc> = body["created_at"].as_str().unwrap().parse().unwrap();
    let expires_at: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        expires_at - created_at,
        Duration::hours(24),
        "TOKEN_EXPIRED_HOURS default"
    );

    let mut seen = HashSet::from([code]);
    for _ in 0..200 {
        let next = w.web.issue_token(Some("u1")).await;
        assert!(next.len() >= 32);
        assert!(seen.insert(next), "tokens never repeat");
    }
}

#[tokio::test]
async fn an_empty_object_issues_a_guest_token() {
    let w = world().await;
    for body in [json!({}), json!({"user_code": null})] {
        let (status, reply) = w.web.post_token(&body).await;
        assert_eq!(status, 201, "{body}: {reply}");
        assert_eq!(reply["user_code"], json!(null));
        let stored = token(&w.db, reply["token"].as_str().unwrap()).await;
        assert_eq!(stored.user_id, None, "a guest token");
    }
}

#[tokio::test]
async fn a_token_for_an_unknown_user_is_404() {
    let w = world().await;
    let (status, body) = w.web.post_token(&json!({"user_code": "ghost"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["alert"], ja(Alert::UserNotFound));
    assert!(Snapshot::take(&w.env, &w.db).await.tokens.is_empty());
}
