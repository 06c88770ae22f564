//! `$connect`: origin and connection id checks; a non-2xx answer rejects the handshake.

use poem::web::Data;
use poem::{Request, handler};
use serde_json::json;

use super::gateway;
use crate::reply::Reply;
use crate::state::AppState;

#[handler]
pub async fn connect(request: &Request, Data(state): Data<&AppState>) -> Reply {
    let checked = gateway::connection_id(request, state)
        .and_then(|connection_id| gateway::check_origin(request, state).map(|()| connection_id));
    match checked {
        Ok(connection_id) => {
            tracing::info!(%connection_id, "connected");
            Reply::ok(json!({"action": "connect", "success": true}))
        }
        Err(error) => error
            .into_reply(state.common.locale)
            .with_field("action", json!("connect")),
    }
}
