//! Outages of Redis under a running web: it never needs a restart. The first request after
//! Redis returns succeeds.

use std::time::{Duration, Instant};

use e2e::redis_server::RedisServer;
use e2e::{TestEnv, WebApp, WebOptions};
use serde_json::{Value, json};
use shared::queue::{QueueName, Queues, redis_connection};

use crate::common::connection_id;

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
