//! `send_message`: store the message, then enqueue its broadcast.

use poem::http::StatusCode;
use serde_json::json;
use shared::i18n::Alert;
use shared::jobs::BroadcastJob;
use shared::queries::{outbox, user_channel};
use shared::{ALL_CHANNEL, USER_CHANNEL};

use super::auth::Authenticated;
use super::frame::Frame;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

pub async fn run(state: &AppState, auth: &Authenticated, frame: &Frame) -> Result<Reply, ApiError> {
    let locale = state.common.locale;
    let fail = |status: StatusCode, alert: Alert| {
        Ok(Reply::action_failure(
            status,
            "send_result",
            locale.alert(alert),
            &frame.data,
        ))
    };
    // Guests cannot send; only the two channel names exist.
    let channel = frame.data.get("channel").and_then(|value| value.as_str());
    let target = match (&auth.user, channel) {
        (Some(_), Some(ALL_CHANNEL)) => auth.user.as_ref().map(|u| (u, ALL_CHANNEL.to_owned())),
        (Some(user), Some(USER_CHANNEL)) => Some((user, user_channel(&user.code))),
        _ => None,
    };
    let Some((user, real_channel)) = target else {
        return fail(StatusCode::OK, Alert::ChannelNotSubscribed);
    };
    let body = match frame.string("body") {
        Err(error) => return fail(StatusCode::UNPROCESSABLE_ENTITY, error.alert()),
        Ok(body) => body.unwrap_or(""),
    };
    if body.trim().is_empty() {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, Alert::BodyBlank);
    }
    if body.chars().count() > state.web.max_message_body_chars {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, Alert::BodyTooLong);
    }
    // The message and the broadcast it is owed commit together, before any job exists, so
    // a worker always finds the message. The outbox stands for the job until one is queued:
    // if Redis is down now, the worker's sweeper enqueues it later, and the sender is told
    // the truth, that the message is stored and will be delivered.
    let message = outbox::store_message(&state.db, &real_channel, body, user.id).await?;
    match state
        .queues
        .enqueue_unless_live(&BroadcastJob::for_message(&message))
        .await
    {
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
    Ok(Reply::ok(
        json!({"action": "send_result", "success": true, "data": frame.data}),
    ))
}
