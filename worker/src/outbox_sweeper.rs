//! The outbox sweeper: enqueues again every broadcast the outbox still owes that has no
//! live job, so a message stored while Redis was down, or whose job Redis lost (a restart
//! without persistence, a failover that dropped writes), is still delivered.
//!
//! Every worker sweeps; the push is conditional on the group not being live, atomically in
//! Redis, so two sweepers (or a sweeper and a slow web) never run one broadcast twice.

use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use shared::jobs::BroadcastJob;
use shared::queries::outbox;
use shared::queue::JobQueue;
use tokio_util::sync::CancellationToken;

use crate::jobs::JobError;

/// Pending broadcasts read per round trip.
const PAGE: u64 = 500;

#[derive(Clone)]
pub struct OutboxSweeper {
    pub db: DatabaseConnection,
    /// Where broadcasts go (`default`).
    pub queue: JobQueue,
    /// `OUTBOX_GRACE_SECS`: a broadcast younger than this is left to its first job.
    pub grace: Duration,
    /// `OUTBOX_SWEEP_MS`.
    pub interval: Duration,
}

impl OutboxSweeper {
    /// Sweeps every `OUTBOX_SWEEP_MS` until `stop`.
    pub async fn run_until(&self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(%error, "outbox sweep failed; trying again at the next one");
            }
        }
    }

    /// One pass over every broadcast pending for longer than `OUTBOX_GRACE_SECS`. Returns how
    /// many were enqueued again.
    pub async fn sweep(&self) -> Result<usize, JobError> {
        let since = Utc::now() - self.grace;
        let mut after_id = 0;
        let mut requeued = 0;
        loop {
            let page = outbox::pending_since(&self.db, since, after_id, PAGE).await?;
            let Some(last) = page.last() else { break };
            after_id = last.id;
            let jobs: Vec<BroadcastJob> = page
                .iter()
                .filter_map(|message| match BroadcastJob::for_message(message) {
                    Ok(job) => Some(job),
                    // Only a row written by hand has another channel; nobody reads it.
                    Err(error) => {
                        tracing::error!(message_id = message.id, %error, "cannot broadcast");
                        None
                    }
                })
                .collect();
            let pushed = self.queue.push_unless_live(&jobs).await?;
            let message_ids: Vec<i64> = jobs
                .iter()
                .zip(&pushed)
                .filter(|(_, job_id)| job_id.is_some())
                .map(|(job, _)| job.message_id)
                .collect();
            if !message_ids.is_empty() {
                tracing::warn!(
                    count = message_ids.len(),
                    ?message_ids,
                    "re-enqueued broadcasts that had no live job"
                );
                outbox::note_requeued(&self.db, &message_ids).await?;
                requeued += message_ids.len();
            }
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        Ok(requeued)
    }
}
