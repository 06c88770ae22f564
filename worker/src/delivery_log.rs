//! Which connections got a message: a Redis set per message, so a retried, split or
//! taken-over broadcast skips them.
//!
//! A connection enters the set only after API Gateway accepted its POST, in batches: the
//! fan-out gathers accepted connections and writes them with one `SADD` of many members
//! (when a batch fills or a few milliseconds after its first), and writes the last batch
//! before it returns, so a job is never acked with marks unwritten. A worker that dies
//! mid-broadcast therefore leaves out the POSTs it had on the wire and the accepted ones
//! whose batch was not written yet, and the takeover sends those again: a duplicate with the
//! same message `id` (bounded by the POSTs in flight plus one unwritten batch) is harmless, a
//! connection left without the message is not. A write whose answer was lost is either in
//! the set (the POSTs succeeded, skipping them is right) or not (they are sent again).

use std::collections::HashSet;

use redis::AsyncCommands;
use shared::queue::RedisConnection;

/// Records outlive any retry of the job that wrote them.
const RETENTION_SECS: i64 = 3 * 24 * 3600;

#[derive(Clone)]
pub struct DeliveryLog {
    redis: RedisConnection,
    prefix: String,
}

impl DeliveryLog {
    pub fn new(redis: RedisConnection, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, message_id: i64) -> String {
        format!("{}:delivered:{message_id}", self.prefix)
    }

    fn published_key(&self, message_id: i64) -> String {
        format!("{}:published:{message_id}", self.prefix)
    }

    /// Connections any run of this broadcast delivered to.
    pub async fn sent(&self, message_id: i64) -> redis::RedisResult<HashSet<String>> {
        self.redis.clone().smembers(self.key(message_id)).await
    }

    /// Records deliveries that API Gateway accepted, with one `SADD`.
    pub async fn mark_delivered(
        &self,
        message_id: i64,
        connection_ids: &[String],
    ) -> redis::RedisResult<()> {
        if connection_ids.is_empty() {
            return Ok(());
        }
        self.redis
            .clone()
            .sadd(self.key(message_id), connection_ids)
            .await
    }

    pub async fn expire(&self, message_id: i64) -> redis::RedisResult<()> {
        self.redis
            .clone()
            .expire(self.key(message_id), RETENTION_SECS)
            .await
    }

    pub async fn was_published(&self, message_id: i64) -> redis::RedisResult<bool> {
        self.redis
            .clone()
            .exists(self.published_key(message_id))
            .await
    }

    pub async fn mark_published(&self, message_id: i64) -> redis::RedisResult<()> {
        self.redis
            .clone()
            .set_ex(self.published_key(message_id), 1, RETENTION_SECS as u64)
            .await
    }
}
