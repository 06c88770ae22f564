//! Every job the worker runs, by the name stored in its envelope; registered one line a job:
//! `Registry::default().register(BroadcastHandler { .. })`.

use std::collections::HashMap;

use futures::future::BoxFuture;
use shared::queue::{ClaimedJob, Job, StoredEnvelope};

use super::JobHandler;
use crate::metrics::JobKind;
use crate::outcome::JobOutcome;

#[derive(Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Box<dyn StoredJobHandler>>,
}

impl Registry {
    #[must_use]
    pub fn register<H: JobHandler>(mut self, handler: H) -> Self {
        self.handlers.insert(H::Job::NAME, Box::new(handler));
        self
    }

    /// Decodes a claimed job and runs it with its handler; says which kind of job it was.
    /// A payload no handler can read will never run: that is permanent.
    pub async fn run(&self, claimed: &ClaimedJob) -> (JobKind, JobOutcome) {
        let envelope = match StoredEnvelope::decode(&claimed.payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                let outcome = JobOutcome::Permanent(format!("undecodable payload: {error}"));
                return (JobKind::Unknown, outcome);
            }
        };
        let kind = JobKind::of(&envelope.job);
        let outcome = match self.handlers.get(envelope.job.as_str()) {
            Some(handler) => handler.run_stored(envelope).await,
            None => JobOutcome::Permanent(format!("unknown job {:?}", envelope.job)),
        };
        (kind, outcome)
    }
}

/// A handler whose job type is known only from the envelope.
trait StoredJobHandler: Send + Sync {
    fn run_stored(&self, envelope: StoredEnvelope) -> BoxFuture<'_, JobOutcome>;
}

impl<H: JobHandler> StoredJobHandler for H {
    fn run_stored(&self, envelope: StoredEnvelope) -> BoxFuture<'_, JobOutcome> {
        Box::pin(async move {
            let job = match envelope.args::<H::Job>() {
                Ok(job) => job,
                Err(error) => {
                    return JobOutcome::Permanent(format!("undecodable {}: {error}", H::Job::NAME));
                }
            };
            JobHandler::run(self, job)
                .await
                .unwrap_or_else(|error| JobOutcome::Retry(error.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use shared::queue::{ClaimedJob, Job, QueueName};

    use super::Registry;
    use crate::jobs::{JobError, JobHandler};
    use crate::outcome::JobOutcome;

    #[derive(Serialize, Deserialize)]
    struct Echo {
        fail: bool,
    }

    impl Job for Echo {
        const NAME: &'static str = "Echo";
        const QUEUE: QueueName = QueueName::Default;
    }

    struct EchoHandler;

    impl JobHandler for EchoHandler {
        type Job = Echo;

        async fn run(&self, job: Echo) -> Result<JobOutcome, JobError> {
            if job.fail {
                return Err(JobError::Redis(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "gone",
                ))));
            }
            Ok(JobOutcome::Done)
        }
    }

    async fn run(payload: &str) -> JobOutcome {
        let claimed = ClaimedJob {
            id: "1".into(),
            owner: "w:1".into(),
            attempts: 1,
            payload: payload.into(),
        };
        Registry::default()
            .register(EchoHandler)
            .run(&claimed)
            .await
            .1
    }

    #[tokio::test]
    async fn a_registered_job_runs_and_its_error_is_retried() {
        let done = run(r#"{"job":"Echo","args":{"fail":false}}"#).await;
        assert!(matches!(done, JobOutcome::Done), "{done:?}");
        let failed = run(r#"{"job":"Echo","args":{"fail":true}}"#).await;
        assert!(matches!(failed, JobOutcome::Retry(_)), "{failed:?}");
    }

    #[tokio::test]
    async fn what_no_handler_can_read_is_permanent() {
        for (payload, reason) in [
            ("{not json", "undecodable payload: "),
            (r#"{"job":"Echo","args":{}}"#, "undecodable Echo: "),
            (r#"{"job":"Nope","args":{}}"#, "unknown job \"Nope\""),
        ] {
            match run(payload).await {
                JobOutcome::Permanent(error) => assert!(error.starts_with(reason), "{error}"),
                other => panic!("{payload}: {other:?}"),
            }
        }
    }
}
