//! What operators see: per-queue counts, and retrying a dead job.

use redis::AsyncCommands;
use serde::Serialize;

use super::{JobQueue, QueueError, scripts};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct QueueCounts {
    pub waiting: u64,
    pub scheduled: u64,
    pub running: u64,
    pub failed: u64,
    pub dead: u64,
    pub done_kept: u64,
}

impl JobQueue {
    pub async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let keys = &self.keys;
        let mut connection = self.connection.clone();
        let (waiting, scheduled, running, failed, dead, done_kept): (u64, u64, u64, u64, u64, u64) =
            redis::pipe()
                .llen(&keys.waiting)
                .zcard(&keys.scheduled)
                .zcard(&keys.running)
                .zcard(&keys.failed)
                .zcard(&keys.dead)
                .llen(&keys.done)
                .query_async(&mut connection)
                .await?;
        Ok(QueueCounts {
            waiting,
            scheduled,
            running,
            failed,
            dead,
            done_kept,
        })
    }

    /// The stored JSON of one job, if it is still in the queue.
    pub async fn show(&self, id: &str) -> Result<Option<String>, QueueError> {
        let mut connection = self.connection.clone();
        Ok(connection.hget(&self.keys.jobs, id).await?)
    }

    /// Ids of the dead jobs, oldest first.
    pub async fn dead_ids(&self, limit: isize) -> Result<Vec<String>, QueueError> {
        let mut connection = self.connection.clone();
        Ok(connection.zrange(&self.keys.dead, 0, limit - 1).await?)
    }

    /// Moves a dead job back to waiting. False when no dead job has that id.
    pub async fn retry_dead(&self, id: &str) -> Result<bool, QueueError> {
        let mut invocation = self.invocation(&scripts::RETRY_DEAD);
        invocation.arg(id);
        let mut connection = self.connection.clone();
        let moved: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(moved == 1)
    }
}
