//! One file per job, each a [`JobHandler`] holding only what it uses; [`Registry`] runs a
//! claimed job by its stored name.

mod broadcast;
mod delete_connection;
mod registry;
mod relay;

use std::future::Future;

pub use broadcast::BroadcastHandler;
pub use delete_connection::DeleteConnectionHandler;
pub use registry::Registry;
pub use relay::RelayHandler;

use crate::outcome::JobOutcome;

/// Runs one job type. An `Err` is transient (the run is retried later, within the attempt
/// limit); a run that can never succeed returns `JobOutcome::Permanent`.
pub trait JobHandler: Send + Sync + 'static {
    type Job: shared::queue::Job;

    fn run(&self, job: Self::Job) -> impl Future<Output = Result<JobOutcome, JobError>> + Send;
}

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
