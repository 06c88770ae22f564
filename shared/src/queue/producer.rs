//! Pushing jobs. Each job is stored as `{"job": <name>, "args": {...}, "enqueued_at": ...}`.

use std::time::Duration;

use serde::Serialize;

use super::{Job, JobQueue, QueueError, now_ms, scripts};

#[derive(Serialize)]
struct Envelope<'a, J> {
    job: &'static str,
    args: &'a J,
    enqueued_at: String,
}

fn encode<J: Job>(job: &J) -> Result<String, QueueError> {
    Ok(serde_json::to_string(&Envelope {
        job: J::NAME,
        args: job,
        enqueued_at: chrono::Utc::now().to_rfc3339(),
    })?)
}

impl JobQueue {
    /// Pushes one job, due after `delay`. One round trip. Returns its id.
    pub async fn push<J: Job>(&self, job: &J, delay: Duration) -> Result<String, QueueError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let due = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
        let mut invocation = self.invocation(&scripts::PUSH);
        invocation.arg(now).arg(&id).arg(encode(job)?).arg(due);
        let mut connection = self.connection.clone();
        let _: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(id)
    }

    /// Pushes many jobs due now, in one round trip per 1,000.
    pub async fn push_bulk<J: Job>(&self, jobs: &[J]) -> Result<Vec<String>, QueueError> {
        let mut ids = Vec::with_capacity(jobs.len());
        let mut connection = self.connection.clone();
        for chunk in jobs.chunks(1_000) {
            let now = now_ms();
            let mut invocation = self.invocation(&scripts::PUSH);
            invocation.arg(now);
            for job in chunk {
                let id = uuid::Uuid::new_v4().to_string();
                invocation.arg(&id).arg(encode(job)?).arg(now);
                ids.push(id);
            }
            let _: i64 = invocation.invoke_async(&mut connection).await?;
        }
        Ok(ids)
    }
}
