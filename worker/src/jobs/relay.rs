//! RelayJob: a publication from Rails to the API Gateway connections of its stream,
//! byte for byte, through the broadcast's fan-out.

use sea_orm::DatabaseConnection;
use shared::domain::Channel;
use shared::jobs::RelayJob;
use shared::queries::tokens::{self, Audience};
use shared::queries::users;
use tracing::Instrument;

use super::{JobError, JobHandler};
use crate::fanout::Fanout;
use crate::outcome::JobOutcome;

pub struct RelayHandler {
    pub db: DatabaseConnection,
    pub fanout: Fanout,
}

impl JobHandler for RelayHandler {
    type Job = RelayJob;

    async fn run(&self, job: RelayJob) -> Result<JobOutcome, JobError> {
        let span =
            tracing::info_span!("relay", delivery_id = job.delivery_id, stream = %job.stream);
        self.run_in_span(job).instrument(span).await
    }
}

impl RelayHandler {
    async fn run_in_span(&self, job: RelayJob) -> Result<JobOutcome, JobError> {
        let audience = match &job.stream {
            Channel::All => Audience::Everyone,
            Channel::User(code) => match users::find_by_code(&self.db, code).await? {
                Some(user) => Audience::User(user.id),
                None => {
                    tracing::info!("no such user; nobody to relay to");
                    return Ok(JobOutcome::Done);
                }
            },
        };
        let targets = tokens::audience_targets(&self.db, audience, None).await?;
        let audience_size = targets.len();
        let report = self
            .fanout
            .deliver(job.delivery_id, job.payload.as_bytes(), targets)
            .await?;
        tracing::info!(
            audience = audience_size,
            ?report,
            "relayed a publication from Rails"
        );
        Ok(if report.unfinished > 0 {
            JobOutcome::Retry(format!("{} connections still failing", report.unfinished))
        } else {
            JobOutcome::Done
        })
    }
}
