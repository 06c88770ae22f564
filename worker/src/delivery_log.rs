//! Which connections a message was sent to: a Redis set per message, so a retried, split
//! or taken-over broadcast never delivers twice to the same connection.
//!
//! A connection enters the set just before its POST goes out and leaves it only when the
//! POST fails in a way that is retried. So after a worker dies, the set holds what was
//! delivered and what was on the wire: API Gateway delivers a POST it received even when
//! the caller is gone, so sending those again would deliver twice.

use std::collections::HashSet;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// Records outlive any retry of the job that wrote them.
const RETENTION_SECS: i64 = 3 * 24 * 3600;

#[derive(Clone)]
pub struct DeliveryLog {
    redis: ConnectionManager,
    prefix: String,
}

impl DeliveryLog {
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
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

    /// Connections sent to, or being sent to, by any run of this broadcast.
    pub async fn sent(&self, message_id: i64) -> redis::RedisResult<HashSet<String>> {
        self.redis.clone().smembers(self.key(message_id)).await
    }

    /// Called before each POST.
    pub async fn mark_sending(
        &self,
        message_id: i64,
        connection_id: &str,
    ) -> redis::RedisResult<()> {
        self.redis
            .clone()
            .sadd(self.key(message_id), connection_id)
            .await
    }

    /// Called when a POST failed and the connection is to be tried again.
    pub async fn unmark(&self, message_id: i64, connection_id: &str) -> redis::RedisResult<()> {
        self.redis
            .clone()
            .srem(self.key(message_id), connection_id)
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
