//! SPEC §11: `ADMIN_ADDR` moves `/metrics`, `/api/*`, `/admin` and `/demo` to a second
//! listener; the public one then answers only the callbacks, `/cable` and the probes.

use e2e::WebOptions;
use e2e::cable_client::CableClient;
use e2e::web::{ADMIN_API_KEY, ALLOWED_ORIGIN};
use serde_json::json;
use shared::i18n::Alert;

use crate::common::{connection_id, ja, world, world_with};

/// The operators' routes, as a method and a path.
const OPERATOR_ROUTES: [(&str, &str); 7] = [
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/api/queues"),
    ("POST", "/api/ws_tokens"),
    ("GET", "/admin"),
    ("GET", "/demo"),
];

#[tokio::test]
async fn with_admin_addr_operators_routes_are_only_on_the_admin_listener() {
    let w = world_with(WebOptions::default().with_env("ADMIN_ADDR", "127.0.0.1:0")).await;
    let admin = w
        .web
        .admin_base_url()
        .expect("web prints its admin listener");
    assert_ne!(admin, w.web.base_url());
    let http = w.web.http();

    // Public: the callbacks, /cable and the probes answer; the operators' routes do not exist.
    assert_eq!(
        w.web
            .connect(&connection_id(), Some(ALLOWED_ORIGIN))
            .await
            .0,
        200
    );
    assert_eq!(w.web.get("/healthz").await.0, 200);
    let (status, ready) = w.web.get("/readyz").await;
    assert!(status == 200 || status == 503, "{status} {ready}");
    assert!(ready.get("database").is_some(), "{ready}");
    CableClient::welcomed(&w.web.cable_url(), ALLOWED_ORIGIN).await;
    for (method, path) in OPERATOR_ROUTES {
        let request = http
            .request(method.parse().unwrap(), w.web.url(path))
            .bearer_auth(ADMIN_API_KEY)
            .json(&json!({}));
        let (status, body) = w.web.send(request).await;
        assert_eq!(status, 404, "public {method} {path}: {body}");
        assert_eq!(body["alert"], ja(Alert::RequestNotFound));
    }

    // Admin: the API, its description and /metrics; nothing public.
    let (status, doc) = w
        .web
        .send(http.get(format!("{admin}/api/openapi.json")))
        .await;
    assert_eq!(status, 200, "{doc}");
    let issue = http
        .post(format!("{admin}/api/ws_tokens"))
        .bearer_auth(ADMIN_API_KEY)
        .json(&json!({}));
    let (status, token) = w.web.send(issue).await;
    assert_eq!(status, 201, "{token}");
    let docs = http.get(format!("{admin}/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let metrics = http.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("web_requests_total"), "{text}");
    for (method, path) in [
        ("POST", "/ws_apigateway/connect"),
        ("POST", "/ws_apigateway/default"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/cable"),
    ] {
        let request = http.request(method.parse().unwrap(), format!("{admin}{path}"));
        let (status, body) = w.web.send(request).await;
        assert_eq!(status, 404, "admin {method} {path}: {body}");
    }
}

#[tokio::test]
async fn without_admin_addr_one_listener_answers_everything() {
    let w = world().await;
    assert_eq!(w.web.admin_base_url(), None);
    assert_eq!(
        w.web
            .connect(&connection_id(), Some(ALLOWED_ORIGIN))
            .await
            .0,
        200
    );
    assert_eq!(w.web.get("/healthz").await.0, 200);
    assert_eq!(w.web.get("/api/openapi.json").await.0, 200);
    let (status, body) = w.web.post_token(&json!({})).await;
    assert_eq!(status, 201, "{body}");
    let metrics = w
        .web
        .http()
        .get(w.web.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
}

#[tokio::test]
async fn a_bad_admin_addr_stops_start_up_naming_the_variable() {
    let env = e2e::TestEnv::postgres().await;
    let options = WebOptions::default().with_env("ADMIN_ADDR", "not-an-address");
    let command = e2e::WebApp::command(&env, &options);
    let finished = e2e::process::run_to_exit(
        command,
        Vec::<String>::new(),
        std::time::Duration::from_secs(30),
    )
    .await;
    assert!(!finished.success);
    assert!(finished.stderr.contains("ADMIN_ADDR"), "{finished:?}");
}
