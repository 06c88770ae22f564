//! The job queues: depths per state, dead jobs, retrying and deleting them. The same
//! operations as `worker queues`, `worker dead`, `worker retry-dead`, `worker delete-dead`.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use shared::i18n::Alert;
use shared::queue::{DeadJob, QueueCounts, QueueName};

use super::ApiTags;
use super::auth::AdminKey;
use super::problem::{Problem, problem};
use crate::error::ApiError;
use crate::state::AppState;

/// A queue: `default` (broadcasts) or `low_priority` (disconnections).
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Queue {
    Default,
    LowPriority,
}

impl From<Queue> for QueueName {
    fn from(queue: Queue) -> Self {
        match queue {
            Queue::Default => QueueName::Default,
            Queue::LowPriority => QueueName::LowPriority,
        }
    }
}

/// How many jobs of a queue are in each state.
#[derive(Debug, Object)]
pub struct QueueDepths {
    /// Ready to run.
    waiting: u64,
    /// Delayed until their due time.
    scheduled: u64,
    /// Claimed by a worker.
    running: u64,
    /// Failed, waiting for their retry.
    failed: u64,
    /// Gave up; kept for inspection, retry or deletion.
    dead: u64,
    /// Finished jobs kept for inspection (`QUEUE_DONE_RETENTION`).
    done_kept: u64,
}

impl From<QueueCounts> for QueueDepths {
    fn from(counts: QueueCounts) -> Self {
        Self {
            waiting: counts.waiting,
            scheduled: counts.scheduled,
            running: counts.running,
            failed: counts.failed,
            dead: counts.dead,
            done_kept: counts.done_kept,
        }
    }
}

#[derive(Debug, Object)]
pub struct QueuesReport {
    default: QueueDepths,
    low_priority: QueueDepths,
}

/// A job that gave up.
#[derive(Debug, Object)]
pub struct DeadJobView {
    id: String,
    /// The stored job: `{"job": <name>, "args": {..}, "enqueued_at": ..}`; absent if its
    /// payload is gone or not JSON.
    #[oai(nullable)]
    job: Option<serde_json::Value>,
    /// The last error it failed with.
    #[oai(nullable)]
    error: Option<String>,
    /// How many times it was claimed.
    attempts: u64,
    /// When it died, in milliseconds since the Unix epoch.
    died_at_ms: i64,
}

impl From<DeadJob> for DeadJobView {
    fn from(job: DeadJob) -> Self {
        Self {
            id: job.id,
            job: job.job,
            error: job.error,
            attempts: job.attempts,
            died_at_ms: job.died_at_ms,
        }
    }
}

#[derive(Debug, Object)]
pub struct Retried {
    /// Dead jobs moved back to waiting.
    retried: u64,
}

#[derive(Debug, Object)]
pub struct Deleted {
    /// Dead jobs deleted for good.
    deleted: u64,
}

#[derive(Debug, ApiResponse)]
pub enum QueuesResponse {
    #[oai(status = 200)]
    Ok(Json<QueuesReport>),
}

#[derive(Debug, ApiResponse)]
pub enum DeadJobsResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<DeadJobView>>),
}

#[derive(Debug, ApiResponse)]
pub enum RetriedResponse {
    #[oai(status = 200)]
    Ok(Json<Retried>),
}

#[derive(Debug, ApiResponse)]
pub enum DeletedResponse {
    #[oai(status = 200)]
    Ok(Json<Deleted>),
}

pub struct QueuesApi;

#[OpenApi(tag = "ApiTags::Queues")]
impl QueuesApi {
    /// Depths of every queue, per state
    #[oai(path = "/queues", method = "get", operation_id = "get_queues")]
    async fn queues(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
    ) -> Result<QueuesResponse, Problem> {
        let fail = problem(state.common.locale);
        let default = state.queues.default.counts().await.map_err(&fail)?;
        let low_priority = state.queues.low_priority.counts().await.map_err(&fail)?;
        Ok(QueuesResponse::Ok(Json(QueuesReport {
            default: default.into(),
            low_priority: low_priority.into(),
        })))
    }

    /// Dead jobs of a queue, oldest first
    #[oai(
        path = "/queues/:queue/dead",
        method = "get",
        operation_id = "get_dead_jobs"
    )]
    async fn dead(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        queue: Path<Queue>,
        /// At most this many (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
        limit: Query<Option<u32>>,
    ) -> Result<DeadJobsResponse, Problem> {
        let limit = limit.0.unwrap_or(100) as usize;
        let jobs = state
            .queues
            .get(queue.0.into())
            .dead_jobs(limit)
            .await
            .map_err(problem(state.common.locale))?;
        Ok(DeadJobsResponse::Ok(Json(
            jobs.into_iter().map(DeadJobView::from).collect(),
        )))
    }

    /// Retry every dead job of a queue
    #[oai(
        path = "/queues/:queue/retry_dead",
        method = "post",
        operation_id = "retry_all_dead_jobs"
    )]
    async fn retry_all(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        queue: Path<Queue>,
    ) -> Result<RetriedResponse, Problem> {
        let retried = state
            .queues
            .get(queue.0.into())
            .retry_all_dead()
            .await
            .map_err(problem(state.common.locale))?;
        Ok(RetriedResponse::Ok(Json(Retried { retried })))
    }

    /// Retry one dead job
    #[oai(
        path = "/queues/:queue/dead/:id/retry",
        method = "post",
        operation_id = "retry_dead_job"
    )]
    async fn retry_one(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        queue: Path<Queue>,
        id: Path<String>,
    ) -> Result<RetriedResponse, Problem> {
        let fail = problem::<ApiError>(state.common.locale);
        let moved = state
            .queues
            .get(queue.0.into())
            .retry_dead(&id)
            .await
            .map_err(|error| fail(error.into()))?;
        if !moved {
            return Err(fail(Alert::JobNotFound.into()));
        }
        Ok(RetriedResponse::Ok(Json(Retried { retried: 1 })))
    }

    /// Delete every dead job of a queue
    ///
    /// Deleting the last dead job of a broadcast gives that broadcast up (the outbox stops
    /// owing it).
    #[oai(
        path = "/queues/:queue/dead",
        method = "delete",
        operation_id = "delete_all_dead_jobs"
    )]
    async fn delete_all(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        queue: Path<Queue>,
    ) -> Result<DeletedResponse, Problem> {
        let deleted = shared::dead_jobs::delete_all(&state.db, state.queues.get(queue.0.into()))
            .await
            .map_err(problem(state.common.locale))?;
        Ok(DeletedResponse::Ok(Json(Deleted { deleted })))
    }

    /// Delete one dead job
    #[oai(
        path = "/queues/:queue/dead/:id",
        method = "delete",
        operation_id = "delete_dead_job"
    )]
    async fn delete_one(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        queue: Path<Queue>,
        id: Path<String>,
    ) -> Result<DeletedResponse, Problem> {
        let fail = problem::<ApiError>(state.common.locale);
        let deleted = shared::dead_jobs::delete(&state.db, state.queues.get(queue.0.into()), &id)
            .await
            .map_err(|error| fail(error.into()))?;
        if !deleted {
            return Err(fail(Alert::JobNotFound.into()));
        }
        Ok(DeletedResponse::Ok(Json(Deleted { deleted: 1 })))
    }
}
