//! What operators see and do: per-queue counts, dead jobs, retrying and deleting them.
//! The admin API and the worker CLI both call these.

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

    /// The dead jobs, oldest first, with what they were, their last error and their attempts.
    pub async fn dead_jobs(&self, limit: usize) -> Result<Vec<DeadJob>, QueueError> {
        let Some(last) = last_index(limit) else {
            return Ok(Vec::new());
        };
        let mut connection = self.connection.clone();
        let dead = connection
            .zrange_withscores(&self.keys.dead, 0, last)
            .await?;
        self.with_details(dead).await
    }

    /// The `limit` most recently dead jobs, newest first (what a dashboard shows).
    pub async fn newest_dead_jobs(&self, limit: usize) -> Result<Vec<DeadJob>, QueueError> {
        let Some(last) = last_index(limit) else {
            return Ok(Vec::new());
        };
        let mut connection = self.connection.clone();
        let dead = connection
            .zrevrange_withscores(&self.keys.dead, 0, last)
            .await?;
        self.with_details(dead).await
    }

    /// Adds each dead job's payload, last error and attempts to its (id, time of death).
    async fn with_details(&self, dead: Vec<(String, f64)>) -> Result<Vec<DeadJob>, QueueError> {
        let keys = &self.keys;
        let mut connection = self.connection.clone();
        if dead.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = dead.iter().map(|(id, _)| id.as_str()).collect();
        let hmget = |key: &str| {
            let mut command = redis::cmd("HMGET");
            command.arg(key).arg(&ids);
            command
        };
        type Fields<T> = Vec<Option<T>>;
        let (payloads, errors, attempts): (Fields<String>, Fields<String>, Fields<u64>) =
            redis::pipe()
                .add_command(hmget(&keys.jobs))
                .add_command(hmget(&keys.errors))
                .add_command(hmget(&keys.attempts))
                .query_async(&mut connection)
                .await?;
        Ok(dead
            .into_iter()
            .zip(payloads)
            .zip(errors)
            .zip(attempts)
            .map(|((((id, died_at_ms), payload), error), attempts)| DeadJob {
                id,
                job: payload.and_then(|payload| serde_json::from_str(&payload).ok()),
                error,
                attempts: attempts.unwrap_or(0),
                died_at_ms: died_at_ms as i64,
            })
            .collect())
    }

    /// Moves a dead job back to waiting. False when no dead job has that id.
    pub async fn retry_dead(&self, id: &str) -> Result<bool, QueueError> {
        let mut invocation = self.invocation(&scripts::RETRY_DEAD);
        invocation.arg(id);
        let mut connection = self.connection.clone();
        let moved: i64 = invocation.invoke_async(&mut connection).await?;
        Ok(moved == 1)
    }

    /// Moves every dead job back to waiting; returns how many moved (0 when none was dead).
    pub async fn retry_all_dead(&self) -> Result<u64, QueueError> {
        let mut moved = 0;
        for id in self.dead_ids(isize::MAX).await? {
            moved += u64::from(self.retry_dead(&id).await?);
        }
        Ok(moved)
    }

    /// Drops a dead job for good. `None` when no dead job has that id; else the group the
    /// job was the last live job of, if any (for a broadcast: its message id).
    pub async fn delete_dead(&self, id: &str) -> Result<Option<Deleted>, QueueError> {
        let mut invocation = self.invocation(&scripts::DELETE_DEAD);
        invocation.arg(id);
        let mut connection = self.connection.clone();
        let (deleted, group): (i64, Option<String>) =
            invocation.invoke_async(&mut connection).await?;
        Ok((deleted == 1).then_some(Deleted {
            group_finished: group,
        }))
    }
}

/// A job that gave up, as operators see it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeadJob {
    pub id: String,
    /// The stored envelope (`{"job": .., "args": .., "enqueued_at": ..}`); `None` if the
    /// payload is gone or unreadable.
    pub job: Option<serde_json::Value>,
    /// The last error it failed with.
    pub error: Option<String>,
    /// How many times it was claimed.
    pub attempts: u64,
    /// When it died, in milliseconds since the Unix epoch.
    pub died_at_ms: i64,
}

/// A dead job was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The group it was the last live job of: nothing of that group remains queued.
    pub group_finished: Option<String>,
}

/// The last index of a range of `limit` items; `None` for none.
fn last_index(limit: usize) -> Option<isize> {
    let last = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
    (last >= 0).then_some(last)
}
