//! One file per job; this module decodes a claimed payload and dispatches it.

mod broadcast;
mod delete_connection;

use serde::Deserialize;
use shared::jobs::{BroadcastJob, DeleteConnectionJob};
use shared::queue::{ClaimedJob, Job};

use crate::context::JobContext;
use crate::outcome::JobOutcome;

/// Errors that make a run worth repeating later.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("queue: {0}")]
    Queue(#[from] shared::queue::QueueError),
}

#[derive(Deserialize)]
struct Envelope {
    job: String,
    args: serde_json::Value,
}

pub async fn run(context: &JobContext, claimed: &ClaimedJob) -> JobOutcome {
    let envelope: Envelope = match serde_json::from_str(&claimed.payload) {
        Ok(envelope) => envelope,
        Err(error) => return JobOutcome::Permanent(format!("undecodable payload: {error}")),
    };
    let result = match envelope.job.as_str() {
        BroadcastJob::NAME => match serde_json::from_value(envelope.args) {
            Ok(job) => broadcast::run(context, job).await,
            Err(error) => {
                return JobOutcome::Permanent(format!("undecodable BroadcastJob: {error}"));
            }
        },
        DeleteConnectionJob::NAME => match serde_json::from_value(envelope.args) {
            Ok(job) => Ok(delete_connection::run(context, job).await),
            Err(error) => {
                return JobOutcome::Permanent(format!("undecodable DeleteConnectionJob: {error}"));
            }
        },
        other => return JobOutcome::Permanent(format!("unknown job {other:?}")),
    };
    result.unwrap_or_else(|error| JobOutcome::Retry(error.to_string()))
}
