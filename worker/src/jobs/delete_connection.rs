//! DeleteConnectionJob: closes a connection whose token was refused. 410 counts as done.

use shared::jobs::DeleteConnectionJob;

use crate::context::JobContext;
use crate::management::CallOutcome;
use crate::outcome::JobOutcome;

pub async fn run(context: &JobContext, job: DeleteConnectionJob) -> JobOutcome {
    match context.management.delete(&job.connection_id).await {
        CallOutcome::Ok | CallOutcome::Gone => {
            tracing::info!(connection_id = job.connection_id, "connection closed");
            JobOutcome::Done
        }
        CallOutcome::Transient(reason) => JobOutcome::Retry(reason),
        CallOutcome::TooLarge => JobOutcome::Permanent("413 on DeleteConnection".to_owned()),
        CallOutcome::Permanent(reason) => JobOutcome::Permanent(reason),
    }
}
