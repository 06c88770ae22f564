//! Building the worker at start-up: connections, then the parts that run jobs, each given
//! only what it uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use shared::config::RedisSettings;
use shared::config::{CommonSettings, WorkerSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{ClaimPolicy, PubsubNodes, Queues, RedisConnection};
use shared::recent_broadcasts::RecentBroadcasts;
use tokio_util::sync::CancellationToken;

use crate::delivery_log::DeliveryLog;
use crate::fanout::Fanout;
use crate::finished_broadcasts::FinishedBroadcasts;
use crate::interop::Interop;
use crate::jobs::{BroadcastHandler, DeleteConnectionHandler, Registry, RelayHandler};
use crate::leases::Leases;
use crate::management::ManagementApi;
use crate::metrics::{BroadcastMetrics, JobMetrics, MetricsServer, Sampler};
use crate::outbox_sweeper::OutboxSweeper;
use crate::outcome::Settler;
use crate::rate_limit::{RateLimiter, Tuning};
use crate::relay::{OwnPublishes, Relay};

/// How long a job waits for a database connection.
const DB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker process, ready to run (see [`crate::runtime::run`]).
pub struct Worker {
    pub(crate) settings: WorkerSettings,
    /// Unique per process and start: `<host>-<pid>-<random>`.
    pub(crate) worker_id: Arc<str>,
    /// The queue's Redis, for the connections of their own that blocking waits need.
    pub(crate) redis_settings: Arc<RedisSettings>,
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
    /// `WORKER_METRICS_ADDR`: the bound listener, and what it samples when scraped.
    pub(crate) metrics: Option<(MetricsServer, Sampler)>,
}

impl Worker {
    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        let (server, _) = self.metrics.as_ref()?;
        server.local_addr().ok()
    }
}

/// Binds `WORKER_METRICS_ADDR` when `metrics` (the installed recorder) is given, then
/// connects, waiting for PostgreSQL and Redis when they are down.
pub async fn build(
    common: CommonSettings,
    settings: WorkerSettings,
    metrics: Option<PrometheusHandle>,
) -> anyhow::Result<Worker> {
    // First, so a taken port stops start-up at once rather than after the connections.
    let metrics_server = match (settings.metrics_addr, metrics) {
        (Some(addr), Some(handle)) => {
            crate::metrics::describe();
            Some(MetricsServer::bind(addr, handle).await?)
        }
        _ => None,
    };
    let db = shared::db::connect_lazy(&common.database_url, DB_ACQUIRE_TIMEOUT)
        .await
        .context("cannot open DATABASE_URL")?;
    let redis = RedisConnection::open(&common.redis, Duration::from_secs(5))
        .context("cannot use REDIS_URL")?;
    let interop_settings = settings.interop.redis.as_ref().unwrap_or(&common.redis);
    let interop_redis = RedisConnection::open(interop_settings, Duration::from_secs(5))
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
    let management = ManagementApi::new(&settings)
        .await
        .map_err(anyhow::Error::msg)?;
    let rate_limit = RateLimiter::new(
        settings.apigw_rate_limit,
        redis.clone(),
        &common.queue_prefix,
        &worker_id,
        Tuning::PRODUCTION,
    );
    let stopping = CancellationToken::new();
    let policy = ClaimPolicy {
        lease: settings.job_lease,
        max_attempts: settings.job_max_attempts,
        dead_retention: settings.dead_retention,
    };
    let fanout = Fanout {
        management: management.clone(),
        rate_limit: rate_limit.clone(),
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
            PubsubNodes::new(interop_settings).context("cannot use INTEROP_REDIS_URL")?,
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
            metrics: BroadcastMetrics::register(),
            recent: RecentBroadcasts::new(redis.clone(), &common.queue_prefix),
        })
        .register(RelayHandler {
            db: db.clone(),
            fanout,
        })
        .register(DeleteConnectionHandler {
            management,
            interop,
            rate_limit,
            stopping: stopping.clone(),
        });
    Ok(Worker {
        worker_id: worker_id.into(),
        redis_settings: Arc::new(common.redis.clone()),
        registry: Arc::new(registry),
        settler: Arc::new(Settler {
            finished: FinishedBroadcasts::start(db.clone()),
            policy: policy.clone(),
            done_retention: settings.done_retention,
            stopping: stopping.clone(),
            metrics: JobMetrics::register(),
        }),
        metrics: metrics_server.map(|server| (server, Sampler::new(queues.clone(), db.clone()))),
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
