//! DeleteConnectionJob: closes a connection whose token was refused. 410 counts as done.

use shared::jobs::DeleteConnectionJob;

use super::{JobError, JobHandler};
use crate::management::{CallOutcome, ManagementApi};
use crate::outcome::JobOutcome;

pub struct DeleteConnectionHandler {
    pub management: ManagementApi,
}

impl JobHandler for DeleteConnectionHandler {
    type Job = DeleteConnectionJob;

    async fn run(&self, job: DeleteConnectionJob) -> Result<JobOutcome, JobError> {
        Ok(match self.management.delete(&job.connection_id).await {
            CallOutcome::Ok | CallOutcome::Gone => {
                tracing::info!(connection_id = job.connection_id, "connection closed");
                JobOutcome::Done
            }
            CallOutcome::Transient(reason) => JobOutcome::Retry(reason),
            CallOutcome::TooLarge => JobOutcome::Permanent("413 on DeleteConnection".to_owned()),
            CallOutcome::Permanent(reason) => JobOutcome::Permanent(reason),
        })
    }
}
