//! A summary of each finished broadcast run, kept in a capped Redis list: the worker writes
//! it, the `/admin` dashboard reads it.

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::queue::RedisConnection;

/// How many summaries the list keeps; older ones fall off the end.
pub const KEPT: isize = 300;

/// What one run of a BroadcastJob (or of one part of a split one) achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastSummary {
    pub message_id: i64,
    /// The real channel: `all_channel` or `user_channel_<code>`.
    pub channel: String,
    /// Connections this run targeted.
    pub audience: usize,
    pub delivered: usize,
    /// Skipped: an earlier run of this broadcast already delivered to them.
    pub already_delivered: usize,
    /// 410: the connection was dead and is retired.
    pub gone: usize,
    /// Refused for good (413, 403 …) or still failing after every attempt of this run.
    pub failed: usize,
    /// Of `failed`, the ones the job retries later.
    pub retrying: usize,
    pub duration_ms: u64,
    pub finished_at: DateTime<Utc>,
}

/// The list. Cheap to clone.
#[derive(Clone)]
pub struct RecentBroadcasts {
    redis: RedisConnection,
    key: String,
}

impl RecentBroadcasts {
    pub fn new(redis: RedisConnection, prefix: &str) -> Self {
        Self {
            redis,
            // One key, hash-tagged like the queues, so it lives on one cluster slot.
            key: format!("{{{prefix}:broadcasts}}:recent"),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Adds `summary` at the head and trims the list, in one round trip.
    pub async fn record(&self, summary: &BroadcastSummary) -> redis::RedisResult<()> {
        let json = serde_json::to_string(summary).map_err(|error| {
            redis::RedisError::from((redis::ErrorKind::Client, "summary", error.to_string()))
        })?;
        redis::pipe()
            .atomic()
            .lpush(&self.key, json)
            .ignore()
            .ltrim(&self.key, 0, KEPT - 1)
            .ignore()
            .query_async(&mut self.redis.clone())
            .await
    }

    /// The newest `limit` summaries, newest first. Entries that do not parse are skipped.
    pub async fn newest(&self, limit: isize) -> redis::RedisResult<Vec<BroadcastSummary>> {
        let entries: Vec<String> = self.redis.clone().lrange(&self.key, 0, limit - 1).await?;
        Ok(entries
            .iter()
            .filter_map(|entry| serde_json::from_str(entry).ok())
            .collect())
    }
}
