//! The apalis backend of one queue: a stream that claims a job whenever the worker has
//! room for one. It never ends and never yields an error (apalis ends a worker on either):
//! Redis trouble is logged and retried with backoff.

use std::time::Duration;

use apalis::prelude::{BackendBuilder, BoxDynError, CustomBackend, Task};
use futures::stream::{self, BoxStream, StreamExt};
use shared::queue::{ClaimedJob, JobQueue, RedisConnection, redis_connection};
use tokio_util::sync::CancellationToken;

use crate::context::SharedContext;

pub type ClaimStream = BoxStream<'static, Result<Option<Task<ClaimedJob>>, BoxDynError>>;
pub type ClaimSink = futures::sink::Drain<Task<ClaimedJob>>;
pub type QueueBackend = CustomBackend<ClaimedJob, Source, ClaimStream, SinkAdapter>;

/// What the backend is built from; cloned for every (re)start of the worker.
#[derive(Clone)]
pub struct Source {
    pub context: SharedContext,
    pub queue: JobQueue,
    pub stop: CancellationToken,
}

pub type SinkAdapter = futures::sink::SinkErrInto<ClaimSink, Task<ClaimedJob>, BoxDynError>;

pub fn backend(source: Source) -> Result<QueueBackend, BoxDynError> {
    use futures::SinkExt;
    Ok(BackendBuilder::new()
        .database(source)
        .fetcher(|source: &mut Source, _config: &(), _worker| claims(source.clone()))
        .sink(|_source: &mut Source, _config: &()| futures::sink::drain().sink_err_into())
        .build()?)
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
            let context = &state.source.context;
            state.claims += 1;
            let owner = format!("{}:{}", context.worker_id, state.claims);
            match state.source.queue.claim(1, &owner, &context.claim_policy()).await {
                Ok(mut jobs) => {
                    state.failures = 0;
                    if let Some(job) = jobs.pop() {
                        context.leases.hold(state.source.queue.name(), &job);
                        return Some((Ok(Some(Task::new(job))), state));
                    }
                    wait_for_work(&mut state).await;
                }
                Err(error) => {
                    state.failures += 1;
                    let pause = Duration::from_millis(100 * 2u64.pow(state.failures.min(5)));
                    tracing::warn!(%error, queue = state.source.queue.name().as_str(), ?pause, "claim failed; retrying");
                    pause_unless_stopped(&state.source.stop, pause).await;
                }
            }
        }
    })
    .boxed()
}

/// Blocks on the queue's wake-up list; scheduled and orphaned jobs are looked at again
/// after `WORKER_IDLE_POLL_MS` at the latest.
async fn wait_for_work(state: &mut ClaimState) {
    let idle = state.source.context.settings.idle_poll;
    if state.blocking.is_none() {
        let url = &state.source.context.common.redis_url;
        state.blocking = redis_connection(url, idle + Duration::from_secs(2)).ok();
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
