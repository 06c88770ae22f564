//! A worker started while PostgreSQL and Redis are down waits for them, saying so in its
//! logs, instead of exiting; once both are up it starts and delivers.

use std::time::{Duration, Instant};

use e2e::audience::{self, bind_many};
use e2e::fake_management::FakeManagementApi;
use e2e::postgres_server::PostgresServer;
use e2e::redis_server::RedisServer;
use e2e::{TestEnv, WorkerOptions, WorkerProcess, wait_until};
use shared::queue::{Queues, redis_connection};

#[tokio::test]
async fn a_worker_started_while_postgres_and_redis_are_down_waits_for_them() {
    let mut postgres = PostgresServer::start().await;
    let env = TestEnv::postgres_on(&postgres.admin_url()).await;
    let mut redis = RedisServer::start().await;
    let api = FakeManagementApi::start().await;
    postgres.stop().await;
    redis.kill().await;

    let options = WorkerOptions {
        redis_url: Some(redis.url()),
        ..WorkerOptions::new(api.endpoint())
    };
    let mut worker = WorkerProcess::launch(&env, &options);
    let logged = |text: &'static str| {
        let worker = &worker;
        move || async move { worker.logs().text().contains(text) }
    };
    wait_until(
        Duration::from_secs(15),
        logged("the database is unreachable; waiting for it"),
    )
    .await
    .unwrap_or_else(|_| panic!("the worker waits for PostgreSQL:\n{}", worker.logs().text()));
    // It keeps trying rather than giving up.
    wait_until(Duration::from_secs(20), || async {
        worker.logs().text().contains("attempt=2")
    })
    .await
    .unwrap_or_else(|_| panic!("the worker retries:\n{}", worker.logs().text()));

    postgres.resume().await;
    let postgres_up = Instant::now();
    wait_until(
        Duration::from_secs(15),
        logged("Redis is unreachable; waiting for it"),
    )
    .await
    .unwrap_or_else(|_| panic!("the worker waits for Redis:\n{}", worker.logs().text()));
    eprintln!(
        "the worker moved on to Redis {:?} after PostgreSQL started",
        postgres_up.elapsed()
    );
    assert!(!worker.logs().text().contains("worker started"));

    redis.restart().await;
    let redis_up = Instant::now();
    wait_until(Duration::from_secs(15), logged("worker started"))
        .await
        .unwrap_or_else(|_| panic!("the worker starts:\n{}", worker.logs().text()));
    eprintln!(
        "worker started {:?} after Redis started",
        redis_up.elapsed()
    );

    let db = env.db.connect().await;
    let alice = audience::user(&db, "alice").await;
    bind_many(&db, &alice, "conn", 2).await;
    let queues = Queues::new(
        redis_connection(&redis.url(), Duration::from_secs(5)).unwrap(),
        env.redis.prefix(),
    );
    audience::broadcast_on(&queues, &db, &alice, "all_channel", "hello")
        .await
        .unwrap();
    wait_until(Duration::from_secs(15), || async {
        api.total_delivered() == 2
    })
    .await
    .unwrap_or_else(|_| panic!("the worker delivers:\n{}", worker.logs().text()));

    worker.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(30), worker.wait())
        .await
        .expect("the worker stops");
    assert!(status.success(), "{status:?}");
}
