//! DeleteConnectionJob: closes a connection whose token was refused. 410 counts as done.
//! An Action Cable connection is closed by the web replica that holds it, asked through Redis.

use shared::jobs::DeleteConnectionJob;

use super::{JobError, JobHandler};
use crate::interop::Interop;
use crate::management::{CallOutcome, ManagementApi};
use crate::outcome::JobOutcome;
use crate::rate_limit::RateLimiter;
use tokio_util::sync::CancellationToken;

pub struct DeleteConnectionHandler {
    pub management: ManagementApi,
    pub interop: Interop,
    /// `DeleteConnection` counts against the account's quota like a post.
    pub rate_limit: RateLimiter,
    pub stopping: CancellationToken,
}

impl JobHandler for DeleteConnectionHandler {
    type Job = DeleteConnectionJob;

    async fn run(&self, job: DeleteConnectionJob) -> Result<JobOutcome, JobError> {
        if job.action_cable {
            return Ok(
                if self.interop.disconnect_cable(&job.connection_id).await? {
                    tracing::info!(
                        cable_id = job.connection_id,
                        "Action Cable connection closed"
                    );
                    JobOutcome::Done
                } else {
                    JobOutcome::Permanent(
                        "Action Cable publishing is off (ACTION_CABLE_ENABLED=false)".to_owned(),
                    )
                },
            );
        }
        let delete = self.management.delete(&job.connection_id);
        let Some(outcome) = self.rate_limit.pace(&self.stopping, delete).await else {
            return Ok(JobOutcome::Retry(
                "the worker stopped before the rate limit let the call go".to_owned(),
            ));
        };
        Ok(match outcome {
            CallOutcome::Ok | CallOutcome::Gone => {
                tracing::info!(connection_id = job.connection_id, "connection closed");
                JobOutcome::Done
            }
            CallOutcome::Throttled => JobOutcome::Retry("HTTP 429".to_owned()),
            CallOutcome::Transient(reason) => JobOutcome::Retry(reason),
            CallOutcome::TooLarge => JobOutcome::Permanent("413 on DeleteConnection".to_owned()),
            CallOutcome::Permanent(reason) => JobOutcome::Permanent(reason),
        })
    }
}
