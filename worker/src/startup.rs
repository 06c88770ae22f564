//! Building the worker at start-up: connections, then the parts that run jobs, each given
//! only what it uses.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use shared::config::{CommonSettings, WorkerSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{ClaimPolicy, Queues, redis_connection};
use shared::recent_broadcasts::RecentBroadcasts;
use tokio_util::sync::CancellationToken;

use crate::delivery_log::DeliveryLog;
use crate::fanout::Fanout;
use crate::interop::Interop;
use crate::jobs::{BroadcastHandler, DeleteConnectionHandler, Registry, RelayHandler};
use crate::leases::Leases;
use crate::management::ManagementApi;
use crate::outbox_sweeper::OutboxSweeper;
use crate::outcome::Settler;
use crate::relay::{OwnPublishes, Relay};

/// How long a job waits for a database connection.
const DB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker process, ready to run (see [`crate::runtime::run`]).
pub struct Worker {
    pub(crate) settings: WorkerSettings,
    /// Unique per process and start: `<host>-<pid>-<random>`.
    pub(crate) worker_id: Arc<str>,
    pub(crate) redis_url: Arc<str>,
    pub(crate) queues: Queues,
    /// One policy for claiming and settling: one lease length, one attempt limit.
    pub(crate) policy: ClaimPolicy,
    pub(crate) registry: Arc<Registry>,
    pub(crate) settler: Arc<Settler>,
    pub(crate) sweeper: OutboxSweeper,
    pub(crate) leases: Leases,
    /// `ACTION_CABLE_RELAY`: relays what Rails publishes to API Gateway connections.
    pub(crate) relay: Option<Relay>,
    /// Cancelled when the shutdown grace period ends: fan-outs start no new POST.
    pub(crate) stopping: CancellationToken,
}

/// Connects, waiting for PostgreSQL and Redis when they are down.
pub async fn build(common: CommonSettings, settings: WorkerSettings) -> anyhow::Result<Worker> {
    let db = shared::db::connect_lazy(&common.database_url, DB_ACQUIRE_TIMEOUT)
        .await
        .context("cannot open DATABASE_URL")?;
    let redis = redis_connection(&common.redis_url, Duration::from_secs(5))
        .context("cannot use REDIS_URL")?;
    let interop_url = settings
        .interop
        .redis_url
        .as_deref()
        .unwrap_or(&common.redis_url);
    let interop_redis = redis_connection(interop_url, Duration::from_secs(5))
        .context("cannot use INTEROP_REDIS_URL")?;
    // Started while PostgreSQL or Redis is down, the worker waits for them (logging why and
    // when it tries again) instead of exiting.
    shared::db::wait_until_reachable(&db, &common.database_url).await;
    redis.wait_until_reachable().await;
    let worker_id = format!(
        "{}-{}-{}",
        settings.host_name,
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let queues = Queues::new(redis.clone(), &common.queue_prefix);
    let deliveries = DeliveryLog::new(redis.clone(), &common.queue_prefix);
    let management = ManagementApi::new(&settings).await;
    let stopping = CancellationToken::new();
    let policy = ClaimPolicy {
        lease: settings.job_lease,
        max_attempts: settings.job_max_attempts,
        dead_retention: settings.dead_retention,
    };
    let fanout = Fanout {
        management: management.clone(),
        deliveries: deliveries.clone(),
        db: db.clone(),
        post_concurrency: settings.post_concurrency,
        max_attempts: settings.apigw_max_attempts,
        stopping: stopping.clone(),
    };
    let own_publishes = settings
        .interop
        .action_cable_prefix
        .is_some()
        .then(|| OwnPublishes::new(redis.clone(), &common.queue_prefix));
    let relay = match &settings.interop.relay_prefix {
        Some(prefix) => Some(Relay::new(
            redis::Client::open(interop_url).context("cannot use INTEROP_REDIS_URL")?,
            prefix,
            redis.clone(),
            &common.queue_prefix,
            queues.default.clone(),
        )),
        None => None,
    };
    let interop = Interop::new(settings.interop.clone(), interop_redis);
    let registry = Registry::default()
        .register(BroadcastHandler {
            db: db.clone(),
            renderer: MessageRenderer::new(&common),
            interop: interop.clone(),
            own_publishes,
            deliveries,
            queue: queues.default.clone(),
            split_size: settings.broadcast_split_size,
            fanout: fanout.clone(),
            recent: RecentBroadcasts::new(redis.clone(), &common.queue_prefix),
        })
        .register(RelayHandler {
            db: db.clone(),
            fanout,
        })
        .register(DeleteConnectionHandler {
            management,
            interop,
        });
    Ok(Worker {
        worker_id: worker_id.into(),
        redis_url: common.redis_url.as_str().into(),
        registry: Arc::new(registry),
        settler: Arc::new(Settler {
            db: db.clone(),
            policy: policy.clone(),
            done_retention: settings.done_retention,
            stopping: stopping.clone(),
        }),
        sweeper: OutboxSweeper {
            db,
            queue: queues.default.clone(),
            grace: settings.outbox_grace,
            interval: settings.outbox_sweep_interval,
        },
        leases: Leases::default(),
        relay,
        queues,
        policy,
        stopping,
        settings,
    })
}
