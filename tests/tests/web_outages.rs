//! Outages of Redis and PostgreSQL under a running (or starting) web: it never needs a
//! restart. The first request after Redis returns succeeds; web started while PostgreSQL is
//! down waits for it and becomes ready; a PostgreSQL outage is answered at once with a JSON
//! 503 instead of a 500 after a long wait.

use std::time::{Duration, Instant};

use e2e::postgres_server::PostgresServer;
use e2e::redis_server::RedisServer;
use e2e::{TestEnv, WebApp, WebOptions, wait_until};
use serde_json::{Value, json};
use shared::i18n::Alert;
use shared::queue::{QueueName, Queues, redis_connection};

use crate::common::{connection_id, ja};

/// Longer than the old connection's reconnection attempts lasted (about 10 s).
const REDIS_OUTAGE: Duration = Duration::from_secs(12);

fn send_message(token: &str, body: &str) -> Value {
    json!({"method": "send_message", "token": token, "channel": "all_channel", "body": body})
}

/// Jobs stored on `name` in `redis` (its own server, not the shared one).
async fn stored_jobs(redis: &RedisServer, env: &TestEnv, name: QueueName) -> u64 {
    let connection = redis_connection(&redis.url(), Duration::from_secs(5)).unwrap();
    let counts = Queues::new(connection, env.redis.prefix())
        .get(name)
        .counts()
        .await
        .expect("the restarted Redis answers");
    counts.waiting + counts.scheduled
}

/// web on a Redis of the test's own, with `alice` authenticated on a connection.
async fn web_on_own_redis(env: &TestEnv, redis: &RedisServer) -> (WebApp, String, String) {
    let options = WebOptions {
        redis_url: Some(redis.url()),
        ..WebOptions::default()
    };
    let web = WebApp::spawn(env, options).await;
    let token = web.user_token("alice").await;
    let id = connection_id();
    web.authenticate(&id, &token).await;
    let (status, body) = web.frame(&id, &send_message(&token, "before")).await;
    assert_eq!(status, 200, "{body}");
    (web, token, id)
}

#[tokio::test]
async fn the_first_send_after_a_quiet_redis_outage_succeeds() {
    let env = TestEnv::postgres().await;
    let mut redis = RedisServer::start().await;
    let (web, token, id) = web_on_own_redis(&env, &redis).await;

    redis.kill().await;
    // The outage itself is what is tested: nothing touches Redis while it lasts.
    tokio::time::sleep(REDIS_OUTAGE).await;
    redis.restart().await;

    let started = Instant::now();
    let (status, body) = web.frame(&id, &send_message(&token, "after")).await;
    eprintln!(
        "first send_message after a {REDIS_OUTAGE:?} outage: {status} in {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_jobs(&redis, &env, QueueName::Default).await, 1);
}

#[tokio::test]
async fn the_first_enqueue_after_a_busy_redis_outage_succeeds() {
    let env = TestEnv::postgres().await;
    let mut redis = RedisServer::start().await;
    let (web, token, id) = web_on_own_redis(&env, &redis).await;

    redis.kill().await;
    let down_at = Instant::now();
    let mut during = Vec::new();
    while down_at.elapsed() < REDIS_OUTAGE {
        let started = Instant::now();
        let (status, _) = web.frame(&id, &send_message(&token, "during")).await;
        let (ready, _) = web.get("/readyz").await;
        during.push((status, ready, started.elapsed()));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("during the outage (send_message, /readyz, time): {during:?}");
    assert!(
        during
            .iter()
            .all(|(_, _, took)| *took < Duration::from_secs(5)),
        "requests during the outage are answered, not held: {during:?}"
    );
    assert!(
        during.iter().all(|(_, ready, _)| *ready == 503),
        "{during:?}"
    );
    // A message sent during the outage is stored and owed by the outbox: success.
    assert!(during.iter().all(|(sent, _, _)| *sent == 200), "{during:?}");
    // A refused token is told so even though its disconnect cannot be scheduled.
    let (status, body) = web
        .frame(
            &connection_id(),
            &json!({"method": "auth_request", "token": "no-such-token"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["action"], "auth_result", "{body}");
    redis.restart().await;

    // The first request after the outage is a refused token: its DeleteConnectionJob...
    let refused_on = connection_id();
    let frame = json!({"method": "auth_request", "token": "no-such-token"});
    let started = Instant::now();
    let (status, body) = web.frame(&refused_on, &frame).await;
    eprintln!(
        "first enqueue after a busy {REDIS_OUTAGE:?} outage: {status} in {:?}",
        started.elapsed()
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(stored_jobs(&redis, &env, QueueName::LowPriority).await, 1);
    // ...and a broadcast right after.
    let (status, body) = web.frame(&id, &send_message(&token, "after")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_jobs(&redis, &env, QueueName::Default).await, 1);
}

#[tokio::test]
async fn web_started_while_postgres_is_down_waits_and_becomes_ready() {
    let mut postgres = PostgresServer::start().await;
    let env = TestEnv::postgres_on(&postgres.admin_url()).await;
    postgres.stop().await;

    let web = WebApp::spawn(&env, WebOptions::default()).await;
    let (status, body) = web.get("/readyz").await;
    assert_eq!(
        (status, &body["database"]),
        (503, &json!("unreachable")),
        "{body}"
    );
    wait_until(Duration::from_secs(10), || async {
        web.logs()
            .text()
            .contains("the database is unreachable; waiting for it")
    })
    .await
    .unwrap_or_else(|_| panic!("web logs that it waits:\n{}", web.logs().text()));
    let (status, body) = web.post_token(&json!({})).await;
    assert_eq!(status, 503, "{body}");

    postgres.resume().await;
    let up_at = Instant::now();
    wait_until(Duration::from_secs(15), || async {
        web.get("/readyz").await.0 == 200
    })
    .await
    .expect("web becomes ready once PostgreSQL is up");
    eprintln!("/readyz 200 {:?} after PostgreSQL started", up_at.elapsed());
    let token = web.issue_token(None).await;
    web.authenticate(&connection_id(), &token).await;
    wait_until(Duration::from_secs(5), || async {
        web.logs().text().contains("the database is reachable")
    })
    .await
    .unwrap_or_else(|_| panic!("web logs the recovery:\n{}", web.logs().text()));
}

#[tokio::test]
async fn a_postgres_outage_is_answered_at_once_with_a_json_503() {
    let mut postgres = PostgresServer::start().await;
    let env = TestEnv::postgres_on(&postgres.admin_url()).await;
    let web = WebApp::spawn(&env, WebOptions::default()).await;
    let token = web.issue_token(None).await;
    let id = connection_id();
    web.authenticate(&id, &token).await;

    postgres.stop().await;
    let frame = json!({"method": "auth_request", "token": token});
    for attempt in 0..3 {
        let started = Instant::now();
        let (status, body) = web.frame(&id, &frame).await;
        let took = started.elapsed();
        eprintln!("$default while PostgreSQL is down: {status} in {took:?}");
        assert_eq!(status, 503, "{body}");
        // A failed frame names its action and echoes the frame, as every error of one does.
        assert_eq!(
            body,
            json!({
                "action": "auth_result",
                "success": false,
                "alert": ja(Alert::ServiceUnavailable),
                "data": frame,
            }),
            "attempt {attempt}"
        );
        assert!(took < Duration::from_millis(2_000), "{took:?}");
    }
    let (status, body) = web.put_user("bob", "Bob", None).await;
    assert_eq!((status, &body["success"]), (503, &json!(false)), "{body}");

    postgres.resume().await;
    let (status, body) = web.frame(&id, &frame).await;
    assert_eq!(
        status, 200,
        "the first request after PostgreSQL returns: {body}"
    );
}
