//! What operators do to dead jobs beyond the queue itself, shared by the admin API and the
//! worker CLI.
//!
//! Deleting the last dead job of a broadcast gives that broadcast up: its outbox entry is
//! finished too, or the outbox sweeper would enqueue it again as soon as no job of it is
//! live. (A dead job dropped by `QUEUE_DEAD_RETENTION` is not given up: the sweeper retries
//! its broadcast.)

use sea_orm::{ConnectionTrait, DbErr};

use crate::queries::outbox;
use crate::queue::{JobQueue, QueueError};

#[derive(Debug, thiserror::Error)]
pub enum DeadJobError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// Deletes one dead job. False when no dead job has that id.
pub async fn delete(
    db: &impl ConnectionTrait,
    queue: &JobQueue,
    id: &str,
) -> Result<bool, DeadJobError> {
    let Some(deleted) = queue.delete_dead(id).await? else {
        return Ok(false);
    };
    // Only broadcasts have groups: the group is the message id.
    if let Some(message_id) = deleted
        .group_finished
        .and_then(|group| group.parse::<i64>().ok())
    {
        outbox::finish_many(db, &[message_id]).await?;
        tracing::info!(message_id, job_id = id, "dead broadcast deleted; given up");
    }
    Ok(true)
}

/// Deletes every dead job of `queue`; returns how many.
pub async fn delete_all(db: &impl ConnectionTrait, queue: &JobQueue) -> Result<u64, DeadJobError> {
    let mut deleted = 0;
    for id in queue.dead_ids(isize::MAX).await? {
        deleted += u64::from(delete(db, queue, &id).await?);
    }
    Ok(deleted)
}
