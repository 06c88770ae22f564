//! `APIGW_RATE_LIMIT` against the account quota (SPEC §10), measured from the emulator's
//! side: two worker processes at their default concurrency fan out to thousands of real
//! WebSocket clients through a Management API answering in tens of milliseconds and
//! throttling beyond `EMULATOR_ACCOUNT_RPS`.
//!
//! With the limit under the quota, the two together stay within 110 % of the limit, with
//! at most 2 % of the calls throttled; without it, the same broadcasts draw many 429s.
//! Every connection gets every message once, either way.

use std::time::Duration;

use e2e::stack::Stack;
use e2e::swarm::Swarm;
use e2e::traffic::Traffic;
use e2e::{TestEnv, WebOptions, WorkerOptions, WorkerProcess, audience};
use serde_json::json;
use shared::entities::users;

use crate::common::ONE_HEAVY_TEST_AT_A_TIME;

const CLIENTS: usize = 4_000;
/// Two broadcasts, each cut into four sub-jobs, so both processes run parts of each.
const MESSAGES: usize = 2;
const SPLIT_SIZE: &str = "1000";
const POST_LATENCY_MS: u64 = 20;
/// The account quota the emulator enforces (requests/s; burst half of it, as AWS's): below
/// what two debug-build workers reach on a loaded 2-core machine (about 1,000 posts/s), so
/// that without a limit they run into it.
const ACCOUNT_RPS: u32 = 600;
/// The deployment's limit, under the quota.
const RATE_LIMIT: u32 = 450;

fn worker_options(stack: &Stack, rate_limit: u32) -> WorkerOptions {
    WorkerOptions::new(stack.emulator.management_endpoint())
        .with_env("APIGW_RATE_LIMIT", rate_limit)
        .with_env("BROADCAST_SPLIT_SIZE", SPLIT_SIZE)
        // The product's lease and poll, not the harness's short ones.
        .with_env("JOB_LEASE_SECS", 5)
        .with_env("WORKER_IDLE_POLL_MS", 200)
}

/// Sends `MESSAGES` broadcasts to every client; returns the traffic the emulator saw until
/// every client had every one of them.
async fn broadcast_all(
    env: &TestEnv,
    stack: &Stack,
    swarm: &Swarm,
    alice: &users::Model,
    label: &str,
) -> Traffic {
    let db = env.db.connect().await;
    let before = stack.emulator.stats().await;
    let mut ids = Vec::new();
    for n in 0..MESSAGES {
        let body = format!("{label} {n}");
        ids.push(audience::broadcast(env, &db, alice, "all_channel", &body).await);
    }
    let delivered = swarm
        .wait_until_all_have(&ids, Duration::from_secs(180))
        .await;
    let traffic = Traffic::between(&before, &stack.emulator.stats().await);
    let tally = swarm.tally(&ids);
    assert!(
        delivered,
        "{label}: {} (client, message) pairs never arrived; {}",
        tally.missing,
        traffic.describe()
    );
    assert_eq!(tally.duplicates, 0, "{label}: {tally:?}");
    traffic
}

#[tokio::test]
async fn two_workers_stay_within_the_limit_and_without_it_draw_many_429s() {
    let _turn = ONE_HEAVY_TEST_AT_A_TIME.lock().await;
    let env = TestEnv::postgres().await;
    let account_rps = ACCOUNT_RPS.to_string();
    let limit = RATE_LIMIT.to_string();
    let mut stack = Stack::start_with_emulator(
        &env,
        WebOptions::default(),
        &[
            ("EMULATOR_ACCOUNT_RPS", account_rps.as_str()),
            ("RUST_LOG", "warn"),
        ],
        &[
            ("APIGW_RATE_LIMIT", limit.as_str()),
            ("BROADCAST_SPLIT_SIZE", SPLIT_SIZE),
            ("JOB_LEASE_SECS", "5"),
            ("WORKER_IDLE_POLL_MS", "200"),
        ],
    )
    .await;
    stack
        .emulator
        .set_faults(json!({"post_latency_ms": POST_LATENCY_MS}))
        .await;
    let db = env.db.connect().await;
    let alice = audience::user(&db, "alice").await;
    let swarm = Swarm::join(&stack, &db, &alice, CLIENTS).await;
    let second = WorkerProcess::spawn(&env, &worker_options(&stack, RATE_LIMIT)).await;

    let limited = broadcast_all(&env, &stack, &swarm, &alice, "limited").await;
    eprintln!(
        "APIGW_RATE_LIMIT={RATE_LIMIT}, two workers, quota {ACCOUNT_RPS}/s, {CLIENTS} clients \
         × {MESSAGES} messages: {}",
        limited.describe()
    );
    eprintln!("  per second: {:?}", limited.per_second);

    // Both processes stop (their jobs are done) and two without a limit take over.
    let mut second = second;
    for worker in [&mut stack.worker, &mut second] {
        worker.signal("TERM");
        worker.wait().await;
    }
    stack.worker = WorkerProcess::spawn(&env, &worker_options(&stack, 0)).await;
    let _second = WorkerProcess::spawn(&env, &worker_options(&stack, 0)).await;
    let unlimited = broadcast_all(&env, &stack, &swarm, &alice, "unlimited").await;
    eprintln!(
        "APIGW_RATE_LIMIT=0, two workers, quota {ACCOUNT_RPS}/s, {CLIENTS} clients × \
         {MESSAGES} messages: {}",
        unlimited.describe()
    );
    eprintln!("  per second: {:?}", unlimited.per_second);

    let ceiling = u64::from(RATE_LIMIT) * 11 / 10;
    assert!(
        limited.peak_per_second() <= ceiling,
        "limited: {}",
        limited.describe()
    );
    assert!(
        limited.throttled_share() <= 0.02,
        "limited: {}",
        limited.describe()
    );
    assert!(
        unlimited.quota_throttled >= (CLIENTS * MESSAGES / 10) as u64,
        "unlimited: {}",
        unlimited.describe()
    );
}
