//! The relay: what a Rails app publishes on its Action Cable streams (`all_channel`,
//! `user_channel_<code>`) reaches the API Gateway connections of that stream, unchanged.
//!
//! Every worker subscribes and receives every publication; exactly one of them claims it
//! (see `claims`) and enqueues a [`RelayJob`], which any worker runs through the same
//! fan-out as a broadcast. Publications of our own broadcasts are marked before they are
//! published (`own_publishes`) and never relayed back. Pub/sub is at most once: what is
//! published while no worker listens, or while the relay reconnects, is gone, as it is for
//! Action Cable's own subscribers.
//!
//! # Layout
//! - `channels`: the channel names under the Action Cable prefix.
//! - `subscription`: one subscription, and noticing that it was lost.
//! - `occurrences`: which copy of a publication this is, within a minute.
//! - `claims`: the one worker that relays a publication.
//! - `own_publishes`: marking the worker's own publications.
//! - `keys`: the Redis keys of the above and the digest that names a publication.

mod channels;
mod claims;
mod keys;
mod occurrences;
mod own_publishes;
mod subscription;

pub use own_publishes::OwnPublishes;

use std::time::Duration;

use redis::Msg;
use shared::jobs::RelayJob;
use shared::queue::{JobQueue, PubsubNodes, RedisConnection};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use channels::RelayChannels;
use claims::{Claim, RelayClaims};
use subscription::{Subscription, SubscriptionLost};

pub struct Relay {
    /// The interop Redis, where Rails publishes.
    interop: PubsubNodes,
    channels: RelayChannels,
    claims: RelayClaims,
    /// `default`: relayed publications are as urgent as broadcasts.
    queue: JobQueue,
}

impl Relay {
    /// `prefix` is `ACTION_CABLE_CHANNEL_PREFIX`; `redis` the queue's Redis, where claims
    /// are made.
    pub fn new(
        interop: PubsubNodes,
        prefix: &str,
        redis: RedisConnection,
        queue_prefix: &str,
        queue: JobQueue,
    ) -> Self {
        Self {
            interop,
            channels: RelayChannels::new(prefix),
            claims: RelayClaims::new(redis, queue_prefix),
            queue,
        }
    }

    /// Listens until `stop`, subscribing again whenever the subscription is lost.
    pub async fn run_until(mut self, stop: CancellationToken) {
        let mut failures = 0u32;
        loop {
            let opened = tokio::select! {
                () = stop.cancelled() => return,
                opened = Subscription::open(&self.interop, &self.channels) => opened,
            };
            let lost = match opened {
                Ok(subscription) => {
                    tracing::info!(
                        channel = self.channels.everyone(),
                        pattern = self.channels.users_pattern(),
                        "relay listening for Rails broadcasts"
                    );
                    failures = 0;
                    match self.listen(subscription, &stop).await {
                        Some(lost) => lost,
                        None => return,
                    }
                }
                Err(error) => error,
            };
            failures += 1;
            let retry_in = Backoff::RESUBSCRIBE.delay(failures);
            tracing::warn!(%lost, attempt = failures, ?retry_in,
                "relay lost its subscription; what Rails publishes meanwhile is not relayed");
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(retry_in) => {}
            }
        }
    }

    /// Relays until the subscription is lost (`Some`) or the worker stops (`None`).
    async fn listen(
        &mut self,
        mut subscription: Subscription,
        stop: &CancellationToken,
    ) -> Option<SubscriptionLost> {
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return None,
                next = subscription.next() => next,
            };
            match next {
                Ok(message) => self.relay(&message).await,
                Err(lost) => return Some(lost),
            }
        }
    }

    /// Enqueues one publication if this worker claims it. A failure drops it, as pub/sub
    /// would: it is logged, and never retried into a duplicate.
    async fn relay(&mut self, message: &Msg) {
        let channel = message.get_channel_name();
        let Ok(stream) = self.channels.stream_of(channel) else {
            tracing::debug!(channel, "not a stream of ours; ignored");
            return;
        };
        let Some(payload) = json_text(message.get_payload_bytes()) else {
            tracing::warn!(
                channel,
                bytes = message.get_payload_bytes().len(),
                "published payload is not JSON; ignored, as Action Cable subscribers ignore it"
            );
            return;
        };
        let stream_name = stream.real_name();
        let delivery_id = match self.claims.claim(&stream_name, payload.as_bytes()).await {
            Ok(Claim::Won { delivery_id }) => delivery_id,
            Ok(skipped) => {
                tracing::debug!(
                    stream = stream_name,
                    ?skipped,
                    "publication not relayed here"
                );
                return;
            }
            Err(error) => {
                tracing::warn!(%error, stream = stream_name,
                    "cannot claim a publication; it is not relayed");
                return;
            }
        };
        let job = RelayJob {
            stream,
            payload,
            delivery_id,
        };
        match self.queue.push(&job, Duration::ZERO).await {
            Ok(job_id) => tracing::debug!(
                job_id,
                delivery_id,
                stream = stream_name,
                "publication enqueued"
            ),
            Err(error) => tracing::warn!(%error, delivery_id, stream = stream_name,
                "cannot enqueue a publication; it is not relayed"),
        }
    }
}

/// The payload as text, if it is one JSON document (what Action Cable subscribers decode).
fn json_text(payload: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(payload).ok()?;
    String::from_utf8(payload.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::json_text;

    #[test]
    fn only_one_json_document_is_relayed_and_kept_byte_for_byte() {
        let spaced = r#"{ "b":1,  "a" : [2] }"#;
        assert_eq!(json_text(spaced.as_bytes()).as_deref(), Some(spaced));
        assert_eq!(json_text(b"\"text\"").as_deref(), Some("\"text\""));
        for invalid in [&b"{not json"[..], b"", b"{} {}", b"\xff"] {
            assert_eq!(json_text(invalid), None, "{invalid:?}");
        }
    }
}
