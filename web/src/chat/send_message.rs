//! `send_message`: store the message, then enqueue its broadcast.

use serde_json::{Map, Value};
use shared::domain::{Channel, ChannelKind, MessageBody};
use shared::entities::{messages, users};
use shared::i18n::Alert;
use shared::jobs::BroadcastJob;
use shared::queries::outbox;

use super::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn run(
    state: &AppState,
    auth: &Authenticated,
    channel: Option<ChannelKind>,
    body: Result<MessageBody, ApiError>,
) -> Result<Map<String, Value>, ApiError> {
    // Guests cannot send; only the two channel names exist.
    let not_subscribed = || ApiError::Client(Alert::ChannelNotSubscribed);
    let (Some(user), Some(kind)) = (&auth.user, channel) else {
        return Err(not_subscribed());
    };
    let channel = match kind {
        ChannelKind::All => Channel::All,
        ChannelKind::User => Channel::User(auth.user_code().ok_or_else(not_subscribed)?),
    };
    let body = body?;
    post(state, user, channel, &body).await?;
    Ok(Map::new())
}

/// Stores `body` from `user` on `channel` and enqueues its broadcast: `send_message`'s
/// effect, shared with the admin API's `POST /api/messages`.
pub async fn post(
    state: &AppState,
    user: &users::Model,
    channel: Channel,
    body: &MessageBody,
) -> Result<messages::Model, ApiError> {
    // The message and the broadcast it is owed commit together, before any job exists, so
    // a worker always finds the message. The outbox stands for the job until one is queued:
    // if Redis is down now, the worker's sweeper enqueues it later, and the sender is told
    // the truth, that the message is stored and will be delivered.
    let message = outbox::store_message(&state.db, &channel, body, user.id).await?;
    let stored = match channel {
        Channel::All => "all_channel",
        Channel::User(_) => "user_channel",
    };
    metrics::counter!("web_messages_stored_total", "channel" => stored).increment(1);
    let frame = state.renderer.broadcast_frame(&message, user);
    let job = BroadcastJob::new(&message, channel).with_frame(frame);
    match state.queues.enqueue_unless_live(&job).await {
        Ok(job_id) => tracing::info!(
            message_id = message.id,
            job_id,
            "message stored, broadcast enqueued"
        ),
        Err(error) => tracing::warn!(
            message_id = message.id,
            %error,
            "message stored; the broadcast stays in the outbox until Redis is back"
        ),
    }
    Ok(message)
}
