//! The worker process: one apalis worker per queue in one `Monitor`, a lease-renewal task,
//! and an orderly shutdown.
//!
//! Beside them runs the outbox sweeper, which enqueues again any broadcast the database
//! still owes that has no live job.
//!
//! Shutdown, in order: the signal stops claiming and sweeping; running jobs get
//! `WORKER_SHUTDOWN_GRACE_SECS` to finish; then fan-outs start no new POST, the POSTs on
//! the wire complete and are recorded (leases still renewed meanwhile), and every job hands
//! its unfinished connections back to the front of its queue, so nothing is lost, nobody
//! gets a message twice, and nothing waits for a lease to expire.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use apalis::layers::WorkerBuilderExt;
use apalis::prelude::{BoxDynError, Data, Monitor, ParallelizeExt, WorkerBuilder};
use shared::config::{CommonSettings, WorkerSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{ClaimedJob, JobQueue, QueueName, Queues, redis_connection};
use tokio_util::sync::CancellationToken;

use crate::context::{JobContext, SharedContext};
use crate::delivery_log::DeliveryLog;
use crate::fetch::{self, Source};
use crate::interop::Interop;
use crate::leases::Leases;
use crate::management::ManagementApi;
use crate::{jobs, outbox_sweeper, outcome};

/// Beyond one POST's timeout: a per-connection backoff and the job's settle.
const IN_FLIGHT_MARGIN: Duration = Duration::from_secs(3);

/// How long a job waits for a database connection.
const DB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects, waiting for PostgreSQL and Redis when they are down.
pub async fn build_context(
    common: CommonSettings,
    settings: WorkerSettings,
) -> anyhow::Result<SharedContext> {
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
        std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_owned()),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    Ok(Arc::new(JobContext {
        queues: Queues::new(redis.clone(), &common.queue_prefix),
        management: ManagementApi::new(&settings).await,
        deliveries: DeliveryLog::new(redis.clone(), &common.queue_prefix),
        interop: Interop::new(settings.interop.clone(), interop_redis),
        renderer: MessageRenderer::new(&common),
        leases: Leases::default(),
        stopping: CancellationToken::new(),
        db,
        redis,
        common,
        settings,
        worker_id,
    }))
}

async fn handle(
    context: &JobContext,
    queue: &JobQueue,
    job: ClaimedJob,
) -> Result<(), BoxDynError> {
    let span = tracing::info_span!(
        "job",
        job_id = job.id,
        queue = queue.name().as_str(),
        attempt = job.attempts
    );
    let outcome = tracing::Instrument::instrument(jobs::run(context, &job), span).await;
    outcome::settle(context, queue, &job, outcome).await;
    Ok(())
}

async fn handle_default(job: ClaimedJob, context: Data<SharedContext>) -> Result<(), BoxDynError> {
    handle(&context, &context.queues.default, job).await
}

async fn handle_low_priority(
    job: ClaimedJob,
    context: Data<SharedContext>,
) -> Result<(), BoxDynError> {
    handle(&context, &context.queues.low_priority, job).await
}

/// Runs until `shutdown` resolves, then stops as described in the module docs.
pub async fn run(
    context: SharedContext,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let stop_renewal = CancellationToken::new();
    let renewal = tokio::spawn({
        let (leases, queues) = (context.leases.clone(), context.queues.clone());
        let (lease, stop) = (context.settings.job_lease, stop_renewal.clone());
        async move { leases.renew_until(queues, lease, stop).await }
    });
    let sweeper = tokio::spawn({
        let (context, stop) = (context.clone(), stop.clone());
        async move { outbox_sweeper::run_until(&context, stop).await }
    });
    let source = |name: QueueName| Source {
        context: context.clone(),
        queue: context.queues.get(name).clone(),
        stop: stop.clone(),
    };
    let (default_source, low_source) = (source(QueueName::Default), source(QueueName::LowPriority));
    let (default_jobs, low_jobs) = (
        context.settings.broadcast_jobs,
        context.settings.low_priority_jobs,
    );
    let (data_default, data_low) = (context.clone(), context.clone());
    let worker_id = context.worker_id.clone();
    let low_worker_id = worker_id.clone();
    let monitor = Monitor::new()
        .register(move |index| {
            WorkerBuilder::new(format!("{worker_id}-default-{index}"))
                .backend(fetch::backend(default_source.clone()).expect("backend has every part"))
                .data(data_default.clone())
                .concurrency(default_jobs)
                .parallelize(tokio::spawn)
                .build(handle_default)
        })
        .register(move |index| {
            WorkerBuilder::new(format!("{low_worker_id}-low_priority-{index}"))
                .backend(fetch::backend(low_source.clone()).expect("backend has every part"))
                .data(data_low.clone())
                .concurrency(low_jobs)
                .parallelize(tokio::spawn)
                .build(handle_low_priority)
        });
    let signal = {
        let stop = stop.clone();
        async move {
            shutdown.await;
            tracing::info!("shutdown requested; no new jobs are claimed");
            stop.cancel();
            Ok(())
        }
    };
    let grace = context.settings.shutdown_grace;
    let grace_elapsed = {
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
            tokio::time::sleep(grace).await;
        }
    };
    tokio::select! {
        result = monitor.run_with_signal(signal) => {
            if let Err(error) = result {
                tracing::error!(%error, "monitor stopped with an error");
            }
        }
        () = grace_elapsed => tracing::warn!(?grace, "jobs still running after the grace period"),
    }
    stop.cancel();
    // No new POST from here on. Those on the wire finish within their timeout and are
    // recorded; each job then hands its unfinished connections back itself.
    context.stopping.cancel();
    let settle_limit = context.settings.apigw_timeout + IN_FLIGHT_MARGIN;
    if !context.leases.wait_until_settled(settle_limit).await {
        tracing::warn!(
            ?settle_limit,
            "jobs still running after their POSTs' timeout"
        );
    }
    stop_renewal.cancel();
    let _ = tokio::join!(renewal, sweeper);
    let released = context.leases.release_all(&context.queues).await;
    tracing::info!(released, "worker stopped");
    Ok(())
}
