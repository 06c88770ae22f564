//! How a job run ended, and what that does to the job in its queue.

use shared::queue::{Acked, ClaimPolicy, JobQueue};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::finished_broadcasts::FinishedBroadcasts;
use crate::leases::LeasedJob;
use crate::metrics::{JobFate, JobKind, JobMetrics};

#[derive(Debug)]
pub enum JobOutcome {
    Done,
    /// Worth another run later (Redis, the database or the Management API misbehaved).
    Retry(String),
    /// Will never succeed (undecodable payload, a request AWS refuses for good).
    Permanent(String),
}

/// What settling a job needs: the retry policy, and the outbox for finished broadcasts.
pub struct Settler {
    pub finished: FinishedBroadcasts,
    /// The same policy the claims are made with: one attempt limit.
    pub policy: ClaimPolicy,
    /// `QUEUE_DONE_RETENTION`.
    pub done_retention: u64,
    /// Cancelled when the shutdown grace period ends.
    pub stopping: CancellationToken,
    pub metrics: JobMetrics,
}

impl Settler {
    /// Settles the claim and gives up its lease; when the lease was lost meanwhile, another
    /// worker owns the job now. A settled run is counted by kind and fate; a dead job is
    /// logged at ERROR and a retry at WARN, each with its reason.
    pub async fn settle(
        &self,
        queue: &JobQueue,
        leased: LeasedJob,
        kind: JobKind,
        outcome: JobOutcome,
    ) {
        let job = leased.job();
        let (fate, result) = match &outcome {
            JobOutcome::Done => (
                JobFate::Done,
                match queue.ack(job, self.done_retention).await {
                    Ok(Acked::GroupFinished(group)) => {
                        self.finish_broadcast(&group);
                        Ok(true)
                    }
                    Ok(acked) => Ok(acked != Acked::LeaseLost),
                    Err(error) => Err(error),
                },
            ),
            // A stopping worker hands unfinished work straight back: it runs next elsewhere.
            JobOutcome::Retry(_) if self.stopping.is_cancelled() => {
                (JobFate::Released, queue.release(job).await)
            }
            JobOutcome::Retry(error) if self.policy.retries_after(job.attempts) => {
                let delay = Backoff::JOB.delay(job.attempts);
                (JobFate::Retried, queue.retry_later(job, delay, error).await)
            }
            JobOutcome::Retry(error) | JobOutcome::Permanent(error) => (
                JobFate::Dead,
                queue.bury(job, error, self.policy.dead_retention).await,
            ),
        };
        match result {
            Ok(true) => {
                self.metrics.count(kind, fate);
                log_settled(job.id.as_str(), job.attempts, kind, fate, &outcome);
            }
            Ok(false) => tracing::warn!(job_id = job.id, "lease was lost before the job settled"),
            Err(error) => {
                tracing::warn!(job_id = job.id, %error, "could not settle; the lease will expire and the job run again")
            }
        }
        leased.settled();
    }

    /// The last job of a message's broadcast is done: the outbox owes nothing more (written
    /// with others shortly; see [`FinishedBroadcasts`]).
    fn finish_broadcast(&self, group: &str) {
        match group.parse::<i64>() {
            Ok(message_id) => self.finished.record(message_id),
            Err(_) => tracing::error!(group, "a finished group that is not a message id"),
        }
    }
}

/// A dead job needs an operator (`worker retry-dead`): ERROR. A retry may heal by itself,
/// but a run failed: WARN. The reason is the job's own error text (a status, a database or
/// Redis error), which holds no secret.
fn log_settled(job_id: &str, attempts: u32, kind: JobKind, fate: JobFate, outcome: &JobOutcome) {
    let reason = match outcome {
        JobOutcome::Done => "",
        JobOutcome::Retry(reason) | JobOutcome::Permanent(reason) => reason.as_str(),
    };
    match fate {
        JobFate::Dead => tracing::error!(
            job_id,
            job = kind.label(),
            attempts,
            reason,
            "job failed for good; moved to the dead set (worker dead, worker retry-dead)"
        ),
        JobFate::Retried => tracing::warn!(
            job_id,
            job = kind.label(),
            attempts,
            reason,
            "job failed; it will run again after a backoff"
        ),
        JobFate::Released => {
            tracing::info!(job_id, job = kind.label(), "job handed back to its queue")
        }
        JobFate::Done => tracing::debug!(job_id, job = kind.label(), "job done"),
    }
}
