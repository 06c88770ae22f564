//! `$default`: the HTTP adapter of the chat core; a refused token's connection is closed
//! through a delayed DeleteConnectionJob.

use std::time::Duration;

use poem::web::Data;
use poem::{Body, Request, handler};
use shared::domain::{ConnectionId, Peer};
use shared::jobs::DeleteConnectionJob;
use tracing::Instrument;

use super::gateway;
use crate::chat::{self, Frame};
use crate::error::Failure;
use crate::reply::Reply;
use crate::state::AppState;

#[handler]
pub async fn default_route(
    request: &Request,
    body: Body,
    Data(state): Data<&AppState>,
) -> Result<Reply, Failure> {
    let connection_id = request
        .headers()
        .get("connectionid")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!("default", connection_id = %connection_id, method = tracing::field::Empty);
    answer(request, body, state).instrument(span).await
}

async fn answer(request: &Request, body: Body, state: &AppState) -> Result<Reply, Failure> {
    let connection_id = gateway::connection_id(request, state)?;
    let bytes = crate::edge::read_body(body, state.web.max_request_bytes).await?;
    let frame = Frame::parse(&bytes)?;
    let outcome = chat::apply(
        state,
        &Peer::Gateway(connection_id.clone()),
        &frame,
        "method",
    )
    .await;
    if outcome.refused.is_some() {
        schedule_disconnect(state, connection_id).await;
    }
    Ok(Reply::with_status(outcome.status, outcome.body))
}

/// Closes the connection after `DISCONNECT_DELAY_SECS`: the client first gets its 422.
async fn schedule_disconnect(state: &AppState, connection_id: ConnectionId) {
    let job = DeleteConnectionJob {
        connection_id: connection_id.as_str().to_owned(),
        action_cable: false,
    };
    let delay = Duration::from_secs(state.web.disconnect_delay_secs);
    // The refusal is the truth whatever Redis says: without the job the connection is not
    // closed by us (API Gateway still closes it when idle), but the client learns why.
    if let Err(error) = state.queues.enqueue(&job, delay).await {
        tracing::warn!(%error, "token refused, but the disconnect could not be scheduled");
    }
}
