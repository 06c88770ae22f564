//! Set-ups and assertions shared by the test files.

use std::future::Future;
use std::ops::RangeInclusive;

use e2e::redis::{DEFAULT_QUEUE, LOW_PRIORITY_QUEUE};
use e2e::{TestEnv, WebApp, WebOptions};
use sea_orm::DatabaseConnection;
use shared::i18n::{Alert, Locale};

/// One test with thousands of clients and POSTs at a time: two at once starve every other
/// test of the suite on a 2-core machine.
pub static ONE_HEAVY_TEST_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A test's world: its database and namespace, its `web`, and a connection for checks.
pub struct World {
    pub db: DatabaseConnection,
    pub web: WebApp,
    pub env: TestEnv,
}

/// PostgreSQL and a `web` with the test defaults.
pub async fn world() -> World {
    world_with(WebOptions::default()).await
}

pub async fn world_with(options: WebOptions) -> World {
    let env = TestEnv::postgres().await;
    on(env, options).await
}

pub async fn sqlite_world() -> World {
    let env = TestEnv::sqlite().await;
    on(env, WebOptions::default()).await
}

async fn on(env: TestEnv, options: WebOptions) -> World {
    let web = WebApp::spawn(&env, options).await;
    let db = env.db.connect().await;
    World { db, web, env }
}

/// A connection id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`), unique per call.
pub fn connection_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}=", &id[..15])
}

/// The Japanese text of an alert (the default `LOCALE`).
pub fn ja(alert: Alert) -> &'static str {
    Locale::Ja.alert(alert)
}

pub fn en(alert: Alert) -> &'static str {
    Locale::En.alert(alert)
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs `request` and returns its output with the wall-clock window it ran in (ms).
pub async fn timed<T>(request: impl Future<Output = T>) -> (T, RangeInclusive<i64>) {
    let before = now_ms();
    let output = request.await;
    (output, before..=now_ms())
}

/// Exactly one job exists in all of the namespace: a DeleteConnectionJob for
/// `connection_id` on `low_priority`, due `delay_secs` after the request that enqueued it.
pub async fn assert_one_delete_job(
    world: &World,
    connection_id: &str,
    delay_secs: i64,
    sent: RangeInclusive<i64>,
) {
    let redis = &world.env.redis;
    assert_eq!(
        redis.stored_jobs(DEFAULT_QUEUE).await,
        0,
        "no job on default"
    );
    assert_eq!(
        redis.stored_jobs(LOW_PRIORITY_QUEUE).await,
        1,
        "one low_priority job"
    );
    assert!(
        redis.waiting(LOW_PRIORITY_QUEUE).await.is_empty(),
        "not due yet"
    );
    let scheduled = redis.scheduled(LOW_PRIORITY_QUEUE).await;
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    let job = &scheduled[0];
    assert_eq!(job.json["job"], "DeleteConnectionJob", "{}", job.json);
    assert_eq!(
        job.json["args"]["connection_id"], connection_id,
        "{}",
        job.json
    );
    let due = job.due_ms.expect("a due time");
    let delay = delay_secs * 1000;
    let window = (sent.start() + delay - 5)..=(sent.end() + delay + 5);
    assert!(window.contains(&due), "due {due} outside {window:?}");
}

/// No job in either queue.
pub async fn assert_no_jobs(world: &World) {
    let redis = &world.env.redis;
    assert_eq!(redis.stored_jobs(DEFAULT_QUEUE).await, 0, "jobs on default");
    assert_eq!(
        redis.stored_jobs(LOW_PRIORITY_QUEUE).await,
        0,
        "jobs on low_priority"
    );
}
