//! The worker's own Action Cable publications, marked right before they are published so
//! that no worker's relay sends them back to API Gateway connections, which the broadcast
//! itself already serves.

use redis::AsyncCommands;
use shared::queue::RedisConnection;

use super::keys::{RelayKeys, message_digest};

/// Longer than a publication takes to reach every relay.
pub const MARK_SECS: u64 = 60;

#[derive(Clone)]
pub struct OwnPublishes {
    redis: RedisConnection,
    keys: RelayKeys,
}

impl OwnPublishes {
    pub fn new(redis: RedisConnection, queue_prefix: &str) -> Self {
        Self {
            redis,
            keys: RelayKeys::new(queue_prefix),
        }
    }

    /// Call before publishing `payload` on `stream` (the name without the prefix). A
    /// failure here fails the publication too: better late than echoed.
    pub async fn mark(&self, stream: &str, payload: &str) -> redis::RedisResult<()> {
        let key = self.keys.own(&message_digest(stream, payload.as_bytes()));
        self.redis.clone().set_ex(key, 1, MARK_SECS).await
    }
}
