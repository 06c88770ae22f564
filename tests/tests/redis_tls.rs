//! `rediss://` against a real TLS-only `redis-server` whose certificate a private CA of the
//! test signed: with `REDIS_CA_FILE` the whole chat runs over TLS; without it every process
//! refuses the certificate with one clear line, and none hangs or panics. Bad Redis settings
//! stop start-up with a message naming the variable.

use std::time::Duration;

use e2e::chat_room::ChatRoom;
use e2e::process::run_to_exit;
use e2e::redis_tls::TlsRedisServer;
use e2e::stack::Stack;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use serde_json::json;

/// What every process says about the server's certificate without `REDIS_CA_FILE`.
const UNTRUSTED: &str = "certificate is not trusted (UnknownIssuer); set REDIS_CA_FILE";

#[tokio::test]
async fn a_chat_runs_over_tls_with_a_private_ca() {
    let redis = TlsRedisServer::start().await;
    let env = TestEnv::postgres().await;
    let url = redis.url();
    let ca = redis.ca_file().display().to_string();
    let redis_env = [("REDIS_URL", url.as_str()), ("REDIS_CA_FILE", ca.as_str())];
    let web_options = WebOptions {
        redis_url: Some(url.clone()),
        ..WebOptions::default()
    }
    .with_env("REDIS_CA_FILE", &ca)
    .with_env("DISCONNECT_DELAY_SECS", 2);
    let stack = Stack::start(&env, web_options, &redis_env).await;
    // Ready means the queue's connection and the Action Cable streams (pub/sub) answer.
    wait_until(Duration::from_secs(30), || async {
        stack.web.get("/readyz").await.0 == 200
    })
    .await
    .expect("web is ready over TLS");

    let mut room = ChatRoom::join(&stack, &["alice", "bob"]).await;
    for (from, body) in [(0, "hello over TLS"), (1, "and back")] {
        room.send(from, body).await;
        room.delivered(body).await;
    }
    let mut refused = stack.client().await;
    let reply = refused
        .request(
            &json!({"method": "auth_request", "token": "nope"}),
            "auth_result",
        )
        .await;
    assert_eq!(reply["success"], false);
    refused.closed(Duration::from_secs(60)).await;

    // The jobs went through the TLS server itself (no other Redis is involved).
    let mut connection = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("the test's own TLS client connects");
    let pushed: Option<u64> = redis::cmd("HGET")
        .arg(format!("{{{}:default}}:stats", env.redis.prefix()))
        .arg("pushed")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        pushed >= Some(2),
        "both broadcasts were queued on the TLS Redis: {pushed:?}"
    );

    let options = WorkerOptions::new(stack.emulator.management_endpoint())
        .with_env("REDIS_URL", &url)
        .with_env("REDIS_CA_FILE", &ca);
    let queues = run_to_exit(
        WorkerProcess::command(&env, &options),
        ["queues"],
        Duration::from_secs(30),
    )
    .await;
    assert!(queues.success, "{queues:?}");
    let counts: serde_json::Value = serde_json::from_str(queues.stdout.trim()).unwrap();
    assert!(counts["low_priority"].is_object(), "{counts}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_one_clear_line() {
    let redis = TlsRedisServer::start().await;
    let env = TestEnv::postgres().await;
    let web = WebApp::spawn(
        &env,
        WebOptions {
            redis_url: Some(redis.url()),
            ..WebOptions::default()
        },
    )
    .await;
    let readiness = std::cell::RefCell::new(json!(null));
    let refused = wait_until(Duration::from_secs(30), || {
        let (readiness, web) = (&readiness, &web);
        async move {
            let (status, body) = web.get("/readyz").await;
            let untrusted = body["redis_error"]
                .as_str()
                .is_some_and(|reason| reason.contains(UNTRUSTED));
            *readiness.borrow_mut() = body;
            status == 503 && untrusted
        }
    })
    .await;
    let readiness = readiness.into_inner();
    assert!(
        refused.is_ok(),
        "readiness: {readiness}\n{}",
        web.logs().text()
    );
    assert_eq!(readiness["redis"], "unreachable");
    wait_until(Duration::from_secs(10), || async {
        web.logs().text().lines().any(|line| {
            line.contains("Redis is unreachable; reconnecting in the background")
                && line.contains(UNTRUSTED)
        })
    })
    .await
    .unwrap_or_else(|_| panic!("web logs why:\n{}", web.logs().text()));

    let options = WorkerOptions {
        redis_url: Some(redis.url()),
        ..WorkerOptions::new("http://127.0.0.1:9/local")
    };
    let worker = WorkerProcess::launch(&env, &options);
    wait_until(Duration::from_secs(30), || async {
        worker.logs().text().lines().any(|line| {
            line.contains("Redis is unreachable; waiting for it") && line.contains(UNTRUSTED)
        })
    })
    .await
    .unwrap_or_else(|_| panic!("the worker logs why:\n{}", worker.logs().text()));

    let queues = run_to_exit(
        WorkerProcess::command(&env, &options),
        ["queues"],
        Duration::from_secs(30),
    )
    .await;
    assert!(!queues.success, "{queues:?}");
    assert!(
        queues.stderr.trim().lines().count() == 1 && queues.stderr.contains(UNTRUSTED),
        "{queues:?}"
    );
    for logs in [web.logs().text(), worker.logs().text()] {
        assert!(!logs.contains("panicked"), "{logs}");
    }
}

#[tokio::test]
async fn bad_redis_settings_stop_start_up_naming_the_variable() {
    let env = TestEnv::postgres().await;
    for (name, value) in [
        ("REDIS_CLUSTER", "maybe"),
        ("REDIS_CA_FILE", "/nonexistent/ca.pem"),
        ("REDIS_URL", "redis://127.0.0.1:1,redis://127.0.0.1:2"),
    ] {
        let options = WebOptions::default().with_env(name, value);
        let web = run_to_exit(
            WebApp::command(&env, &options),
            std::iter::empty::<&str>(),
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(web.code, Some(2), "web with {name}={value}: {web:?}");
        assert!(web.stderr.contains(&format!("invalid {name}")), "{web:?}");
        let worker_options = WorkerOptions::new("http://127.0.0.1:9/local").with_env(name, value);
        let worker = run_to_exit(
            WorkerProcess::command(&env, &worker_options),
            ["queues"],
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(
            worker.code,
            Some(2),
            "worker with {name}={value}: {worker:?}"
        );
        assert!(
            worker.stderr.contains(&format!("invalid {name}")),
            "{worker:?}"
        );
    }
}
