//! One subscription to the relayed channels on the interop Redis, and noticing when it is
//! lost: a closed connection ends the message stream, a silent one fails the keep-alive
//! ping.

use std::time::Duration;

use futures::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use redis::{Msg, RedisError, Value};
use shared::queue::{PubsubNodes, describe_failure};

use super::channels::RelayChannels;

/// Connecting and subscribing, and each keep-alive ping, must answer within this.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
const PING_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionLost {
    #[error("the connection closed")]
    Closed,
    #[error("no answer within {ANSWER_WITHIN:?}")]
    Silent,
    #[error("redis: {}", describe_failure(.0))]
    Redis(#[from] RedisError),
}

pub struct Subscription {
    sink: PubSubSink,
    messages: PubSubStream,
    ping: tokio::time::Interval,
}

impl Subscription {
    /// Connects and subscribes: the users' pattern first, so that once everyone's channel
    /// counts this subscriber (`PUBSUB NUMSUB`), both are listened to.
    pub async fn open(
        nodes: &PubsubNodes,
        channels: &RelayChannels,
    ) -> Result<Self, SubscriptionLost> {
        let subscribing = async {
            let (mut sink, messages) = nodes.open().await?.split();
            sink.psubscribe(channels.users_pattern()).await?;
            sink.subscribe(channels.everyone()).await?;
            Ok::<_, RedisError>((sink, messages))
        };
        let (sink, messages) = tokio::time::timeout(ANSWER_WITHIN, subscribing)
            .await
            .map_err(|_| SubscriptionLost::Silent)??;
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.reset();
        Ok(Self {
            sink,
            messages,
            ping,
        })
    }

    /// The next publication; pings while none comes.
    pub async fn next(&mut self) -> Result<Msg, SubscriptionLost> {
        loop {
            tokio::select! {
                message = self.messages.next() => return message.ok_or(SubscriptionLost::Closed),
                _ = self.ping.tick() => {
                    tokio::time::timeout(ANSWER_WITHIN, self.sink.ping::<Value>())
                        .await
                        .map_err(|_| SubscriptionLost::Silent)??;
                }
            }
        }
    }
}
