//! The Redis queue against a real Redis: each test in its own key space, on a clock of its
//! own that it moves forward instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use shared::queue::{
    Acked, ClaimPolicy, ClaimedJob, Clock, Deleted, Job, JobQueue, QueueName, redis_connection,
};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Ping {
    n: u32,
}

impl Job for Ping {
    const NAME: &'static str = "Ping";
    const QUEUE: QueueName = QueueName::Default;
}

/// Time that passes only when a test says so.
#[derive(Clone)]
struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Utc::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Fixture {
    queue: JobQueue,
    clock: ManualClock,
    redis: shared::queue::RedisConnection,
    prefix: String,
}

impl Fixture {
    fn new() -> Self {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let redis = redis_connection(&url, Duration::from_secs(10)).unwrap();
        let prefix = format!("qt-{}", uuid::Uuid::new_v4().simple());
        let clock = ManualClock::new();
        let queue = JobQueue::with_clock(
            redis.clone(),
            &prefix,
            QueueName::Default,
            Arc::new(clock.clone()),
        );
        Self {
            queue,
            clock,
            redis,
            prefix,
        }
    }

    /// Claims the next due job, if any, as `owner` with a lease of `lease_ms`.
    async fn claim_one(&self, owner: &str, lease_ms: u64) -> Option<ClaimedJob> {
        self.queue
            .claim(1, owner, &policy(lease_ms))
            .await
            .unwrap()
            .pop()
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
    while let Some(job) = f.claim_one("w:1", 5_000).await {
        let envelope: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
        assert_eq!(envelope["job"], "Ping");
        seen.push(envelope["args"]["n"].as_u64().unwrap());
        assert_eq!(f.queue.ack(&job, 3).await.unwrap(), Acked::Done);
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
    f.clock.advance(Duration::from_millis(5));
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
            assert_eq!(f.queue.ack(job, 0).await.unwrap(), Acked::Done);
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
    let lost = f.claim_one("dead-worker:1", 200).await.unwrap();
    assert!(f.claim_one("live:1", 200).await.is_none());
    f.clock.advance(Duration::from_millis(199));
    assert!(
        f.claim_one("live:1", 200).await.is_none(),
        "the lease holds until its deadline"
    );
    f.clock.advance(Duration::from_millis(1));
    let recovered = f.claim_one("live:2", 5_000).await.unwrap();
    assert_eq!(recovered.id, lost.id);
    assert_eq!(recovered.attempts, 2);
    // The dead worker's late acknowledgement no longer counts.
    assert_eq!(f.queue.ack(&lost, 10).await.unwrap(), Acked::LeaseLost);
    assert_eq!(f.queue.ack(&recovered, 10).await.unwrap(), Acked::Done);
}

#[tokio::test]
async fn renewed_leases_are_not_taken_over() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 1 }, Duration::ZERO).await.unwrap();
    let job = f.claim_one("w:1", 300).await.unwrap();
    for _ in 0..4 {
        f.clock.advance(Duration::from_millis(100));
        let renewed = f
            .queue
            .extend(
                [(job.id.as_str(), job.owner.as_str())],
                Duration::from_millis(300),
            )
            .await
            .unwrap();
        assert_eq!(renewed, 1);
        assert!(f.claim_one("other:1", 300).await.is_none());
    }
}

#[tokio::test]
async fn failures_retry_later_then_die_and_can_be_retried_by_hand() {
    let f = Fixture::new();
    f.queue.push(&Ping { n: 7 }, Duration::ZERO).await.unwrap();
    let job = f.claim_one("w:1", 5_000).await.unwrap();
    assert!(
        f.queue
            .retry_later(&job, Duration::from_millis(100), "boom")
            .await
            .unwrap()
    );
    let counts = f.queue.counts().await.unwrap();
    assert_eq!((counts.failed, counts.running), (1, 0));
    assert!(f.claim_one("w:2", 5_000).await.is_none());
    f.clock.advance(Duration::from_millis(120));
    let again = f.claim_one("w:3", 5_000).await.unwrap();
    assert_eq!(again.attempts, 2);
    assert!(f.queue.bury(&again, "for good", 5).await.unwrap());
    assert_eq!(f.queue.counts().await.unwrap().dead, 1);
    assert_eq!(f.queue.dead_ids(10).await.unwrap(), vec![again.id.clone()]);
    assert!(f.queue.retry_dead(&again.id).await.unwrap());
    let revived = f.claim_one("w:4", 5_000).await.unwrap();
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
        f.clock.advance(Duration::from_millis(5));
    }
    assert!(f.claim_one("crashy:4", 1).await.is_none());
    assert_eq!(f.queue.counts().await.unwrap().dead, 1);
}

#[tokio::test]
async fn dead_jobs_are_kept_up_to_the_retention() {
    let f = Fixture::new();
    for n in 0..12 {
        f.queue.push(&Ping { n }, Duration::ZERO).await.unwrap();
        let job = f.claim_one(&format!("w:{n}"), 5_000).await.unwrap();
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
    let first = f.claim_one("w:1", 5_000).await.unwrap();
    assert!(f.queue.release(&first).await.unwrap());
    let next = f.claim_one("w:2", 5_000).await.unwrap();
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
    assert!(f.claim_one("w:1", 5_000).await.is_none());
    f.clock.advance(Duration::from_millis(299));
    assert!(f.claim_one("w:1", 5_000).await.is_none());
    f.clock.advance(Duration::from_millis(1));
    assert!(f.claim_one("w:2", 5_000).await.is_some());
}

/// A job of a group, like the parts of one message's broadcast.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Part {
    group: u32,
    part: u32,
}

impl Job for Part {
    const NAME: &'static str = "Part";
    const QUEUE: QueueName = QueueName::Default;

    fn group(&self) -> Option<String> {
        Some(self.group.to_string())
    }
}

#[tokio::test]
async fn a_group_finishes_with_the_ack_of_its_last_live_job() {
    let f = Fixture::new();
    let parts: Vec<Part> = (0..3).map(|part| Part { group: 7, part }).collect();
    f.queue.push_bulk(&parts).await.unwrap();
    let claimed = f.queue.claim(3, "w:1", &policy(5_000)).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert_eq!(f.queue.ack(&claimed[0], 0).await.unwrap(), Acked::Done);
    assert_eq!(f.queue.ack(&claimed[1], 0).await.unwrap(), Acked::Done);
    assert_eq!(
        f.queue.ack(&claimed[2], 0).await.unwrap(),
        Acked::GroupFinished("7".into())
    );
    // Nothing of the group is left behind.
    let mut redis = f.redis.clone();
    let groups: usize = redis.hlen(&f.queue.keys().groups).await.unwrap();
    let sizes: usize = redis.hlen(&f.queue.keys().group_sizes).await.unwrap();
    assert_eq!((groups, sizes), (0, 0));
}

#[tokio::test]
async fn a_conditional_push_skips_a_live_group_and_takes_a_finished_one() {
    let f = Fixture::new();
    let first = f
        .queue
        .push_unless_live(&[Part { group: 1, part: 0 }, Part { group: 2, part: 0 }])
        .await
        .unwrap();
    assert!(first.iter().all(Option::is_some), "{first:?}");
    // Group 1 waiting, group 2 running, group 3 never seen: only 3 is pushed.
    let running = f.queue.claim(1, "w:1", &policy(5_000)).await.unwrap();
    let again = f
        .queue
        .push_unless_live(&[
            Part { group: 1, part: 1 },
            Part { group: 2, part: 1 },
            Part { group: 3, part: 0 },
        ])
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(Option::is_some).collect::<Vec<_>>(),
        [false, false, true]
    );
    // Once a group finished, it may be pushed again (the outbox's next attempt).
    let finished = f.queue.ack(&running[0], 0).await.unwrap();
    let group = match finished {
        Acked::GroupFinished(group) => group,
        other => panic!("expected the group to finish: {other:?}"),
    };
    let group: u32 = group.parse().unwrap();
    let retried = f
        .queue
        .push_unless_live(&[Part { group, part: 9 }])
        .await
        .unwrap();
    assert!(retried[0].is_some());
}

#[tokio::test]
async fn a_dead_job_keeps_its_group_live_until_retried_and_done() {
    let f = Fixture::new();
    f.queue
        .push(&Part { group: 5, part: 0 }, Duration::ZERO)
        .await
        .unwrap();
    let job = f.claim_one("w:1", 5_000).await.unwrap();
    assert!(f.queue.bury(&job, "boom", 10).await.unwrap());
    let skipped = f
        .queue
        .push_unless_live(&[Part { group: 5, part: 1 }])
        .await
        .unwrap();
    assert!(skipped[0].is_none(), "a dead job is still owed");
    assert!(f.queue.retry_dead(&job.id).await.unwrap());
    let job = f.claim_one("w:2", 5_000).await.unwrap();
    assert_eq!(
        f.queue.ack(&job, 0).await.unwrap(),
        Acked::GroupFinished("5".into())
    );
}

#[tokio::test]
async fn a_dead_job_dropped_by_retention_leaves_its_group() {
    let f = Fixture::new();
    // Retention 1: burying the second job drops one of the two (the older, or either when
    // both died in the same millisecond), whose group then has no live job.
    for group in [1, 2] {
        f.queue
            .push(&Part { group, part: 0 }, Duration::ZERO)
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let job = f.claim_one("w:1", 5_000).await.unwrap();
        assert!(f.queue.bury(&job, "boom", 1).await.unwrap());
    }
    let pushed = f
        .queue
        .push_unless_live(&[Part { group: 1, part: 1 }, Part { group: 2, part: 1 }])
        .await
        .unwrap();
    let dead = f.queue.dead_ids(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let kept: serde_json::Value =
        serde_json::from_str(&f.queue.show(&dead[0]).await.unwrap().unwrap()).unwrap();
    let kept_group = kept["args"]["group"].as_u64().unwrap();
    let expected: Vec<bool> = [1, 2].iter().map(|group| *group != kept_group).collect();
    assert_eq!(
        pushed.iter().map(Option::is_some).collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn dead_jobs_show_their_error_attempts_and_time_and_can_be_deleted() {
    let f = Fixture::new();
    f.queue
        .push(&Part { group: 7, part: 0 }, Duration::ZERO)
        .await
        .unwrap();
    let job = f.claim_one("w:1", 5_000).await.unwrap();
    assert!(
        f.queue
            .bury(&job, "boom: 3 connections failing", 10)
            .await
            .unwrap()
    );
    let dead = f.queue.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].id, job.id);
    assert_eq!(
        dead[0].error.as_deref(),
        Some("boom: 3 connections failing")
    );
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[0].died_at_ms, f.clock.now_ms());
    let payload = dead[0].job.as_ref().unwrap();
    assert_eq!(payload["args"]["group"], 7);

    assert_eq!(f.queue.delete_dead("no-such-id").await.unwrap(), None);
    assert_eq!(
        f.queue.delete_dead(&job.id).await.unwrap(),
        Some(Deleted {
            group_finished: Some("7".into())
        }),
        "its group has no live job left"
    );
    assert!(f.queue.dead_jobs(10).await.unwrap().is_empty());
    assert_eq!(
        f.queue.show(&job.id).await.unwrap(),
        None,
        "the payload is gone"
    );
    assert!(!f.queue.retry_dead(&job.id).await.unwrap());
    assert_eq!(
        f.queue.delete_dead(&job.id).await.unwrap(),
        None,
        "deleting twice finds nothing"
    );
}

#[tokio::test]
async fn the_newest_dead_jobs_come_first_where_a_dashboard_asks_for_them() {
    let f = Fixture::new();
    let mut buried = Vec::new();
    for group in [1, 2, 3] {
        f.queue
            .push(&Part { group, part: 0 }, Duration::ZERO)
            .await
            .unwrap();
        let job = f.claim_one("w:1", 5_000).await.unwrap();
        assert!(f.queue.bury(&job, "boom", 10).await.unwrap());
        buried.push(job.id);
        f.clock.advance(Duration::from_millis(5));
    }
    let ids =
        |jobs: Vec<shared::queue::DeadJob>| jobs.into_iter().map(|job| job.id).collect::<Vec<_>>();
    assert_eq!(ids(f.queue.dead_jobs(10).await.unwrap()), buried);
    assert_eq!(
        ids(f.queue.newest_dead_jobs(2).await.unwrap()),
        [buried[2].clone(), buried[1].clone()]
    );
    assert!(f.queue.newest_dead_jobs(0).await.unwrap().is_empty());
}
