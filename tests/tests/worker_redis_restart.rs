//! Redis restarted under running processes: the worker carries on by itself, and web's
//! readiness follows Redis down and back up.

use std::time::{Duration, Instant};

use e2e::audience::{self, bind_many};
use e2e::fake_management::FakeManagementApi;
use e2e::redis_server::RedisServer;
use e2e::{TestEnv, WebApp, WebOptions, WorkerOptions, WorkerProcess, wait_until};
use shared::queue::{Queues, redis_connection};

#[tokio::test]
async fn the_worker_survives_a_redis_restart_and_readiness_follows_redis() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let mut redis = RedisServer::start().await;
    let api = FakeManagementApi::start().await;
    let web = WebApp::spawn(
        &env,
        WebOptions {
            redis_url: Some(redis.url()),
            ..WebOptions::default()
        },
    )
    .await;
    let options = WorkerOptions {
        redis_url: Some(redis.url()),
        ..WorkerOptions::new(api.endpoint())
    };
    let worker = WorkerProcess::spawn(&env, &options).await;
    let alice = audience::user(&db, "alice").await;
    bind_many(&db, &alice, "conn", 2).await;
    let queues = Queues::new(
        redis_connection(&redis.url(), Duration::from_secs(5)).unwrap(),
        env.redis.prefix(),
    );
    let send =
        |body: &'static str| audience::broadcast_on(&queues, &db, &alice, "all_channel", body);
    send("before").await.unwrap();
    wait_until(Duration::from_secs(10), || async {
        api.total_delivered() == 2
    })
    .await
    .unwrap();
    assert_eq!(web.get("/readyz").await.0, 200);

    redis.kill().await;
    let down_at = Instant::now();
    wait_until(Duration::from_secs(10), || async {
        web.get("/readyz").await.0 == 503
    })
    .await
    .expect("readiness reports Redis down");
    eprintln!("/readyz went 503 {:?} after Redis died", down_at.elapsed());
    // The worker runs into the outage before Redis comes back.
    wait_until(Duration::from_secs(10), || async {
        worker.logs().text().contains("claim failed; retrying")
    })
    .await
    .unwrap_or_else(|_| panic!("the worker noticed the outage:\n{}", worker.logs().text()));

    redis.restart().await;
    let up_at = Instant::now();
    wait_until(Duration::from_secs(10), || async {
        web.get("/readyz").await.0 == 200
    })
    .await
    .expect("readiness recovers");
    eprintln!(
        "/readyz back to 200 {:?} after Redis restarted",
        up_at.elapsed()
    );
    // The restarted Redis is empty; the next broadcast must still go through.
    wait_until(Duration::from_secs(10), || async {
        send("after").await.is_ok()
    })
    .await
    .unwrap();
    wait_until(Duration::from_secs(15), || async {
        api.total_delivered() == 4
    })
    .await
    .unwrap_or_else(|_| panic!("the worker carried on by itself:\n{}", worker.logs().text()));
    eprintln!(
        "first broadcast after the restart delivered {:?} after Redis came back",
        up_at.elapsed()
    );
}
