//! The Redis connection of every process: multiplexed, re-established in the background for
//! as long as Redis is away, and bounded, so no command waits longer than its deadline.
//!
//! redis-rs's `ConnectionManager` alone gets two things wrong after an outage:
//! - it gives up reconnecting after a few attempts and keeps that failure; the next command
//!   gets it back and only then starts a new attempt, so the first command after Redis
//!   returned fails;
//! - it learns that Redis went away only from a command that fails on the dead connection,
//!   so after a quiet outage that first command fails too.
//!
//! So here the manager retries without a cap (a command waits for the connection instead of
//! getting a stale failure), and a keeper pings every [`KEEPER_EVERY`], so a dead connection
//! is noticed and replaced while nobody needs it. While the keeper knows Redis is down, a
//! command waits at most [`WHILE_DOWN_DEADLINE`] (longer than a reconnection attempt takes to
//! come round), so an outage costs callers little time. Nothing is ever sent twice: a
//! command that timed out or failed is reported, never retried here.
//!
//! With `REDIS_CLUSTER=true` the same type wraps redis-rs's async cluster connection, which
//! follows MOVED and ASK, refreshes the slot map after a failover and reconnects to nodes in
//! the background; the deadlines and the keeper are the same. One caveat of that client: a
//! command whose node connection broke while it was in flight is sent again once the node
//! is back. Every queue script is safe against that (a push is keyed by its job id; settles
//! check the lease); see `scripts`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterConfig;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use super::target::RedisTarget;
use crate::config::RedisSettings;

/// How often the keeper checks the connection.
const KEEPER_EVERY: Duration = Duration::from_millis(500);
/// Longest pause between two reconnection attempts (jitter adds up to as much again).
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(100);
/// How long a command waits while Redis is known to be down.
const WHILE_DOWN_DEADLINE: Duration = Duration::from_millis(500);
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pauses between attempts while waiting for Redis at start-up: doubling from the first to the last.
const WAIT_PAUSES: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(2));

/// A Redis connection that is cheap to clone (clones share one multiplexed connection).
#[derive(Clone)]
pub struct RedisConnection {
    link: Link,
    target: Arc<RedisTarget>,
    deadline: Duration,
    /// Shared by the clones; the keeper runs while one of them lives.
    health: Arc<Health>,
}

/// A single node's manager or a cluster's connection: both multiplexed, both cheap to clone.
#[derive(Clone)]
enum Link {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

#[derive(Default)]
struct Health {
    /// The keeper's last ping failed, and no command succeeded since.
    down: AtomicBool,
    /// Why the keeper found Redis unreachable, while it is.
    failure: std::sync::Mutex<Option<String>>,
}

/// A connection to one node at `url` (public roots for `rediss://`); see
/// [`RedisConnection::open`].
pub fn redis_connection(url: &str, deadline: Duration) -> Result<RedisConnection, RedisError> {
    RedisConnection::with_target(RedisTarget::single(url)?, deadline)
}

impl RedisConnection {
    /// A connection to the Redis of `settings` (one node or a cluster, TCP or TLS) whose
    /// commands answer, or fail, within `deadline` (waiting for the connection included).
    /// Lazy: a process starts while Redis is down and reports it through readiness and its
    /// logs. Needs a Tokio runtime (the keeper is a task).
    pub fn open(settings: &RedisSettings, deadline: Duration) -> Result<Self, RedisError> {
        Self::with_target(RedisTarget::new(settings, deadline)?, deadline)
    }

    fn with_target(target: RedisTarget, deadline: Duration) -> Result<Self, RedisError> {
        let link = match target.cluster() {
            Some(cluster) => {
                let config = ClusterConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(deadline);
                Link::Cluster(cluster.get_pending_async_connection_with_config(config))
            }
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(deadline))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_number_of_retries(usize::MAX)
                    .set_max_delay(RECONNECT_MAX_DELAY);
                let client = target.nodes()[0].clone();
                Link::Single(ConnectionManager::new_lazy_with_config(client, config)?)
            }
        };
        let health = Arc::new(Health::default());
        let target = Arc::new(target);
        let keeper = Keeper {
            link: link.clone(),
            target: target.clone(),
            deadline,
            health: Arc::downgrade(&health),
        };
        tokio::spawn(keeper.run());
        Ok(RedisConnection {
            link,
            target,
            deadline,
            health,
        })
    }

    /// Why Redis is unreachable, while the keeper finds it so (for readiness): one line,
    /// never a password.
    pub fn failure(&self) -> Option<String> {
        if !self.health.down.load(Ordering::Relaxed) {
            return None;
        }
        self.health
            .failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Returns once Redis answers, logging every failed attempt and the pause before the
    /// next one (start-up of the worker).
    pub async fn wait_until_reachable(&self) {
        let mut pause = WAIT_PAUSES.0;
        for attempt in 1u32.. {
            if self.answers().await {
                if attempt > 1 {
                    tracing::info!(addr = %self.addr(), attempts = attempt, "Redis is reachable");
                }
                return;
            }
            let reason = self.why_unreachable().await;
            tracing::warn!(addr = %self.addr(), attempt, retry_in = ?pause, %reason,
                "Redis is unreachable; waiting for it");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(WAIT_PAUSES.1);
        }
    }

    /// Whether Redis answers a PING now; if not, why (one line, never a password).
    pub async fn reachable(&self) -> Result<(), String> {
        if self.answers().await {
            Ok(())
        } else {
            Err(self.why_unreachable().await)
        }
    }

    async fn answers(&self) -> bool {
        let mut connection = self.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok()
    }

    /// `host:port` (never the password).
    fn addr(&self) -> String {
        self.target.addr()
    }

    async fn why_unreachable(&self) -> String {
        self.target.why_unreachable().await
    }

    async fn within<T>(
        &self,
        command: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, RedisError> {
        let deadline = if self.health.down.load(Ordering::Relaxed) {
            self.deadline.min(WHILE_DOWN_DEADLINE)
        } else {
            self.deadline
        };
        match tokio::time::timeout(deadline, command).await {
            Ok(result) => {
                if result.is_ok() {
                    self.health.down.store(false, Ordering::Relaxed);
                }
                result
            }
            Err(_) => Err(RedisError::from(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("Redis did not answer within {deadline:?}"),
            ))),
        }
    }
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Link::Single(manager) => manager.req_packed_command(cmd),
            Link::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Link::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Link::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(manager) => manager.get_db(),
            Link::Cluster(_) => 0,
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let mut link = self.link.clone();
            self.within(link.req_packed_command(cmd)).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let mut link = self.link.clone();
            self.within(link.req_packed_commands(pipeline, offset, count))
                .await
        })
    }

    fn get_db(&self) -> i64 {
        self.link.get_db()
    }
}

/// Pings while a clone of its connection lives. A failed ping makes the manager replace a
/// dead connection; the outage and the recovery are logged once each.
struct Keeper {
    link: Link,
    target: Arc<RedisTarget>,
    deadline: Duration,
    /// Does not keep the connection alive.
    health: Weak<Health>,
}

impl Keeper {
    async fn run(self) {
        let mut down_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(KEEPER_EVERY).await;
            let Some(health) = self.health.upgrade() else {
                return;
            };
            let connection = RedisConnection {
                link: self.link.clone(),
                target: self.target.clone(),
                deadline: self.deadline,
                health,
            };
            let answered = connection.answers().await;
            connection.health.down.store(!answered, Ordering::Relaxed);
            match (answered, down_since) {
                (true, Some(since)) => {
                    tracing::info!(addr = %connection.addr(), after = ?since.elapsed(),
                        "Redis is reachable again");
                    down_since = None;
                }
                (false, None) => {
                    let reason = connection.why_unreachable().await;
                    tracing::warn!(addr = %connection.addr(), %reason,
                        "Redis is unreachable; reconnecting in the background");
                    *connection
                        .health
                        .failure
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
                    down_since = Some(Instant::now());
                }
                _ => {}
            }
        }
    }
}
