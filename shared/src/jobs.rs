//! The jobs web enqueues and worker runs, shared so both agree on their JSON.

use serde::{Deserialize, Serialize};

use crate::queue::{Job, QueueName};

/// Delivers a stored message to its channel's connections (and interop subscribers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastJob {
    pub message_id: i64,
    pub sender_user_id: i64,
    /// What the client asked for: `all_channel` or `user_channel`.
    pub channel: String,
    /// Where it is stored and published: `all_channel` or `user_channel_<user code>`.
    pub real_channel: String,
    /// Set on the sub-jobs of a large audience: the token ids this part delivers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_range: Option<TokenRange>,
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
}

/// Closes a connection through the Management API (after a refused authentication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteConnectionJob {
    pub connection_id: String,
}

impl Job for DeleteConnectionJob {
    const NAME: &'static str = "DeleteConnectionJob";
    const QUEUE: QueueName = QueueName::LowPriority;
}
