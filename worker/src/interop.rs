//! Mirrors broadcasts to an existing Rails deployment through Redis pub/sub, so Action
//! Cable and AnyCable subscribers receive the same message.

use redis::AsyncCommands;
use serde_json::json;
use shared::config::InteropSettings;
use shared::domain::PubsubPrefix;
use shared::queue::RedisConnection;

use crate::metrics::PublishMetrics;

#[derive(Clone)]
pub struct Interop {
    settings: InteropSettings,
    redis: RedisConnection,
    published: PublishMetrics,
}

impl Interop {
    pub fn new(settings: InteropSettings, redis: RedisConnection) -> Self {
        Self {
            settings,
            redis,
            published: PublishMetrics::register(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled()
    }

    /// Rails' remote disconnect, `PUBLISH <prefix>:action_cable/<id>
    /// {"type":"disconnect","reconnect":false}`: the web replica holding that Action Cable
    /// connection closes it. False when Action Cable publishing is off.
    pub async fn disconnect_cable(&self, cable_id: &str) -> redis::RedisResult<bool> {
        let Some(prefix) = &self.settings.action_cable_prefix else {
            return Ok(false);
        };
        let channel = PubsubPrefix::new(prefix).channel(&format!("action_cable/{cable_id}"));
        let frame = json!({"type": "disconnect", "reconnect": false}).to_string();
        let _: i64 = self.redis.clone().publish(channel, frame).await?;
        Ok(true)
    }

    /// Action Cable: `PUBLISH <prefix>:<stream> <json>` (`<stream>` without a prefix).
    /// AnyCable: `PUBLISH __anycable__ {"stream": .., "data": "<json as a string>"}`.
    pub async fn publish(&self, stream: &str, message_json: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        if let Some(prefix) = &self.settings.action_cable_prefix {
            let channel = PubsubPrefix::new(prefix).channel(stream);
            let _: i64 = redis.publish(channel, message_json).await?;
            self.published.action_cable.increment(1);
        }
        if let Some(channel) = &self.settings.anycable_channel {
            let payload = json!({"stream": stream, "data": message_json}).to_string();
            let _: i64 = redis.publish(channel, payload).await?;
            self.published.anycable.increment(1);
        }
        Ok(())
    }
}
