//! The limiter against a real Redis (`TEST_REDIS_URL`, default 127.0.0.1:6379), each test
//! on a prefix of its own; two limiters on one prefix are two workers of one deployment.

use std::time::Duration;

use futures::StreamExt;
use redis::AsyncCommands;
use shared::queue::{RedisConnection, redis_connection};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{RateLimiter, ThrottleSignal, Tuning};

/// A call's outcome as the limiter sees it.
struct Answer {
    throttled: bool,
}

impl ThrottleSignal for Answer {
    fn is_throttled(&self) -> bool {
        self.throttled
    }
}

fn redis() -> RedisConnection {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    redis_connection(&url, Duration::from_secs(5)).expect("a Redis URL")
}

fn prefix() -> String {
    format!("test-rate-{}", uuid::Uuid::new_v4().simple())
}

fn worker(prefix: &str, id: &str, limit: u32, tuning: Tuning) -> RateLimiter {
    RateLimiter::new(limit, redis(), prefix, id, tuning)
}

/// Makes `calls` calls through `limiter`, `in_flight` at once, each answering `throttled`.
async fn call(limiter: &RateLimiter, calls: usize, in_flight: usize, throttled: bool) {
    let stopping = CancellationToken::new();
    futures::stream::iter(0..calls)
        .map(|_| limiter.pace(&stopping, async { Answer { throttled } }))
        .buffer_unordered(in_flight)
        .for_each(|made| async move { assert!(made.is_some()) })
        .await;
}

async fn shared_rate(prefix: &str) -> f64 {
    let rate: Option<f64> = redis()
        .hget(format!("{{{prefix}:apigw-rate}}"), "rate")
        .await
        .expect("Redis answers");
    rate.expect("the bucket exists")
}

#[tokio::test]
async fn two_workers_together_stay_within_the_limit() {
    let prefix = prefix();
    let (a, b) = (
        worker(&prefix, "a", 200, Tuning::PRODUCTION),
        worker(&prefix, "b", 200, Tuning::PRODUCTION),
    );
    let started = Instant::now();
    tokio::join!(call(&a, 200, 64, false), call(&b, 200, 64, false));
    let elapsed = started.elapsed();
    // 400 calls at 200/s: the bucket's burst (50 ms of the rate) is all that may come early.
    let fastest = Duration::from_secs_f64((400.0 - 10.0) / 200.0);
    eprintln!("400 calls by two workers at 200/s took {elapsed:?}");
    assert!(elapsed >= fastest, "{elapsed:?} < {fastest:?}");
}

#[tokio::test]
async fn one_workers_429_cuts_the_rate_for_all_then_it_climbs_back() {
    let prefix = prefix();
    let tuning = Tuning {
        cooldown: Duration::from_millis(200),
        increase: 1.0,
        ..Tuning::PRODUCTION
    };
    let (a, b) = (
        worker(&prefix, "a", 1_000, tuning),
        worker(&prefix, "b", 1_000, tuning),
    );
    call(&b, 1, 1, false).await;
    assert_eq!(shared_rate(&prefix).await, 1_000.0);
    // Many 429s at once from worker a are one excess: one cut.
    call(&a, 20, 20, true).await;
    let cut = shared_rate(&prefix).await;
    assert!((500.0..520.0).contains(&cut), "one halving, got {cut}");
    // Worker b draws at the cut rate: 100 calls take at least (100 - burst) / 500 s.
    let started = Instant::now();
    call(&b, 100, 16, false).await;
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "{:?}",
        started.elapsed()
    );
    // Without 429s the rate climbs back to the limit, never beyond.
    let deadline = Instant::now() + Duration::from_secs(20);
    while shared_rate(&prefix).await < 1_000.0 {
        assert!(Instant::now() < deadline, "the rate stays cut");
        call(&b, 5, 1, false).await;
    }
    call(&a, 5, 1, false).await;
    assert_eq!(shared_rate(&prefix).await, 1_000.0);
}

#[tokio::test]
async fn repeated_throttling_keeps_cutting_down_to_the_floor() {
    let prefix = prefix();
    let tuning = Tuning {
        cooldown: Duration::from_millis(20),
        ..Tuning::PRODUCTION
    };
    let a = worker(&prefix, "a", 1_000, tuning);
    let mut rates = Vec::new();
    for _ in 0..8 {
        call(&a, 1, 1, true).await;
        rates.push(shared_rate(&prefix).await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(rates.windows(2).all(|pair| pair[1] <= pair[0]), "{rates:?}");
    // 2 % of the limit: calls keep going, however hard the account is throttled.
    assert_eq!(*rates.last().unwrap(), 20.0, "{rates:?}");
}

#[tokio::test]
async fn permits_come_in_batches_so_a_call_costs_a_fraction_of_a_round_trip() {
    let prefix = prefix();
    let limited = worker(&prefix, "a", 1_000_000, Tuning::PRODUCTION);
    let off = worker(&prefix, "b", 0, Tuning::PRODUCTION);
    let calls = 50_000;
    let started = Instant::now();
    call(&off, calls, 256, false).await;
    let baseline = started.elapsed();
    let started = Instant::now();
    call(&limited, calls, 256, false).await;
    let paced = started.elapsed();
    let draws = limited.draws();
    let per_call = paced.saturating_sub(baseline) / calls as u32;
    eprintln!(
        "{calls} calls: {draws} Redis scripts ({:.4} per call), {per_call:?} per call \
         beyond the unlimited {baseline:?}",
        draws as f64 / calls as f64
    );
    assert!(
        draws as usize <= calls / 50,
        "{draws} scripts for {calls} calls"
    );
}

#[tokio::test]
async fn without_redis_a_worker_paces_itself_and_never_blocks() {
    // A port nobody listens on.
    let unreachable = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", unreachable.local_addr().unwrap());
    drop(unreachable);
    let limiter = RateLimiter::new(
        100,
        redis_connection(&url, Duration::from_secs(5)).unwrap(),
        &prefix(),
        "a",
        Tuning::PRODUCTION,
    );
    let started = Instant::now();
    call(&limiter, 30, 30, false).await;
    let elapsed = started.elapsed();
    eprintln!("30 calls at 100/s without Redis took {elapsed:?}");
    // Paced at its share (the whole limit: it never saw another worker), never refused.
    assert!(elapsed >= Duration::from_millis(280), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn a_stopping_worker_gets_no_permit_it_waits_for() {
    let prefix = prefix();
    let limiter = worker(&prefix, "a", 1, Tuning::PRODUCTION);
    let stopping = CancellationToken::new();
    call(&limiter, 1, 1, false).await;
    stopping.cancel();
    let made = limiter
        .pace(&stopping, async { Answer { throttled: false } })
        .await;
    assert!(made.is_none());
}

#[tokio::test]
async fn off_makes_every_call_at_once() {
    let limiter = worker(&prefix(), "a", 0, Tuning::PRODUCTION);
    call(&limiter, 10_000, 64, false).await;
    assert_eq!(limiter.draws(), 0);
}
