//! `$connect`: origin and connection id checks; a non-2xx answer rejects the handshake.

use poem::web::Data;
use poem::{Request, handler};
use serde_json::json;

use super::gateway;
use crate::error::Failure;
use crate::reply::{Action, Reply};
use crate::state::AppState;

#[handler]
pub async fn connect(request: &Request, Data(state): Data<&AppState>) -> Result<Reply, Failure> {
    let in_action = |error| Failure::new(Action::Connect, error);
    let connection_id = gateway::connection_id(request, state).map_err(in_action)?;
    gateway::check_origin(request, state).map_err(in_action)?;
    tracing::info!(%connection_id, "connected");
    Ok(Reply::ok(json!({"action": "connect", "success": true})))
}
