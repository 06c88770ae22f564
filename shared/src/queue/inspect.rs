//! What operators see: per-queue counts, dead jobs, and retrying or deleting them.

use redis::AsyncCommands;
use serde::Serialize;

use super::{JobQueue, QueueError, scripts};

/// Per dead job: its payload, last error and attempts, as `HMGET` returns them.
type DeadDetails = (Vec<Option<String>>, Vec<Option<String>>, Vec<Option<u64>>);

/// A dead job as an operator sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadJob {
    pub id: String,
    /// The stored JSON (`{"job": .., "args": ..}`); `None` if it vanished meanwhile.
    pub payload: Option<String>,
    /// The last error, as the worker recorded it.
    pub error: Option<String>,
    pub attempts: u64,
    /// When it died, in ms since the epoch.
    pub died_at_ms: i64,
}

/// Deleting a dead job: whether there was one, and whether its group (a message's
/// broadcast) has no live job left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletedDead {
    NotFound,
    Deleted,
    GroupFinished(String),
}

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

    /// The newest `limit` dead jobs, newest first, with their errors and attempts.
    pub async fn dead_jobs(&self, limit: isize) -> Result<Vec<DeadJob>, QueueError> {
        let keys = &self.keys;
        let mut connection = self.connection.clone();
        let dead: Vec<(String, f64)> = connection
            .zrevrange_withscores(&keys.dead, 0, limit - 1)
            .await?;
        if dead.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = dead.iter().map(|(id, _)| id.as_str()).collect();
        let (payloads, errors, attempts): DeadDetails = redis::pipe()
            .cmd("HMGET")
            .arg(&keys.jobs)
            .arg(&ids)
            .cmd("HMGET")
            .arg(&keys.errors)
            .arg(&ids)
            .cmd("HMGET")
            .arg(&keys.attempts)
            .arg(&ids)
            .query_async(&mut connection)
            .await?;
        Ok(dead
            .into_iter()
            .zip(payloads)
            .zip(errors)
            .zip(attempts)
            .map(|((((id, died_at), payload), error), attempts)| DeadJob {
                id,
                payload,
                error,
                attempts: attempts.unwrap_or(0),
                died_at_ms: died_at as i64,
            })
            .collect())
    }

    /// Drops a dead job for good.
    pub async fn delete_dead(&self, id: &str) -> Result<DeletedDead, QueueError> {
        let mut invocation = self.invocation(&scripts::DELETE_DEAD);
        invocation.arg(id);
        let mut connection = self.connection.clone();
        let reply: (i64, Option<String>) = invocation.invoke_async(&mut connection).await?;
        Ok(match reply {
            (0, _) => DeletedDead::NotFound,
            (_, Some(group)) => DeletedDead::GroupFinished(group),
            (_, None) => DeletedDead::Deleted,
        })
    }
}
