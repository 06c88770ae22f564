//! `$default`: authenticate the frame's token, then dispatch on its `method`.

use std::time::Duration;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, handler};
use serde_json::json;
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
    match run(request, body, state).instrument(span).await {
        Ok(reply) => reply,
        Err(error) => error.into_reply(state.common.locale),
    }
}

async fn run(request: &Request, body: Body, state: &AppState) -> Result<Reply, ApiError> {
    let connection_id = gateway::connection_id(request, state)?;
    let frame = Frame::read(body, state.web.max_request_bytes).await?;
    let method = frame.string("method")?.map(str::to_owned);
    let token = frame.string("token")?;
    tracing::Span::current().record("method", method.as_deref());
    let authenticated = match auth::authenticate(state, &connection_id, token).await? {
        Ok(authenticated) => authenticated,
        Err(error) => return refuse(state, &connection_id, error, &frame).await,
    };
    tracing::debug!(token_id = authenticated.token.id, "authenticated");
    match method.as_deref() {
        Some("auth_request") => Ok(Reply::ok(
            json!({"action": "auth_result", "success": true, "data": frame.data}),
        )),
        Some("get_messages") => get_messages::run(state, &authenticated, &frame).await,
        Some("send_message") => send_message::run(state, &authenticated, &frame).await,
        _ => Err(ApiError::Client(Alert::RequestUnknownMethod)),
    }
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
        "auth_result",
        state.common.locale.alert(error.alert()),
        &frame.data,
    ))
}
