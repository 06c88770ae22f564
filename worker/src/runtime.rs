//! The worker process: one apalis worker per queue in one `Monitor`, a lease-renewal task,
//! and an orderly shutdown.
//!
//! Beside them runs the outbox sweeper, which enqueues again any broadcast the database
//! still owes that has no live job, and, with `ACTION_CABLE_RELAY`, the relay.
//!
//! Shutdown, in order: the signal stops claiming, sweeping and relaying; running jobs get
//! `WORKER_SHUTDOWN_GRACE_SECS` to finish; then fan-outs start no new POST, the POSTs on
//! the wire complete and are recorded (leases still renewed meanwhile), and every job hands
//! its unfinished connections back to the front of its queue, so nothing is lost, nobody
//! gets a message twice, and nothing waits for a lease to expire.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::layers::WorkerBuilderExt;
use apalis::prelude::{BoxDynError, Data, Monitor, ParallelizeExt, WorkerBuilder};
use shared::queue::{JobQueue, QueueName};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::fetch::{self, Source};
use crate::jobs::Registry;
use crate::leases::LeasedJob;
use crate::outcome::Settler;
use crate::startup::Worker;

/// Beyond one POST's timeout: a per-connection backoff and the job's settle.
const IN_FLIGHT_MARGIN: Duration = Duration::from_secs(3);

/// What the apalis worker of one queue hands each claimed job to.
struct QueueRunner {
    queue: JobQueue,
    registry: Arc<Registry>,
    settler: Arc<Settler>,
}

async fn handle(leased: LeasedJob, runner: Data<Arc<QueueRunner>>) -> Result<(), BoxDynError> {
    let job = leased.job();
    let span = tracing::info_span!(
        "job",
        job_id = job.id,
        queue = runner.queue.name().as_str(),
        attempt = job.attempts
    );
    let (kind, outcome) = runner.registry.run(job).instrument(span).await;
    runner
        .settler
        .settle(&runner.queue, leased, kind, outcome)
        .await;
    Ok(())
}

/// One apalis worker for queue `name`: it claims from that queue and runs as many jobs at
/// once as the settings allow for it.
fn register(monitor: Monitor, worker: &Worker, name: QueueName, source: Source) -> Monitor {
    let concurrency = match name {
        QueueName::Default => worker.settings.broadcast_jobs,
        QueueName::LowPriority => worker.settings.low_priority_jobs,
    };
    let runner = Arc::new(QueueRunner {
        queue: worker.queues.get(name).clone(),
        registry: worker.registry.clone(),
        settler: worker.settler.clone(),
    });
    let worker_id = worker.worker_id.clone();
    monitor.register(move |index| {
        WorkerBuilder::new(format!("{worker_id}-{}-{index}", name.as_str()))
            .backend(fetch::backend(source.clone()))
            .data(runner.clone())
            .concurrency(concurrency)
            .parallelize(tokio::spawn)
            .build(handle)
    })
}

/// Runs until `shutdown` resolves, then stops as described in the module docs.
pub async fn run(
    mut worker: Worker,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let stop_renewal = CancellationToken::new();
    let renewal = tokio::spawn({
        let (leases, queues) = (worker.leases.clone(), worker.queues.clone());
        let (lease, stop) = (worker.settings.job_lease, stop_renewal.clone());
        async move { leases.renew_until(queues, lease, stop).await }
    });
    let sweeper = tokio::spawn({
        let (sweeper, stop) = (worker.sweeper.clone(), stop.clone());
        async move { sweeper.run_until(stop).await }
    });
    // Served to the end: a scrape during the shutdown sees the jobs being handed back.
    let stop_metrics = CancellationToken::new();
    let metrics = worker
        .metrics
        .take()
        .map(|(server, sampler)| tokio::spawn(server.serve(sampler, stop_metrics.clone())));
    let relay = worker.relay.take().map(|relay| {
        let stop = stop.clone();
        tokio::spawn(async move { relay.run_until(stop).await })
    });
    let source = |name: QueueName| Source {
        queue: worker.queues.get(name).clone(),
        policy: worker.policy.clone(),
        leases: worker.leases.clone(),
        worker_id: worker.worker_id.clone(),
        redis_settings: worker.redis_settings.clone(),
        idle_poll: worker.settings.idle_poll,
        stop: stop.clone(),
    };
    let monitor = QueueName::ALL
        .into_iter()
        .fold(Monitor::new(), |monitor, name| {
            register(monitor, &worker, name, source(name))
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
    let grace = worker.settings.shutdown_grace;
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
    worker.stopping.cancel();
    let settle_limit = worker.settings.apigw_timeout + IN_FLIGHT_MARGIN;
    if !worker.leases.wait_until_settled(settle_limit).await {
        tracing::warn!(
            ?settle_limit,
            "jobs still running after their POSTs' timeout"
        );
    }
    stop_renewal.cancel();
    let _ = tokio::join!(renewal, sweeper);
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    let released = worker.leases.release_all(&worker.queues).await;
    worker.settler.finished.flush().await;
    stop_metrics.cancel();
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    tracing::info!(released, "worker stopped");
    Ok(())
}
