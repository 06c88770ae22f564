//! SPEC §1 headers, `$connect` and `$disconnect`: routes, connection ids, origins, the
//! gateway secret.

use e2e::WebOptions;
use e2e::fixtures::{token, token_on};
use e2e::web::ALLOWED_ORIGIN;
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{connection_id, ja, world, world_with};

const ROUTES: [&str; 3] = ["connect", "disconnect", "default"];

#[tokio::test]
async fn the_three_routes_and_their_json_twins_answer_json() {
    let w = world().await;
    let token = w.web.issue_token(None).await;
    for suffix in ["", ".json"] {
        let id = connection_id();
        let request = w.web.callback(&format!("connect{suffix}"), Some(&id));
        let (status, body) = w.web.send(request.header("origin", ALLOWED_ORIGIN)).await;
        assert_eq!(
            (status, body),
            (200, json!({"action": "connect", "success": true}))
        );

        let frame = json!({"method": "auth_request", "token": token});
        let request = w.web.callback(&format!("default{suffix}"), Some(&id));
        let (status, body) = w.web.send(request.body(frame.to_string())).await;
        let expected = json!({"action": "auth_result", "success": true, "data": frame});
        assert_eq!((status, body), (200, expected), "default{suffix}");

        let request = w.web.callback(&format!("disconnect{suffix}"), Some(&id));
        let (status, body) = w.web.send(request).await;
        assert_eq!(
            (status, body),
            (200, json!({"action": "disconnect", "success": true}))
        );
    }
}

#[tokio::test]
async fn a_missing_or_blank_connection_id_is_400_on_every_callback() {
    let w = world().await;
    for route in ROUTES {
        for id in [None, Some(""), Some("   ")] {
            let request = w.web.callback(route, id).header("origin", ALLOWED_ORIGIN);
            let (status, body) = w.web.send(request.body("{}")).await;
            assert_eq!(status, 400, "{route} with {id:?}: {body}");
            assert_eq!(body["success"], false);
            assert_eq!(body["alert"], ja(Alert::ConnectionIdBlank), "{route}");
        }
    }
}

#[tokio::test]
async fn a_connection_id_of_256_characters_is_422_and_255_is_accepted() {
    let w = world().await;
    let too_long = "a".repeat(256);
    for route in ROUTES {
        let request = w
            .web
            .callback(route, Some(&too_long))
            .header("origin", ALLOWED_ORIGIN);
        let (status, body) = w.web.send(request.body("{}")).await;
        assert_eq!(status, 422, "{route}: {body}");
        assert_eq!(body["alert"], ja(Alert::ConnectionIdInvalid), "{route}");
    }
    let longest = "b".repeat(255);
    let (status, body) = w.web.connect(&longest, Some(ALLOWED_ORIGIN)).await;
    assert_eq!(status, 200, "{body}");
    let code = w.web.issue_token(None).await;
    w.web.authenticate(&longest, &code).await;
    assert_eq!(
        token(&w.db, &code).await.connection_id.as_deref(),
        Some(longest.as_str())
    );
    let (status, body) = w.web.disconnect(&longest).await;
    assert_eq!(
        (status, body),
        (200, json!({"action": "disconnect", "success": true}))
    );
}

#[tokio::test]
async fn header_names_are_case_insensitive() {
    let w = world().await;
    for (id_header, origin_header) in [
        ("connectionId", "origin"),
        ("CONNECTIONID", "ORIGIN"),
        ("connectionid", "Origin"),
        ("ConnectionID", "oRiGiN"),
    ] {
        let request = format!(
            "POST /ws_apigateway/connect HTTP/1.1\r\nHost: web\r\n{id_header}: c-{id_header}\r\n\
             {origin_header}: {ALLOWED_ORIGIN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let (status, body) = w.web.raw_http(&request).await;
        assert_eq!(status, 200, "{id_header}/{origin_header}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(body, json!({"action": "connect", "success": true}));
    }
}

#[tokio::test]
async fn connect_without_an_origin_is_400() {
    let w = world().await;
    for origin in [None, Some(""), Some("  ")] {
        let (status, body) = w.web.connect(&connection_id(), origin).await;
        assert_eq!(status, 400, "{origin:?}: {body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["alert"], ja(Alert::OriginBlank));
    }
}

#[tokio::test]
async fn origins_outside_the_allowlist_are_422_and_never_a_pattern() {
    let w = world().await;
    for origin in [
        "h",
        ".",
        ".*",
        "*",
        "null",
        "http",
        "http://allowed.example.evil.com",
        "http://evil.com/?http://allowed.example",
        "http://allowed.example:8080",
        "https://allowed.example",
        "ws://allowed.example",
        "http://allowed.examplex",
        "http://xallowed.example",
        "https://*.example.com",
    ] {
        let (status, body) = w.web.connect(&connection_id(), Some(origin)).await;
        assert_eq!(status, 422, "{origin} must be refused: {body}");
        assert_eq!(body["success"], false, "{origin}");
        assert_eq!(body["alert"], ja(Alert::OriginInvalid), "{origin}");
    }
    // The operator learns why: API Gateway tells the client only that the handshake failed.
    let logged = || async {
        let logs = w.web.logs().text();
        logs.contains("connect refused reason=OriginInvalid")
            && logs.contains(r#"origin="http://allowed.example.evil.com""#)
    };
    e2e::wait_until(std::time::Duration::from_secs(10), logged)
        .await
        .unwrap_or_else(|_| panic!("refusals are logged:\n{}", w.web.logs().text()));
}

#[tokio::test]
async fn the_exact_allowed_origin_connects() {
    let w = world().await;
    let (status, body) = w.web.connect(&connection_id(), Some(ALLOWED_ORIGIN)).await;
    assert_eq!(
        (status, body),
        (200, json!({"action": "connect", "success": true}))
    );
}

#[tokio::test]
async fn a_wildcard_allows_exactly_one_dns_label() {
    let options = WebOptions {
        allowed_origins: "https://*.example.com".to_owned(),
        ..WebOptions::default()
    };
    let w = world_with(options).await;
    let (status, body) = w
        .web
        .connect(&connection_id(), Some("https://app.example.com"))
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"action": "connect", "success": true}))
    );
    for origin in [
        "https://a.b.example.com",
        "https://example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://app.example.com.evil.com",
        "https://appexample.com",
    ] {
        let (status, body) = w.web.connect(&connection_id(), Some(origin)).await;
        assert_eq!(status, 422, "{origin} must be refused: {body}");
        assert_eq!(body["alert"], ja(Alert::OriginInvalid));
    }
}

#[tokio::test]
async fn with_a_gateway_secret_every_callback_needs_it() {
    let secret = "gw-secret-5f1d";
    let w = world_with(WebOptions {
        gateway_secret: Some(secret.to_owned()),
        ..WebOptions::default()
    })
    .await;
    let code = w.web.issue_token(None).await;
    let frame = json!({"method": "auth_request", "token": code}).to_string();
    let id = connection_id();
    let url = |route: &str| w.web.url(&format!("/ws_apigateway/{route}"));
    for route in ROUTES {
        for presented in [
            None,
            Some(""),
            Some("wrong"),
            Some("gw-secret-5f1"),
            Some("gw-secret-5f1dx"),
        ] {
            let mut request = w.web.http().post(url(route)).header("connectionId", &id);
            request = request.header("origin", ALLOWED_ORIGIN).body(frame.clone());
            if let Some(presented) = presented {
                request = request.header("x-gateway-secret", presented);
            }
            let (status, body) = w.web.send(request).await;
            assert_eq!(status, 401, "{route} with {presented:?}: {body}");
            assert_eq!(body["success"], false);
            assert_eq!(body["alert"], ja(Alert::GatewaySecretInvalid));
        }
    }
    assert_eq!(
        token(&w.db, &code).await.last_status,
        None,
        "refused frames change nothing"
    );
    for route in ROUTES {
        let request = w.web.http().post(url(route)).header("connectionId", &id);
        let request = request.header("origin", ALLOWED_ORIGIN).body(frame.clone());
        let (status, body) = w.web.send(request.header("X-Gateway-Secret", secret)).await;
        assert_eq!(status, 200, "{route} with the secret: {body}");
        assert_eq!(body["success"], true, "{route}");
    }
}

#[tokio::test]
async fn disconnect_of_an_unknown_connection_is_200_with_an_alert() {
    let w = world().await;
    let (status, body) = w.web.disconnect(&connection_id()).await;
    let alert = ja(Alert::ConnectionIdNotFound);
    let expected = json!({"action": "disconnect", "success": true, "alert": alert});
    assert_eq!((status, body), (200, expected));
}

#[tokio::test]
async fn disconnect_marks_the_bound_token_unsubscribed_and_is_idempotent() {
    let w = world().await;
    let code = w.web.user_token("u1").await;
    let other = w.web.user_token("u2").await;
    let (id, other_id) = (connection_id(), connection_id());
    w.web.authenticate(&id, &code).await;
    w.web.authenticate(&other_id, &other).await;
    for _ in 0..2 {
        let (status, body) = w.web.disconnect(&id).await;
        assert_eq!(
            (status, body),
            (200, json!({"action": "disconnect", "success": true}))
        );
        let bound = token_on(&w.db, &id).await.expect("still bound");
        assert_eq!(bound.code, code);
        assert_eq!(bound.last_status.as_deref(), Some("unsubscribed"));
    }
    let untouched = token(&w.db, &other).await;
    assert_eq!(
        untouched.last_status.as_deref(),
        Some("success"),
        "other connections keep theirs"
    );
}
