//! Gauges read from Redis and the database when `/metrics` is scraped:
//! `wsgw_queue_jobs{queue, state}` and `wsgw_outbox_pending_broadcasts`.
//!
//! The cost is bounded whatever the scrape rate: one sample a second at most (concurrent
//! scrapes wait for the one in progress), one pipelined read per queue and one `COUNT` on
//! the outbox, each given [`READ_TIMEOUT`]. A read that fails leaves its gauges as they
//! were and counts `worker_metrics_sample_errors_total{source}`.

use std::time::{Duration, Instant};

use metrics::{Counter, Gauge};
use sea_orm::DatabaseConnection;
use shared::queries::outbox;
use shared::queue::{QueueCounts, QueueName, Queues};
use tokio::sync::Mutex;

const MIN_INTERVAL: Duration = Duration::from_secs(1);
const READ_TIMEOUT: Duration = Duration::from_secs(1);
const STATES: [&str; 5] = ["waiting", "scheduled", "running", "failed", "dead"];

pub struct Sampler {
    queues: Queues,
    db: DatabaseConnection,
    last: Mutex<Option<Instant>>,
    /// Per queue, one gauge per state of [`STATES`].
    depth: [(QueueName, [Gauge; 5]); 2],
    outbox_pending: Gauge,
    redis_errors: Counter,
    database_errors: Counter,
}

impl Sampler {
    pub fn new(queues: Queues, db: DatabaseConnection) -> Self {
        let errors = |source: &'static str| metrics::counter!("worker_metrics_sample_errors_total", "source" => source);
        Self {
            queues,
            db,
            last: Mutex::new(None),
            depth: QueueName::ALL.map(|queue| {
                let gauges = STATES.map(|state| {
                    metrics::gauge!("wsgw_queue_jobs", "queue" => queue.as_str(), "state" => state)
                });
                (queue, gauges)
            }),
            outbox_pending: metrics::gauge!("wsgw_outbox_pending_broadcasts"),
            redis_errors: errors("redis"),
            database_errors: errors("database"),
        }
    }

    /// Brings the gauges up to date, unless a sample less than a second old stands.
    pub async fn refresh(&self) {
        let mut last = self.last.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_INTERVAL) {
            return;
        }
        for (queue, gauges) in &self.depth {
            let counts = tokio::time::timeout(READ_TIMEOUT, self.queues.get(*queue).counts()).await;
            match counts {
                Ok(Ok(counts)) => set_depth(gauges, &counts),
                Ok(Err(error)) => self.failed(&self.redis_errors, &error.to_string()),
                Err(_) => self.failed(&self.redis_errors, "timed out"),
            }
        }
        match tokio::time::timeout(READ_TIMEOUT, outbox::pending_count(&self.db)).await {
            Ok(Ok(pending)) => self.outbox_pending.set(pending as f64),
            Ok(Err(error)) => self.failed(&self.database_errors, &error.to_string()),
            Err(_) => self.failed(&self.database_errors, "timed out"),
        }
        *last = Some(Instant::now());
    }

    fn failed(&self, counter: &Counter, reason: &str) {
        counter.increment(1);
        tracing::debug!(
            reason,
            "a metrics sample failed; its gauges keep their last value"
        );
    }
}

fn set_depth(gauges: &[Gauge; 5], counts: &QueueCounts) {
    let values = [
        counts.waiting,
        counts.scheduled,
        counts.running,
        counts.failed,
        counts.dead,
    ];
    for (gauge, value) in gauges.iter().zip(values) {
        gauge.set(value as f64);
    }
}
