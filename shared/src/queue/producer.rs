//! Pushing jobs, each stored in its [`Envelope`].

use std::time::Duration;

use super::{Envelope, Job, JobQueue, QueueError, millis, scripts};

/// How a push treats a job whose group is live.
#[derive(Clone, Copy)]
enum PushMode {
    Always,
    UnlessLive,
}

impl PushMode {
    fn as_arg(self) -> &'static str {
        match self {
            PushMode::Always => "always",
            PushMode::UnlessLive => "unless_live",
        }
    }
}

impl JobQueue {
    /// Pushes one job, due after `delay`. One round trip. Returns its id.
    pub async fn push<J: Job>(&self, job: &J, delay: Duration) -> Result<String, QueueError> {
        let due = self.now_ms() + millis(delay);
        let (ids, _) = self
            .push_chunk(PushMode::Always, std::slice::from_ref(job), due)
            .await?;
        Ok(ids.into_iter().next().unwrap_or_default())
    }

    /// Pushes many jobs due now, in one round trip per 1,000.
    pub async fn push_bulk<J: Job>(&self, jobs: &[J]) -> Result<Vec<String>, QueueError> {
        let mut ids = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(1_000) {
            ids.extend(
                self.push_chunk(PushMode::Always, chunk, self.now_ms())
                    .await?
                    .0,
            );
        }
        Ok(ids)
    }

    /// Pushes each job due now unless its group is live, atomically per job, so concurrent
    /// callers never run one group twice. Returns, per job, the id it got or `None` when
    /// skipped.
    pub async fn push_unless_live<J: Job>(
        &self,
        jobs: &[J],
    ) -> Result<Vec<Option<String>>, QueueError> {
        let mut pushed = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(1_000) {
            let (ids, flags) = self
                .push_chunk(PushMode::UnlessLive, chunk, self.now_ms())
                .await?;
            pushed.extend(
                ids.into_iter()
                    .zip(flags)
                    .map(|(id, new)| new.then_some(id)),
            );
        }
        Ok(pushed)
    }

    /// One round trip for up to 1,000 jobs: the ids given and which were pushed.
    async fn push_chunk<J: Job>(
        &self,
        mode: PushMode,
        jobs: &[J],
        due: i64,
    ) -> Result<(Vec<String>, Vec<bool>), QueueError> {
        let mut invocation = self.invocation(&scripts::PUSH);
        let now = self.clock.now();
        invocation.arg(now.timestamp_millis()).arg(mode.as_arg());
        let mut ids = Vec::with_capacity(jobs.len());
        for job in jobs {
            let id = uuid::Uuid::new_v4().to_string();
            invocation
                .arg(&id)
                .arg(Envelope::encode(job, now)?)
                .arg(due)
                .arg(job.group().unwrap_or_default());
            ids.push(id);
        }
        let mut connection = self.connection.clone();
        let flags: Vec<i64> = invocation.invoke_async(&mut connection).await?;
        Ok((ids, flags.into_iter().map(|flag| flag == 1).collect()))
    }
}
