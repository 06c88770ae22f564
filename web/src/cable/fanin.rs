//! The one Redis pub/sub connection of this replica: what the worker (or a Rails app)
//! publishes on `<prefix>:all_channel` and `<prefix>:user_channel_<code>` goes to the local
//! sockets that stream it, and `<prefix>:action_cable/<id>` disconnects a local socket.
//!
//! Every replica subscribes to every stream and forwards to its own sockets, as each Rails
//! server does with the Redis adapter. Pub/sub is at most once: what is published while
//! this connection is down is lost (clients catch up with `get_messages`). A ping every
//! [`PING_EVERY`] notices a dead connection that carries no traffic.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use shared::domain::{CableId, PubsubPrefix};
use shared::queue::{PubsubNodes, describe_failure};
use tokio_util::sync::CancellationToken;

use super::registry::{Kick, Registry};

const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);
/// The streams web serves; also the remote-disconnect channel of Rails.
const STREAM_PATTERNS: [&str; 3] = ["all_channel", "user_channel_*", "action_cable/*"];
const REMOTE_DISCONNECT: &str = "action_cable/";

/// What a pub/sub channel name means here.
#[derive(Debug, PartialEq, Eq)]
enum Published<'a> {
    Stream(&'a str),
    Disconnect(&'a str),
}

/// Channel names under one `ACTION_CABLE_CHANNEL_PREFIX`, as the worker and Rails write them.
#[derive(Debug, Clone)]
pub struct ChannelNames {
    prefix: PubsubPrefix,
}

impl ChannelNames {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: PubsubPrefix::new(prefix),
        }
    }

    /// The patterns to subscribe to; the prefix is escaped, so it only matches itself.
    fn patterns(&self) -> Vec<String> {
        STREAM_PATTERNS
            .iter()
            .map(|pattern| self.prefix.pattern(pattern))
            .collect()
    }

    fn parse<'a>(&self, channel: &'a str) -> Option<Published<'a>> {
        let name = self.prefix.stream(channel)?;
        Some(match name.strip_prefix(REMOTE_DISCONNECT) {
            Some(id) => Published::Disconnect(id),
            None => Published::Stream(name),
        })
    }
}

/// Rails' remote disconnect: `{"type":"disconnect","reconnect":false}`.
#[derive(Deserialize)]
struct RemoteDisconnect {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "reconnect_by_default")]
    reconnect: bool,
}

fn reconnect_by_default() -> bool {
    true
}

/// Listens until `stop`, reconnecting for as long as Redis is away.
pub async fn run(
    nodes: PubsubNodes,
    names: ChannelNames,
    registry: Arc<Registry>,
    stop: CancellationToken,
) {
    let mut down = false;
    loop {
        let listened = tokio::select! {
            () = stop.cancelled() => return,
            listened = listen(&nodes, &names, &registry, &mut down) => listened,
        };
        registry.set_streams_up(false);
        // Reported once per outage, not once per attempt.
        if let Err(error) = listened
            && !std::mem::replace(&mut down, true)
        {
            tracing::warn!(addr = %nodes.addr(), error = %describe_failure(&error),
                "Action Cable streams: Redis pub/sub is down; reconnecting");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RECONNECT_PAUSE) => {}
        }
    }
}

/// One pub/sub connection, for as long as it works.
async fn listen(
    nodes: &PubsubNodes,
    names: &ChannelNames,
    registry: &Registry,
    down: &mut bool,
) -> redis::RedisResult<()> {
    let pubsub = tokio::time::timeout(CONNECT_TIMEOUT, nodes.open())
        .await
        .map_err(|_| timeout("connecting"))??;
    let (mut sink, mut messages) = pubsub.split();
    for pattern in names.patterns() {
        sink.psubscribe(pattern).await?;
    }
    tracing::info!(patterns = ?names.patterns(), "Action Cable streams: subscribed");
    *down = false;
    registry.set_streams_up(true);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return Err(timeout("the connection closed"));
                };
                forward(names, registry, message.get_channel_name(), message.get_payload_bytes());
            }
            _ = ping.tick() => {
                // In subscribed mode Redis answers ["pong", ""], not "PONG".
                tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>())
                    .await
                    .map_err(|_| timeout("ping"))??;
            }
        }
    }
}

fn timeout(what: &'static str) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, what))
}

/// One published message to the local sockets it concerns.
fn forward(names: &ChannelNames, registry: &Registry, channel: &str, payload: &[u8]) {
    match names.parse(channel) {
        Some(Published::Stream(stream)) => {
            // Rails' subscribers decode the JSON and drop what does not parse; so do we.
            // Re-encoding it makes each socket's frame a plain concatenation.
            let Ok(message) = serde_json::from_slice::<serde_json::Value>(payload) else {
                tracing::warn!(
                    stream,
                    "Action Cable streams: dropped a message that is not JSON"
                );
                return;
            };
            let delivered = registry.deliver(stream, &message.to_string());
            metrics::counter!("web_cable_broadcasts_forwarded_total").increment(1);
            metrics::counter!("web_cable_broadcast_frames_total").increment(delivered as u64);
            tracing::debug!(stream, delivered, "Action Cable streams: forwarded");
        }
        Some(Published::Disconnect(id)) => {
            match serde_json::from_slice::<RemoteDisconnect>(payload) {
                Ok(command) if command.kind == "disconnect" => {
                    let id = CableId::from_stored(id.to_owned());
                    let reconnect = command.reconnect;
                    if registry.kick(&id, Kick::Remote { reconnect }) {
                        tracing::info!(cable_id = %id, reconnect, "remote disconnect");
                    }
                }
                _ => tracing::warn!(channel, "Action Cable streams: unknown internal command"),
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let names = ChannelNames::new("app_production");
        assert_eq!(
            names.parse("app_production:all_channel"),
            Some(Published::Stream("all_channel"))
        );
        assert_eq!(
            names.parse("app_production:action_cable/abc"),
            Some(Published::Disconnect("abc"))
        );
        assert_eq!(names.parse("other:all_channel"), None);
        assert_eq!(
            names.patterns()[1],
            "app_production:user_channel_*".to_owned()
        );
    }

    #[test]
    fn an_empty_prefix_is_no_prefix() {
        let names = ChannelNames::new("");
        assert_eq!(
            names.parse("user_channel_bob"),
            Some(Published::Stream("user_channel_bob"))
        );
        assert_eq!(names.patterns()[0], "all_channel");
    }

    #[test]
    fn a_prefix_is_never_a_pattern() {
        assert_eq!(
            ChannelNames::new("a*[b]").patterns()[0],
            r"a\*\[b\]:all_channel"
        );
    }
}
