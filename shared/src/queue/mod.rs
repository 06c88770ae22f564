//! Prioritized job queues on Redis: what web pushes and worker claims.
//!
//! apalis-redis 1.0.0 loses jobs or stalls in ways our users cannot accept (see the
//! README), so the queue state lives here, in atomic Lua scripts over plain Redis types
//! that `redis-cli` can read; the worker drives it with apalis's worker and monitor.
//!
//! # Layout
//! - `connection`: the Redis connection every process uses, and how it survives outages.
//! - `clock`: where the queue reads the time (tests move it forward).
//! - `envelope`: the stored JSON of a job, written by the producer and read by the worker.
//! - `keys`: the Redis keys of one queue.
//! - `scripts`: every state change, one Lua script each.
//! - `producer`: pushing jobs (web, and broadcasts splitting themselves).
//! - `consumer`: claiming, acknowledging, retrying, burying, lease renewal.
//! - `inspect`: counts, dead jobs, and their retry or deletion, for operators.

mod clock;
mod connection;
mod consumer;
mod envelope;
mod inspect;
mod keys;
mod producer;
mod scripts;

pub use clock::{Clock, SystemClock};
pub use connection::{RedisConnection, redis_connection};
pub use consumer::{Acked, ClaimPolicy, ClaimedJob};
pub use envelope::{Envelope, StoredEnvelope};
pub use inspect::{DeadJob, DeletedDead, QueueCounts};
pub use keys::QueueKeys;

use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};

/// The two priorities. Each has its own keys and its own workers, so a backlog of
/// low-priority work never delays a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    Default,
    LowPriority,
}

impl QueueName {
    pub const ALL: [QueueName; 2] = [QueueName::Default, QueueName::LowPriority];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Default => "default",
            QueueName::LowPriority => "low_priority",
        }
    }
}

impl std::str::FromStr for QueueName {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        QueueName::ALL
            .into_iter()
            .find(|name| name.as_str() == raw)
            .ok_or_else(|| format!("unknown queue {raw:?} (default, low_priority)"))
    }
}

/// A job type: its name in the stored JSON and the queue it goes to.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    const NAME: &'static str;
    const QUEUE: QueueName;

    /// The group this job belongs to: jobs of one group are tracked together, so the queue
    /// can tell whether any of them is still live (see `scripts`).
    fn group(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("unexpected redis reply: {0}")]
    Reply(#[from] redis::ParsingError),
    #[error("job does not encode: {0}")]
    Encode(#[from] serde_json::Error),
}

impl QueueError {
    /// Redis cannot be reached right now (refused, dropped, timed out): worth a retry, not
    /// a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            QueueError::Redis(error) => {
                error.is_io_error()
                    || error.is_timeout()
                    || error.is_connection_dropped()
                    || error.is_connection_refusal()
            }
            QueueError::Reply(_) | QueueError::Encode(_) => false,
        }
    }
}

/// One queue: a handle that is cheap to clone (the connection is multiplexed).
#[derive(Clone)]
pub struct JobQueue {
    connection: RedisConnection,
    keys: QueueKeys,
    name: QueueName,
    clock: Arc<dyn Clock>,
}

impl JobQueue {
    /// A queue on the wall clock.
    pub fn new(connection: RedisConnection, prefix: &str, name: QueueName) -> Self {
        Self::with_clock(connection, prefix, name, Arc::new(SystemClock))
    }

    /// A queue that reads the time from `clock` (tests advance it by hand).
    pub fn with_clock(
        connection: RedisConnection,
        prefix: &str,
        name: QueueName,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            connection,
            keys: QueueKeys::new(prefix, name.as_str()),
            name,
            clock,
        }
    }

    pub fn name(&self) -> QueueName {
        self.name
    }

    pub fn keys(&self) -> &QueueKeys {
        &self.keys
    }

    fn invocation<'a>(&self, script: &'a redis::Script) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        for key in self.keys.all() {
            invocation.key(key);
        }
        invocation
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Both queues, for code that pushes any job.
#[derive(Clone)]
pub struct Queues {
    pub default: JobQueue,
    pub low_priority: JobQueue,
}

impl Queues {
    /// Both queues on the wall clock.
    pub fn new(connection: RedisConnection, prefix: &str) -> Self {
        Self::with_clock(connection, prefix, Arc::new(SystemClock))
    }

    pub fn with_clock(connection: RedisConnection, prefix: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            default: JobQueue::with_clock(
                connection.clone(),
                prefix,
                QueueName::Default,
                clock.clone(),
            ),
            low_priority: JobQueue::with_clock(connection, prefix, QueueName::LowPriority, clock),
        }
    }

    pub fn get(&self, name: QueueName) -> &JobQueue {
        match name {
            QueueName::Default => &self.default,
            QueueName::LowPriority => &self.low_priority,
        }
    }

    /// Pushes `job` onto its queue, to run after `delay`. Returns the job id.
    pub async fn enqueue<J: Job>(&self, job: &J, delay: Duration) -> Result<String, QueueError> {
        self.get(J::QUEUE).push(job, delay).await
    }

    /// Pushes `job` to run now unless a job of its group is live. Returns the job id, or
    /// `None` when skipped.
    pub async fn enqueue_unless_live<J: Job>(&self, job: &J) -> Result<Option<String>, QueueError> {
        let pushed = self
            .get(J::QUEUE)
            .push_unless_live(std::slice::from_ref(job))
            .await?;
        Ok(pushed.into_iter().next().flatten())
    }
}

/// A duration as the queue's milliseconds, saturating far beyond any real deadline.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}
