//! The Redis queue against a real Redis: each test in its own key space.

use std::time::{Duration, Instant};

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use shared::queue::{ClaimPolicy, Job, JobQueue, QueueName, redis_connection};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Ping {
    n: u32,
}

impl Job for Ping {
    const NAME: &'static str = "Ping";
    const QUEUE: QueueName = QueueName::Default;
}

struct Fixture {
    queue: JobQueue,
    redis: redis::aio::ConnectionManager,
    prefix: String,
}

impl Fixture {
    fn new() -> Self {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let redis = redis_connection(&url, Duration::from_secs(10)).unwrap();
        let prefix = format!("qt-{}", uuid::Uuid::new_v4().simple());
        let queue = JobQueue::new(redis.clone(), &prefix, QueueName::Default);
        Self {
            queue,
            redis,
            prefix,
        }
    }

    async fn key_count(&self) -> usize {
        let mut redis = self.redis.clone();
        let keys: Vec<String> = redis.keys(format!("{{{}:*", self.prefix)).await.unwrap();
        keys.len()
    }
}

impl Drop for Fixture {
    /// Synchronous, so the keys go even when the test's runtime is shutting down.
    fn drop(&mut self) {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let Ok(mut connection) =
            redis::Client::open(url).and_then(|client| client.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{{}:*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
        }
    }
}

fn policy(lease_ms: u64) -> ClaimPolicy {
    ClaimPolicy {
        lease: Duration::from_millis(lease_ms),
        max_attempts: 3,
        dead_retention: 5,
    }
}

#[tokio::test]
async fn jobs_run_in_order_and_finished_ones_are_capped() {
    let f = Fixture::new();
    for n in 0..10 {
        f.queue.push(&Ping { n }, Duration::ZERO).await.unwrap();
    }
    let mut seen = Vec::new();
    while let Some(job) = f.queue.claim(1, "w:1", &policy(5_000)).await.unwrap().pop() {
        let envelope: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
        assert_eq!(envelope["job"], "Ping");
        seen.push(envelope["args"]["n"].as_u64().unwrap());
        assert!(f.queue.ack(&job, 3).await.unwrap());
    }
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    let counts = f.queue.counts().await.unwrap();
    assert_eq!(
        (counts.waiting, counts.running, counts.done_kept),
        (0, 0, 3)
    );
    // Finished jobs leave nothing behind but the capped list and counters.
    let mut redis = f.redis.clone();
    let jobs: usize = redis.hlen(&f.queue.keys().jobs).await.unwrap();
    assert_eq!(jobs, 0);
}

#[tokio::test]
async fn twenty_thousand_due_jobs_are_promoted_in_chunks_without_error() {
    let f = Fixture::new();
    let jobs: Vec<Ping> = (0..20_000).map(|n| Ping { n }).collect();
    // Scheduled in the past, like a backlog that built up while no worker ran.
    for chunk in jobs.chunks(1_000) {
        for job in chunk {
            f.queue.push(job, Duration::from_millis(1)).await.unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let started = Instant::now();
    let mut claimed = 0;
    loop {
        let batch = f
            .queue
            .claim(100, "w:drain", &policy(60_000))
            .await
            .unwrap();
        if batch.is_empty() {
            break;
        }
        for job in &batch {
            assert!(f.queue.ack(job, 0).await.unwrap());
        }
        claimed += batch.len();
    }
    assert_eq!(claimed, 20_000);
    eprintln!("drained 20,000 promoted jobs in {:?}", started.elapsed());
    assert_eq!(f.queue.counts().await.unwrap(), Default::default());
}

#[tokio::test]
async fn an_expired_lease_hands_the_job_to_the_next_claim() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 1 }, Duration::ZERO).await.unwrap();
    let lost = f
        .queue
        .claim(1, "dead-worker:1", &policy(200))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        f.queue
            .claim(1, "live:1", &policy(200))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let recovered = f
        .queue
        .claim(1, "live:2", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(recovered.id, lost.id);
    assert_eq!(recovered.attempts, 2);
    // The dead worker's late acknowledgement no longer counts.
    assert!(!f.queue.ack(&lost, 10).await.unwrap());
    assert!(f.queue.ack(&recovered, 10).await.unwrap());
}

#[tokio::test]
async fn renewed_leases_are_not_taken_over() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 1 }, Duration::ZERO).await.unwrap();
    let job = f
        .queue
        .claim(1, "w:1", &policy(300))
        .await
        .unwrap()
        .pop()
        .unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let renewed = f
            .queue
            .extend(
                [(job.id.as_str(), job.owner.as_str())],
                Duration::from_millis(300),
            )
            .await
            .unwrap();
        assert_eq!(renewed, 1);
        assert!(
            f.queue
                .claim(1, "other:1", &policy(300))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn failures_retry_later_then_die_and_can_be_retried_by_hand() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 7 }, Duration::ZERO).await.unwrap();
    let job = f
        .queue
        .claim(1, "w:1", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        f.queue
            .retry_later(&job, Duration::from_millis(100), "boom")
            .await
            .unwrap()
    );
    let counts = f.queue.counts().await.unwrap();
    assert_eq!((counts.failed, counts.running), (1, 0));
    assert!(
        f.queue
            .claim(1, "w:2", &policy(5_000))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    let again = f
        .queue
        .claim(1, "w:3", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(again.attempts, 2);
    assert!(f.queue.bury(&again, "for good", 5).await.unwrap());
    assert_eq!(f.queue.counts().await.unwrap().dead, 1);
    assert_eq!(f.queue.dead_ids(10).await.unwrap(), vec![again.id.clone()]);
    assert!(f.queue.retry_dead(&again.id).await.unwrap());
    let revived = f
        .queue
        .claim(1, "w:4", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!((revived.id, revived.attempts), (again.id, 1));
}

#[tokio::test]
async fn a_job_that_keeps_killing_workers_is_buried() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 1 }, Duration::ZERO).await.unwrap();
    for round in 0..3 {
        let job = f
            .queue
            .claim(1, &format!("crashy:{round}"), &policy(1))
            .await
            .unwrap();
        assert_eq!(job.len(), 1, "round {round}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        f.queue
            .claim(1, "crashy:4", &policy(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(f.queue.counts().await.unwrap().dead, 1);
}

#[tokio::test]
async fn dead_jobs_are_kept_up_to_the_retention() {
    let f = Fixture::new();
    for n in 0..12 {
        f.queue.push(&Ping { n }, Duration::ZERO).await.unwrap();
        let job = f
            .queue
            .claim(1, &format!("w:{n}"), &policy(5_000))
            .await
            .unwrap()
            .pop()
            .unwrap();
        f.queue.bury(&job, "x", 5).await.unwrap();
    }
    assert_eq!(f.queue.counts().await.unwrap().dead, 5);
    let mut redis = f.redis.clone();
    let stored: usize = redis.hlen(&f.queue.keys().jobs).await.unwrap();
    assert_eq!(stored, 5, "payloads of trimmed dead jobs are deleted too");
    assert!(f.key_count().await <= 12);
}

#[tokio::test]
async fn released_jobs_run_next_without_counting_an_attempt() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 1 }, Duration::ZERO).await.unwrap();
    f.queue.push(&Ping { n: 2 }, Duration::ZERO).await.unwrap();
    let first = f
        .queue
        .claim(1, "w:1", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(f.queue.release(&first).await.unwrap());
    let next = f
        .queue
        .claim(1, "w:2", &policy(5_000))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!((next.id, next.attempts), (first.id, 1));
}

#[tokio::test]
async fn delayed_jobs_wait_until_due() {
    let f = Fixture::new();
    f.queue
        .push(&Ping { n: 1 }, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(f.queue.counts().await.unwrap().scheduled, 1);
    assert!(
        f.queue
            .claim(1, "w:1", &policy(5_000))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(320)).await;
    assert_eq!(
        f.queue.claim(1, "w:2", &policy(5_000)).await.unwrap().len(),
        1
    );
}
