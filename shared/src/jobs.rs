//! The jobs web enqueues and worker runs, shared so both agree on their JSON.

use serde::{Deserialize, Serialize};

use crate::domain::{Channel, ChannelKind, UnknownChannel};
use crate::entities::messages;
use crate::queue::{Job, QueueName};

/// Delivers a stored message to its channel's connections (and interop subscribers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastJob {
    pub message_id: i64,
    pub sender_user_id: i64,
    /// What the client asked for: `all_channel` or `user_channel`.
    pub channel: ChannelKind,
    /// Where it is stored and published: `all_channel` or `user_channel_<user code>`.
    pub real_channel: Channel,
    /// Set on the sub-jobs of a large audience: the token ids this part delivers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_range: Option<TokenRange>,
    /// The frame every connection gets, rendered by web as it stored the message, so that
    /// the worker reads PostgreSQL for the audience only. Absent when the outbox sweeper
    /// re-enqueues a message (or from an older web): the worker renders it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
}

impl BroadcastJob {
    /// The whole broadcast of a message just stored on `channel`.
    pub fn new(message: &messages::Model, channel: Channel) -> Self {
        Self {
            message_id: message.id,
            sender_user_id: message.user_id,
            channel: channel.kind(),
            real_channel: channel,
            token_range: None,
            frame: None,
        }
    }

    /// Carries the rendered frame (see [`BroadcastJob::frame`]).
    pub fn with_frame(self, frame: String) -> Self {
        Self {
            frame: Some(frame),
            ..self
        }
    }

    /// The whole broadcast of a stored message; everything it needs is on the message row.
    pub fn for_message(message: &messages::Model) -> Result<Self, UnknownChannel> {
        Ok(Self::new(message, Channel::parse(&message.channel)?))
    }
}

/// Token ids `first..=last` of a broadcast's audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRange {
    pub first: i64,
    pub last: i64,
}

impl Job for BroadcastJob {
    const NAME: &'static str = "BroadcastJob";
    const QUEUE: QueueName = QueueName::Default;

    /// Every part of one message's broadcast is one group: the outbox entry is finished
    /// when the group is, and re-enqueued only while no job of it is live.
    fn group(&self) -> Option<String> {
        Some(self.message_id.to_string())
    }
}

/// Delivers a message that a Rails app published on an Action Cable stream to the API
/// Gateway connections of that stream, byte for byte (see the worker's `relay`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayJob {
    /// The stream it was published on: `all_channel` or `user_channel_<user code>`.
    pub stream: Channel,
    /// The published JSON, exactly as published.
    pub payload: String,
    /// Keys the record of who already got it, so a retry skips them. Negative, so it never
    /// meets a message id.
    pub delivery_id: i64,
}

impl Job for RelayJob {
    const NAME: &'static str = "RelayJob";
    const QUEUE: QueueName = QueueName::Default;
}

/// Closes a connection through the Management API (after a refused authentication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteConnectionJob {
    pub connection_id: String,
    /// An Action Cable connection (`connection_id` is its `ws_tokens.request_id`): closed
    /// through Redis by whichever web replica holds it, instead of the Management API.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub action_cable: bool,
}

impl Job for DeleteConnectionJob {
    const NAME: &'static str = "DeleteConnectionJob";
    const QUEUE: QueueName = QueueName::LowPriority;
}
