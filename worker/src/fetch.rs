//! The apalis backend of one queue: a stream that claims a job whenever the worker has
//! room for one. It never ends and never yields an error (apalis ends a worker on either):
//! Redis trouble is logged and retried with backoff.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendBuilder, BoxDynError, CustomBackend, Task};
use futures::stream::{self, BoxStream, StreamExt};
use shared::config::RedisSettings;
use shared::queue::{ClaimPolicy, JobQueue, RedisConnection};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::leases::{LeasedJob, Leases};

pub type ClaimStream = BoxStream<'static, Result<Option<Task<LeasedJob>>, BoxDynError>>;
pub type ClaimSink = futures::sink::Drain<Task<LeasedJob>>;
pub type QueueBackend = CustomBackend<LeasedJob, Source, ClaimStream, SinkAdapter>;
pub type SinkAdapter = futures::sink::SinkErrInto<ClaimSink, Task<LeasedJob>, BoxDynError>;

/// What the backend is built from; cloned for every (re)start of the worker.
#[derive(Clone)]
pub struct Source {
    pub queue: JobQueue,
    pub policy: ClaimPolicy,
    /// Every claim's lease is held here from the moment it is made.
    pub leases: Leases,
    /// Unique per process and start; a claim's owner is this and a counter.
    pub worker_id: Arc<str>,
    /// For the connection of its own that blocking on the wake-up list needs.
    pub redis_settings: Arc<RedisSettings>,
    /// `WORKER_IDLE_POLL_MS`.
    pub idle_poll: Duration,
    pub stop: CancellationToken,
}

pub fn backend(source: Source) -> QueueBackend {
    use futures::SinkExt;
    BackendBuilder::new()
        .database(source)
        .fetcher(|source: &mut Source, _config: &(), _worker| claims(source.clone()))
        .sink(|_source: &mut Source, _config: &()| futures::sink::drain().sink_err_into())
        .build()
        // The builder only fails on a part left out, and all three are given above.
        .expect("backend has every part")
}

struct ClaimState {
    source: Source,
    blocking: Option<RedisConnection>,
    claims: u64,
    failures: u32,
}

fn claims(source: Source) -> ClaimStream {
    let state = ClaimState {
        source,
        blocking: None,
        claims: 0,
        failures: 0,
    };
    stream::unfold(state, |mut state| async move {
        loop {
            if state.source.stop.is_cancelled() {
                return None;
            }
            let source = &state.source;
            state.claims += 1;
            let owner = format!("{}:{}", source.worker_id, state.claims);
            match source.queue.claim(1, &owner, &source.policy).await {
                Ok(mut jobs) => {
                    state.failures = 0;
                    if let Some(job) = jobs.pop() {
                        let leased = source.leases.hold(source.queue.name(), job);
                        return Some((Ok(Some(Task::new(leased))), state));
                    }
                    wait_for_work(&mut state).await;
                }
                Err(error) => {
                    state.failures += 1;
                    let pause = Backoff::CLAIM.delay(state.failures);
                    tracing::warn!(%error, queue = source.queue.name().as_str(), ?pause, "claim failed; retrying");
                    pause_unless_stopped(&source.stop, pause).await;
                }
            }
        }
    })
    .boxed()
}

/// Blocks on the queue's wake-up list; scheduled and orphaned jobs are looked at again
/// after `WORKER_IDLE_POLL_MS` at the latest.
async fn wait_for_work(state: &mut ClaimState) {
    let idle = state.source.idle_poll;
    if state.blocking.is_none() {
        let settings = &state.source.redis_settings;
        state.blocking = RedisConnection::open(settings, idle + Duration::from_secs(2)).ok();
    }
    let Some(blocking) = state.blocking.as_mut() else {
        pause_unless_stopped(&state.source.stop, idle).await;
        return;
    };
    tokio::select! {
        _ = state.source.stop.cancelled() => {}
        result = state.source.queue.wait_for_work(blocking, idle) => {
            if let Err(error) = result {
                tracing::debug!(%error, "wake-up wait failed");
                pause_unless_stopped(&state.source.stop, idle).await;
            }
        }
    }
}

async fn pause_unless_stopped(stop: &CancellationToken, pause: Duration) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(pause) => {}
    }
}
