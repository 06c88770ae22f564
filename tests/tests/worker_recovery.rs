//! The queue's guarantees with real processes: killed workers, Redis restarts, backlogs,
//! poison payloads, idle pickup, bounded retention, graceful shutdown.

use std::time::{Duration, Instant};

use e2e::audience::{self, bind_many, broadcast};
use e2e::fake_management::FakeManagementApi;
use e2e::process::run_to_exit;
use e2e::{TestEnv, WorkerOptions, WorkerProcess, wait_until};
use redis::AsyncCommands;

fn options(api: &FakeManagementApi) -> WorkerOptions {
    WorkerOptions::new(api.endpoint())
}

#[tokio::test]
async fn a_worker_killed_mid_broadcast_is_taken_over_and_only_posts_in_flight_go_twice() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    // Slow posts, few at a time: the broadcast is mid-way for seconds.
    api.set_latency(Duration::from_millis(400));
    let slow = options(&api).with_env("WORKER_POST_CONCURRENCY", "4");
    let first = WorkerProcess::spawn(&env, &slow).await;
    let alice = audience::user(&db, "alice").await;
    let ids = bind_many(&db, &alice, "conn", 60).await;
    broadcast(&env, &db, &alice, "all_channel", "survive").await;
    wait_until(Duration::from_secs(20), || async {
        api.total_delivered() >= 8
    })
    .await
    .unwrap();
    first.signal("KILL");
    let killed_at = Instant::now();
    let delivered_before = api.total_delivered();
    assert!(delivered_before < 60, "the kill came mid-broadcast");
    let _second = WorkerProcess::spawn(
        &env,
        &slow.clone().with_env("WORKER_POST_CONCURRENCY", "16"),
    )
    .await;
    wait_until(Duration::from_secs(15), || async {
        ids.iter().all(|id| api.delivered_count(id) >= 1)
    })
    .await
    .expect("another worker completes the broadcast within 15 s");
    eprintln!(
        "killed after {delivered_before}/60 deliveries; completed {:?} after the kill",
        killed_at.elapsed()
    );
    // The fake delivers a POST only when its caller waits out the latency, as the emulator
    // does: the four on the wire at the kill went nowhere and are sent again.
    let copies: Vec<usize> = ids.iter().map(|id| api.delivered_count(id)).collect();
    assert!(
        copies.iter().all(|n| *n >= 1),
        "nobody is left out: {copies:?}"
    );
    let duplicates: usize = copies.iter().map(|n| n - 1).sum();
    assert!(duplicates <= 4, "at most the POSTs in flight: {copies:?}");
}

#[tokio::test]
async fn a_flood_of_low_priority_jobs_does_not_delay_a_broadcast() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    let alice = audience::user(&db, "alice").await;
    bind_many(&db, &alice, "conn", 3).await;
    audience::delete_jobs(&env, "flood", 5_000).await;
    let _worker = WorkerProcess::spawn(&env, &options(&api)).await;
    wait_until(Duration::from_secs(10), || async {
        api.deletes("flood-0") == 1
    })
    .await
    .unwrap();
    let sent = Instant::now();
    broadcast(&env, &db, &alice, "all_channel", "urgent").await;
    wait_until(Duration::from_secs(1), || async {
        api.total_delivered() == 3
    })
    .await
    .expect("delivered within 1 s despite 5,000 low-priority jobs");
    let pending = audience::queues(&env).low_priority.counts().await.unwrap();
    eprintln!(
        "broadcast delivered in {:?} with {} low-priority jobs still waiting",
        sent.elapsed(),
        pending.waiting
    );
    assert!(
        pending.waiting > 0,
        "the flood was still there when the broadcast went through"
    );
}

#[tokio::test]
async fn twenty_thousand_due_jobs_queued_without_a_worker_are_drained() {
    let env = TestEnv::postgres().await;
    let api = FakeManagementApi::start().await;
    audience::delete_jobs(&env, "gone", 20_000).await;
    let started = Instant::now();
    let worker = WorkerProcess::spawn(
        &env,
        &options(&api).with_env("WORKER_LOW_PRIORITY_JOBS", "64"),
    )
    .await;
    wait_until(Duration::from_secs(120), || async {
        let counts = audience::queues(&env).low_priority.counts().await.unwrap();
        counts.waiting + counts.scheduled + counts.running + counts.failed == 0
    })
    .await
    .expect("the backlog drains");
    let elapsed = started.elapsed();
    eprintln!(
        "drained 20,000 jobs in {elapsed:?} ({:.0} jobs/s)",
        20_000.0 / elapsed.as_secs_f64()
    );
    assert_eq!(
        audience::queues(&env)
            .low_priority
            .counts()
            .await
            .unwrap()
            .dead,
        0
    );
    assert!(
        !worker.logs().text().contains("panicked"),
        "{}",
        worker.logs().text()
    );
}

#[tokio::test]
async fn an_undecodable_payload_goes_to_the_dead_set_and_the_worker_keeps_going() {
    let env = TestEnv::postgres().await;
    let api = FakeManagementApi::start().await;
    let _worker = WorkerProcess::spawn(&env, &options(&api)).await;
    let mut redis = env.redis.connection().await;
    let _: () = redis
        .hset(env.redis.key("low_priority", "jobs"), "poison", "{not json")
        .await
        .unwrap();
    let _: () = redis
        .lpush(env.redis.key("low_priority", "waiting"), "poison")
        .await
        .unwrap();
    let _: () = redis
        .lpush(env.redis.key("low_priority", "wakeup"), "1")
        .await
        .unwrap();
    audience::delete_jobs(&env, "ok", 1).await;
    wait_until(Duration::from_secs(10), || async {
        api.deletes("ok-0") == 1
    })
    .await
    .unwrap();
    wait_until(Duration::from_secs(10), || async {
        audience::queues(&env)
            .low_priority
            .dead_ids(10)
            .await
            .unwrap()
            == vec!["poison".to_owned()]
    })
    .await
    .expect("the poison job is dead");
    let error: String = redis
        .hget(env.redis.key("low_priority", "errors"), "poison")
        .await
        .unwrap();
    assert!(error.contains("undecodable"), "{error}");

    // Operators see it and can send it back (where it dies again, being poison).
    let cli = |args: &'static [&'static str]| {
        let command = WorkerProcess::command(&env, &options(&api));
        run_to_exit(command, args, Duration::from_secs(30))
    };
    let queues = cli(&["queues"]).await;
    assert!(queues.success, "{queues:?}");
    let counts: serde_json::Value = serde_json::from_str(queues.stdout.trim()).unwrap();
    assert_eq!(counts["low_priority"]["dead"], 1, "{counts}");
    let shown = cli(&["show", "low_priority", "poison"]).await;
    assert_eq!(shown.stdout.trim(), "{not json");
    let retried = cli(&["retry-dead", "low_priority", "poison"]).await;
    assert_eq!(retried.stdout.trim(), r#"{"retried":1}"#, "{retried:?}");
    let stats_key = env.redis.key("low_priority", "stats");
    wait_until(Duration::from_secs(10), || async {
        let mut redis = env.redis.connection().await;
        let dead: u64 = redis.hget(&stats_key, "dead").await.unwrap_or(0);
        dead == 2
    })
    .await
    .expect("the retried job ran again and died again");
    let unknown = cli(&["retry-dead", "low_priority", "nope"]).await;
    assert!(!unknown.success);
}

#[tokio::test]
async fn an_idle_worker_is_woken_by_a_push_long_before_its_next_poll() {
    const IDLE_POLL: Duration = Duration::from_secs(30);
    let env = TestEnv::postgres().await;
    let api = FakeManagementApi::start().await;
    // A long idle poll: only the wake-up can explain a pickup well within it.
    let idle_poll_ms = IDLE_POLL.as_millis().to_string();
    let _worker = WorkerProcess::spawn(
        &env,
        &options(&api).with_env("WORKER_IDLE_POLL_MS", idle_poll_ms),
    )
    .await;
    audience::delete_jobs(&env, "warmup", 1).await;
    // Idle: the warm-up job is done and every wake-up token has been taken.
    let (stats, wakeup) = (
        env.redis.key("low_priority", "stats"),
        env.redis.key("low_priority", "wakeup"),
    );
    wait_until(Duration::from_secs(10), || async {
        let mut redis = env.redis.connection().await;
        let done: u64 = redis.hget(&stats, "done").await.unwrap_or(0);
        let tokens: u64 = redis.llen(&wakeup).await.unwrap_or(u64::MAX);
        api.deletes("warmup-0") == 1 && done == 1 && tokens == 0
    })
    .await
    .expect("the warm-up job finishes");
    let pushed = Instant::now();
    audience::delete_jobs(&env, "ok", 1).await;
    wait_until(IDLE_POLL / 3, || async { api.deletes("ok-0") == 1 })
        .await
        .expect("picked up long before the idle poll");
    eprintln!("idle pickup took {:?}", pushed.elapsed());
}

#[tokio::test]
async fn finished_jobs_do_not_grow_redis() {
    let env = TestEnv::postgres().await;
    let api = FakeManagementApi::start().await;
    let _worker =
        WorkerProcess::spawn(&env, &options(&api).with_env("QUEUE_DONE_RETENTION", "10")).await;
    audience::delete_jobs(&env, "ok", 200).await;
    wait_until(Duration::from_secs(30), || async {
        audience::queues(&env)
            .low_priority
            .counts()
            .await
            .unwrap()
            .done_kept
            == 10
            && api.deletes("ok-199") == 1
            && env.redis.stored_jobs("low_priority").await == 0
    })
    .await
    .expect("payloads deleted, done list capped");
    let mut redis = env.redis.connection().await;
    let done: Vec<String> = redis
        .lrange(env.redis.key("low_priority", "done"), 0, -1)
        .await
        .unwrap();
    assert_eq!(done.len(), 10);
    assert!(done[0].contains("DeleteConnectionJob"));
}

#[tokio::test]
async fn sigterm_hands_running_jobs_back_and_nothing_is_lost() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    api.set_latency(Duration::from_millis(300));
    let slow = options(&api)
        .with_env("WORKER_POST_CONCURRENCY", "2")
        .with_env("WORKER_SHUTDOWN_GRACE_SECS", "1");
    let mut first = WorkerProcess::spawn(&env, &slow).await;
    let alice = audience::user(&db, "alice").await;
    let ids = bind_many(&db, &alice, "conn", 30).await;
    broadcast(&env, &db, &alice, "all_channel", "graceful").await;
    wait_until(Duration::from_secs(20), || async {
        api.total_delivered() >= 4
    })
    .await
    .unwrap();
    first.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), first.wait())
        .await
        .expect("the worker exits after its grace period");
    assert!(
        status.success(),
        "clean exit: {status:?}\n{}",
        first.logs().text()
    );
    assert!(
        api.total_delivered() < 30,
        "the broadcast was handed back unfinished"
    );
    let counts = audience::queues(&env).default.counts().await.unwrap();
    assert_eq!(
        (counts.running, counts.waiting),
        (0, 1),
        "handed back, not left running: {counts:?}"
    );
    let _second = WorkerProcess::spawn(
        &env,
        &slow.clone().with_env("WORKER_POST_CONCURRENCY", "16"),
    )
    .await;
    wait_until(Duration::from_secs(15), || async {
        api.total_delivered() >= 30
    })
    .await
    .unwrap();
    assert!(ids.iter().all(|id| api.delivered_count(id) == 1));
}

#[tokio::test]
async fn sigterm_lets_a_short_job_finish() {
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let api = FakeManagementApi::start().await;
    api.set_latency(Duration::from_millis(300));
    let mut worker = WorkerProcess::spawn(
        &env,
        &options(&api).with_env("WORKER_SHUTDOWN_GRACE_SECS", "20"),
    )
    .await;
    let alice = audience::user(&db, "alice").await;
    bind_many(&db, &alice, "conn", 3).await;
    broadcast(&env, &db, &alice, "all_channel", "finish me").await;
    wait_until(Duration::from_secs(10), || async {
        api.attempts("conn-0") == 1
    })
    .await
    .unwrap();
    worker.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(15), worker.wait())
        .await
        .unwrap();
    assert!(status.success());
    assert_eq!(
        api.total_delivered(),
        3,
        "the running job finished before exit"
    );
    let counts = audience::queues(&env).default.counts().await.unwrap();
    assert_eq!(
        (counts.running, counts.waiting, counts.done_kept),
        (0, 0, 1)
    );
}
