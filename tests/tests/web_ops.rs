//! SPEC §4 operating: the CLI, health and readiness, metrics, start-up configuration.

use std::time::Duration;

use e2e::fixtures::{token, user};
use e2e::process::run_to_exit;
use e2e::{TestEnv, WebApp, WebOptions, wait_until};
use serde_json::{Value, json};

use crate::common::{connection_id, world, world_with};

const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The last stdout line of a CLI command, as JSON.
fn printed_json(stdout: &str) -> Value {
    let line = stdout.lines().rev().find(|line| line.starts_with('{'));
    let line = line.unwrap_or_else(|| panic!("no JSON printed: {stdout}"));
    serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"))
}

#[tokio::test]
async fn the_cli_creates_users_and_issues_tokens() {
    let env = TestEnv::postgres().await;
    let options = WebOptions::default();
    let run =
        |args: Vec<&'static str>| run_to_exit(WebApp::command(&env, &options), args, EXIT_TIMEOUT);
    let made = run(vec![
        "user",
        "op-1",
        "--name",
        "Operator",
        "--image",
        "/u/op.png",
    ])
    .await;
    assert!(made.success, "{made:?}");
    let expected = json!({"code": "op-1", "name": "Operator", "image": "/u/op.png"});
    assert_eq!(printed_json(&made.stdout), expected);
    let renamed = run(vec!["user", "op-1", "--name", "Op"]).await;
    assert!(renamed.success, "{renamed:?}");
    assert_eq!(printed_json(&renamed.stdout)["name"], "Op");

    let issued = run(vec!["token", "--user", "op-1"]).await;
    assert!(issued.success, "{issued:?}");
    let issued = printed_json(&issued.stdout);
    assert_eq!(issued["user_code"], "op-1");
    let db = env.db.connect().await;
    let stored = token(&db, issued["token"].as_str().expect("a token")).await;
    assert_eq!(stored.user_id, Some(user(&db, "op-1").await.id));

    let guest = run(vec!["token"]).await;
    assert!(guest.success, "{guest:?}");
    let guest = printed_json(&guest.stdout);
    assert_eq!(
        token(&db, guest["token"].as_str().unwrap()).await.user_id,
        None
    );

    // The issued token works on the callbacks.
    let web = WebApp::spawn(&env, options.clone()).await;
    web.authenticate(&connection_id(), issued["token"].as_str().unwrap())
        .await;

    for bad in [
        vec!["token", "--user", "ghost"],
        vec!["user", "bad code", "--name", "X"],
    ] {
        let failed = run(bad.clone()).await;
        assert!(!failed.success, "{bad:?} must fail: {failed:?}");
    }
}

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_everything_is_up() {
    let w = world().await;
    let (status, body) = w.web.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    // The Action Cable streams subscribe in the background once web listens.
    let ready = || async { w.web.get("/readyz").await.0 == 200 };
    wait_until(Duration::from_secs(10), ready)
        .await
        .expect("/readyz turns 200");
    assert_eq!(
        w.web.get("/readyz").await,
        (
            200,
            json!({"database": "ok", "redis": "ok", "streams": "ok"})
        )
    );
}

#[tokio::test]
async fn readyz_is_503_when_redis_is_unreachable() {
    // Bound but never listening: connections are refused, and no other process of the test
    // run can take the port meanwhile.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let w = world_with(WebOptions {
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        ..WebOptions::default()
    })
    .await;
    let (status, body) = w.web.get("/healthz").await;
    assert_eq!(status, 200, "the process is up: {body}");
    let (status, body) = w.web.get("/readyz").await;
    assert_eq!(
        (status, &body["redis"]),
        (503, &json!("unreachable")),
        "{body}"
    );
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let w = world().await;
    w.web
        .connect(&connection_id(), Some(e2e::web::ALLOWED_ORIGIN))
        .await;
    let fetch = || async {
        let response = w
            .web
            .http()
            .get(w.web.url("/metrics"))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        (content_type, response.text().await.expect("a body"))
    };
    wait_until(Duration::from_secs(5), || async {
        fetch().await.1.contains("web_requests_total")
    })
    .await
    .expect("the request is counted");
    let (content_type, text) = fetch().await;
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(text.contains("# TYPE web_requests_total counter"), "{text}");
    let sample = text
        .lines()
        .find(|line| line.starts_with("web_requests_total{"))
        .unwrap();
    let value = sample.rsplit(' ').next().unwrap();
    assert!(value.parse::<f64>().is_ok(), "a numeric sample: {sample}");
}

#[tokio::test]
async fn metrics_labels_do_not_grow_with_arbitrary_paths() {
    let w = world().await;
    for n in 0..50 {
        let path = format!("/scan-{n}-{}", uuid::Uuid::new_v4().simple());
        let (status, _) = w.web.get(&path).await;
        assert_eq!(status, 404);
        w.web.put_user(&format!("user{n}"), "U", None).await;
    }
    let text = w
        .web
        .http()
        .get(w.web.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("/scan-"),
        "every unknown path became a time series:\n{text}"
    );
    assert!(
        !text.contains("/api/users/user4"),
        "one time series per user code:\n{text}"
    );
}

#[tokio::test]
async fn a_bad_configuration_value_stops_start_up_and_names_the_variable() {
    let env = TestEnv::postgres().await;
    for (variable, value) in [
        ("TOKEN_EXPIRED_HOURS", "abc"),
        ("TOKEN_EXPIRED_START_MINUTES", "-1"),
        ("ALLOWED_ORIGINS", "nonsense"),
        ("DEFAULT_MESSAGES_LIMIT", "0"),
        ("MAX_MESSAGES_LIMIT", "many"),
        ("DISCONNECT_DELAY_SECS", "5s"),
        ("LOCALE", "fr"),
        ("WEB_ADDR", "localhost"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("REDIS_URL", "nonsense"),
        ("BASE_IMAGE_URL", "not a url"),
    ] {
        let options = WebOptions::default().with_env(variable, value);
        let finished = run_to_exit(WebApp::command(&env, &options), ["serve"], EXIT_TIMEOUT).await;
        assert!(
            !finished.success,
            "{variable}={value} must stop start-up: {finished:?}"
        );
        assert!(
            finished.stderr.contains(variable),
            "{variable}: {}",
            finished.stderr
        );
        assert!(
            !finished.stdout.contains("listening"),
            "{variable}: {}",
            finished.stdout
        );
    }
}

#[tokio::test]
async fn sigterm_stops_web_cleanly() {
    let env = TestEnv::postgres().await;
    let mut web = WebApp::spawn(&env, WebOptions::default()).await;
    assert_eq!(web.get("/healthz").await.0, 200);
    web.signal("TERM");
    let status = tokio::time::timeout(EXIT_TIMEOUT, web.wait())
        .await
        .expect("web exits");
    assert!(status.success(), "{status:?}");
    let refused = web.http().get(web.url("/healthz")).send().await;
    assert!(refused.is_err(), "nothing listens any more");
}
