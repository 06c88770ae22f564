//! `$default`: authenticate the frame's token, then dispatch on its `method`.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, handler};
use serde_json::{Value, json};
use shared::domain::ConnectionId;
use shared::i18n::Alert;
use shared::jobs::DeleteConnectionJob;
use tracing::Instrument;

use super::auth::{self, TokenError};
use super::frame::Frame;
use super::{gateway, get_messages, send_message};
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

#[handler]
pub async fn default_route(request: &Request, body: Body, Data(state): Data<&AppState>) -> Reply {
    let connection_id = request
        .headers()
        .get("connectionid")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!("default", connection_id = %connection_id, method = tracing::field::Empty);
    answer(request, body, state).instrument(span).await
}

/// The action a method's replies carry.
fn reply_action(method: Option<&str>) -> Option<&'static str> {
    match method {
        Some("auth_request") => Some(AUTH_RESULT),
        Some("get_messages") => Some("get_messages"),
        Some("send_message") => Some("send_result"),
        _ => None,
    }
}

const AUTH_RESULT: &str = "auth_result";

/// A failure after the frame was parsed: the action it answers, when there is one.
type Failure = (Option<&'static str>, ApiError);

async fn answer(request: &Request, body: Body, state: &AppState) -> Reply {
    let locale = state.common.locale;
    let parsed = match gateway::connection_id(request, state) {
        Ok(connection_id) => Frame::read(body, state.web.max_request_bytes)
            .await
            .map(|frame| (connection_id, frame)),
        Err(error) => Err(error),
    };
    let (connection_id, frame) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.into_reply(locale),
    };
    match run(state, &connection_id, &frame).await {
        Ok(reply) => reply,
        // Replies to a frame echo it, and name their action, as the successes do.
        Err((action, error)) => {
            let reply = error
                .into_reply(locale)
                .with_field("data", Value::Object(frame.data.clone()));
            match action {
                Some(action) => reply.with_field("action", json!(action)),
                None => reply,
            }
        }
    }
}

async fn run(
    state: &AppState,
    connection_id: &ConnectionId,
    frame: &Frame,
) -> Result<Reply, Failure> {
    let method = frame.string("method").map_err(|error| (None, error))?;
    tracing::Span::current().record("method", method);
    // Every frame authenticates first; what goes wrong there is an `auth_result`.
    let auth_failed = |error| (Some(AUTH_RESULT), error);
    let token = frame.string("token").map_err(auth_failed)?;
    let authenticated = match auth::authenticate(state, connection_id, token).await {
        Ok(Ok(authenticated)) => authenticated,
        Ok(Err(error)) => {
            return refuse(state, connection_id, error, frame)
                .await
                .map_err(auth_failed);
        }
        Err(error) => return Err(auth_failed(error)),
    };
    tracing::debug!(token_id = authenticated.token.id, "authenticated");
    let outcome = match method {
        Some("auth_request") => Ok(Reply::ok(
            json!({"action": AUTH_RESULT, "success": true, "data": frame.data}),
        )),
        Some("get_messages") => get_messages::run(state, &authenticated, frame).await,
        Some("send_message") => send_message::run(state, &authenticated, frame).await,
        _ => Err(ApiError::Client(Alert::RequestUnknownMethod)),
    };
    outcome.map_err(|error| (reply_action(method), error))
}

/// A refused token: answer 422 (the client sees it as a frame), then close the connection
/// after `DISCONNECT_DELAY_SECS`; closing at once would swallow that frame.
async fn refuse(
    state: &AppState,
    connection_id: &ConnectionId,
    error: TokenError,
    frame: &Frame,
) -> Result<Reply, ApiError> {
    tracing::info!(reason = error.status(), "token refused");
    let job = DeleteConnectionJob {
        connection_id: connection_id.as_str().to_owned(),
    };
    let delay = Duration::from_secs(state.web.disconnect_delay_secs);
    // The refusal is the truth whatever Redis says: without the job the connection is not
    // closed by us (API Gateway still closes it when idle), but the client learns why.
    if let Err(error) = state.queues.enqueue(&job, delay).await {
        tracing::warn!(%error, "token refused, but the disconnect could not be scheduled");
    }
    Ok(Reply::action_failure(
        StatusCode::UNPROCESSABLE_ENTITY,
        AUTH_RESULT,
        state.common.locale.alert(error.alert()),
        &frame.data,
    ))
}
