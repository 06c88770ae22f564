//! The jobs this process holds leases on: renewed while they run, handed back on shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::queue::{ClaimedJob, QueueName, Queues};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Leases {
    held: Arc<Mutex<HashMap<String, (QueueName, ClaimedJob)>>>,
    /// Signalled whenever a lease is dropped.
    dropped: Arc<Notify>,
}

/// A claimed job whose lease this process holds: made by [`Leases::hold`] when the job is
/// claimed, given up by [`LeasedJob::settled`] once the queue has its outcome. Until then
/// the lease is renewed, and handed back on shutdown.
///
/// Dropped without being settled (a handler that panicked), the lease stays held, so that
/// shutdown still hands the job back instead of leaving it to expire.
pub struct LeasedJob {
    job: ClaimedJob,
    leases: Leases,
}

impl LeasedJob {
    pub fn job(&self) -> &ClaimedJob {
        &self.job
    }

    /// The queue has the job's outcome: stop renewing its lease.
    pub fn settled(self) {
        self.leases.drop_lease(&self.job.id);
    }
}

impl Leases {
    /// Takes charge of a job's lease from its claim on.
    pub fn hold(&self, queue: QueueName, job: ClaimedJob) -> LeasedJob {
        self.lock().insert(job.id.clone(), (queue, job.clone()));
        LeasedJob {
            job,
            leases: self.clone(),
        }
    }

    fn drop_lease(&self, job_id: &str) {
        self.lock().remove(job_id);
        self.dropped.notify_waiters();
    }

    /// Waits until every held job has settled, or `limit` passed. True when none is held.
    pub async fn wait_until_settled(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let dropped = self.dropped.notified();
            if self.lock().is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, dropped).await.is_err() {
                return self.lock().is_empty();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (QueueName, ClaimedJob)>> {
        // A panic while holding this lock cannot leave the map inconsistent; keep going.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn snapshot(&self, queue: QueueName) -> Vec<ClaimedJob> {
        self.lock()
            .values()
            .filter(|(name, _)| *name == queue)
            .map(|(_, job)| job.clone())
            .collect()
    }

    /// Renews every held lease each third of its length, until `stop`.
    pub async fn renew_until(&self, queues: Queues, lease: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(lease / 3);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            for name in QueueName::ALL {
                let jobs = self.snapshot(name);
                if jobs.is_empty() {
                    continue;
                }
                let pairs = jobs.iter().map(|job| (job.id.as_str(), job.owner.as_str()));
                if let Err(error) = queues.get(name).extend(pairs, lease).await {
                    tracing::warn!(%error, queue = name.as_str(), "lease renewal failed");
                }
            }
        }
    }

    /// Hands every job still held back to the front of its queue (shutdown).
    pub async fn release_all(&self, queues: &Queues) -> usize {
        let mut released = 0;
        for name in QueueName::ALL {
            for job in self.snapshot(name) {
                match queues.get(name).release(&job).await {
                    Ok(true) => released += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, job_id = job.id, "hand-back failed; its lease will expire")
                    }
                }
                self.drop_lease(&job.id);
            }
        }
        released
    }
}
