//! How a job run ended, and what that does to the job in its queue.

use std::time::Duration;

use rand::Rng;
use shared::queries::outbox;
use shared::queue::{Acked, ClaimedJob, JobQueue};

use crate::context::JobContext;

#[derive(Debug)]
pub enum JobOutcome {
    Done,
    /// Worth another run later (Redis, the database or the Management API misbehaved).
    Retry(String),
    /// Will never succeed (undecodable payload, a request AWS refuses for good).
    Permanent(String),
}

/// Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped at 5 minutes.
pub fn job_backoff(attempts: u32) -> Duration {
    let ceiling = Duration::from_secs(1u64 << attempts.min(8)).min(Duration::from_secs(300));
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}

/// Settles the claim; when the lease was lost meanwhile, another worker owns the job now.
pub async fn settle(context: &JobContext, queue: &JobQueue, job: &ClaimedJob, outcome: JobOutcome) {
    let settings = &context.settings;
    let result = match &outcome {
        JobOutcome::Done => match queue.ack(job, settings.done_retention).await {
            Ok(Acked::GroupFinished(group)) => {
                finish_broadcast(context, &group).await;
                Ok(true)
            }
            Ok(acked) => Ok(acked != Acked::LeaseLost),
            Err(error) => Err(error),
        },
        // A stopping worker hands unfinished work straight back: it runs next elsewhere.
        JobOutcome::Retry(_) if context.stopping.is_cancelled() => queue.release(job).await,
        JobOutcome::Retry(error) if job.attempts < settings.job_max_attempts => {
            queue
                .retry_later(job, job_backoff(job.attempts), error)
                .await
        }
        JobOutcome::Retry(error) | JobOutcome::Permanent(error) => {
            queue.bury(job, error, settings.dead_retention).await
        }
    };
    match result {
        Ok(true) => tracing::debug!(job_id = job.id, ?outcome, "job settled"),
        Ok(false) => tracing::warn!(job_id = job.id, "lease was lost before the job settled"),
        Err(error) => {
            tracing::warn!(job_id = job.id, %error, "could not settle; the lease will expire and the job run again")
        }
    }
    context.leases.drop_lease(&job.id);
}

/// The last job of a message's broadcast is done: the outbox owes nothing more. If this
/// write fails, the sweeper runs the broadcast again, and the delivery log skips everyone.
async fn finish_broadcast(context: &JobContext, group: &str) {
    let Ok(message_id) = group.parse::<i64>() else {
        tracing::error!(group, "a finished group that is not a message id");
        return;
    };
    match outbox::finish(&context.db, message_id).await {
        Ok(()) => tracing::debug!(message_id, "broadcast finished"),
        Err(error) => tracing::warn!(
            message_id,
            %error,
            "broadcast finished but still in the outbox; the sweeper will settle it"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(super::job_backoff(1) <= std::time::Duration::from_secs(2));
        assert!(super::job_backoff(30) <= std::time::Duration::from_secs(300));
        assert!(super::job_backoff(30) >= std::time::Duration::from_secs(128));
    }
}
