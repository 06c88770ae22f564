//! Claiming and settling jobs. A claim is a lease: the worker renews it while the job runs;
//! when a worker dies, the lease runs out and the next claim by anyone hands the job out again.

use std::time::Duration;

use super::{JobQueue, QueueError, RedisConnection, millis, scripts};

/// A job this worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: String,
    /// Proves the lease is still ours when settling; a job handed out again gets a new one.
    pub owner: String,
    /// How many times the job has been claimed, this claim included.
    pub attempts: u32,
    pub payload: String,
}

/// What acknowledging a finished job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acked {
    /// Another worker holds the job now: nothing changed.
    LeaseLost,
    Done,
    /// Done, and it was the last live job of this group.
    GroupFinished(String),
}

/// How a claim behaves; from the worker's settings.
#[derive(Debug, Clone)]
pub struct ClaimPolicy {
    pub lease: Duration,
    /// Claims a job gets at most; see [`ClaimPolicy::retries_after`].
    pub max_attempts: u32,
    pub dead_retention: u64,
}

impl ClaimPolicy {
    /// The attempt limit, decided here only: a run that failed on its `attempts`-th claim is
    /// retried while that is below `max_attempts`, and buried otherwise. `claim` hands the
    /// same limit to CLAIM, which buries a job about to be claimed beyond it (its workers
    /// kept dying before they could settle it).
    pub fn retries_after(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}

impl JobQueue {
    /// Claims up to `max` due jobs; `owner` must be unique per claim.
    pub async fn claim(
        &self,
        max: usize,
        owner: &str,
        policy: &ClaimPolicy,
    ) -> Result<Vec<ClaimedJob>, QueueError> {
        let mut invocation = self.invocation(&scripts::CLAIM);
        invocation
            .arg(self.now_ms())
            .arg(millis(policy.lease))
            .arg(max)
            .arg(owner)
            .arg(policy.max_attempts)
            .arg(policy.dead_retention);
        let mut connection = self.connection.clone();
        let flat: Vec<redis::Value> = invocation.invoke_async(&mut connection).await?;
        let mut claimed = Vec::with_capacity(flat.len() / 3);
        for triple in flat.chunks_exact(3) {
            claimed.push(ClaimedJob {
                id: redis::from_redis_value_ref(&triple[0])?,
                owner: owner.to_owned(),
                payload: redis::from_redis_value_ref(&triple[1])?,
                attempts: redis::from_redis_value_ref(&triple[2])?,
            });
        }
        Ok(claimed)
    }

    /// Finished: removed, and remembered in the capped `done` list.
    pub async fn ack(&self, job: &ClaimedJob, done_retention: u64) -> Result<Acked, QueueError> {
        let mut invocation = self.invocation(&scripts::ACK);
        invocation
            .arg(&job.id)
            .arg(&job.owner)
            .arg(self.now_ms())
            .arg(done_retention);
        let mut connection = self.connection.clone();
        let reply: (i64, Option<String>) = invocation.invoke_async(&mut connection).await?;
        Ok(match reply {
            (0, _) => Acked::LeaseLost,
            (_, Some(group)) => Acked::GroupFinished(group),
            (_, None) => Acked::Done,
        })
    }

    /// Failed for now: retried after `delay`.
    pub async fn retry_later(
        &self,
        job: &ClaimedJob,
        delay: Duration,
        error: &str,
    ) -> Result<bool, QueueError> {
        let mut invocation = self.invocation(&scripts::RETRY_LATER);
        invocation
            .arg(&job.id)
            .arg(&job.owner)
            .arg(self.now_ms() + millis(delay))
            .arg(error);
        self.settle(invocation).await
    }

    /// Failed for good: moved to the dead set.
    pub async fn bury(
        &self,
        job: &ClaimedJob,
        error: &str,
        dead_retention: u64,
    ) -> Result<bool, QueueError> {
        let mut invocation = self.invocation(&scripts::BURY);
        invocation
            .arg(&job.id)
            .arg(&job.owner)
            .arg(self.now_ms())
            .arg(error)
            .arg(dead_retention);
        self.settle(invocation).await
    }

    /// Handed back untouched (shutdown): it runs next, and this claim is not counted.
    pub async fn release(&self, job: &ClaimedJob) -> Result<bool, QueueError> {
        let mut invocation = self.invocation(&scripts::RELEASE);
        invocation.arg(&job.id).arg(&job.owner);
        self.settle(invocation).await
    }

    /// Renews the leases of the given jobs; returns how many were still ours.
    pub async fn extend<'a>(
        &self,
        jobs: impl IntoIterator<Item = (&'a str, &'a str)>,
        lease: Duration,
    ) -> Result<u64, QueueError> {
        let mut invocation = self.invocation(&scripts::EXTEND);
        invocation.arg(self.now_ms() + millis(lease));
        for (id, owner) in jobs {
            invocation.arg(id).arg(owner);
        }
        let mut connection = self.connection.clone();
        Ok(invocation.invoke_async(&mut connection).await?)
    }

    /// Blocks until a push wakes this worker or `timeout` passes. Needs a connection of its
    /// own: a blocking command would stall everything else multiplexed on a shared one.
    pub async fn wait_for_work(
        &self,
        blocking: &mut RedisConnection,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        let _: Option<(String, String)> = redis::cmd("BLPOP")
            .arg(&self.keys.wakeup)
            .arg(timeout.as_secs_f64())
            .query_async(blocking)
            .await?;
        Ok(())
    }

    async fn settle(&self, invocation: redis::ScriptInvocation<'_>) -> Result<bool, QueueError> {
        let mut connection = self.connection.clone();
        let changed: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ClaimPolicy;

    #[test]
    fn a_run_that_failed_on_the_last_allowed_claim_is_not_retried() {
        let policy = ClaimPolicy {
            lease: Duration::from_secs(5),
            max_attempts: 3,
            dead_retention: 10,
        };
        assert!(policy.retries_after(1));
        assert!(policy.retries_after(2));
        assert!(!policy.retries_after(3));
    }
}
