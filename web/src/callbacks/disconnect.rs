//! `$disconnect`: marks the bound token unsubscribed. Idempotent, since API Gateway may
//! deliver it late, twice, or never.

use poem::web::Data;
use poem::{Request, handler};
use serde_json::json;
use shared::i18n::Alert;
use shared::queries::tokens;

use super::gateway;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

#[handler]
pub async fn disconnect(request: &Request, Data(state): Data<&AppState>) -> Reply {
    match run(request, state).await {
        Ok(reply) => reply,
        Err(error) => error
            .into_reply(state.common.locale)
            .with_field("action", json!("disconnect")),
    }
}

async fn run(request: &Request, state: &AppState) -> Result<Reply, ApiError> {
    let connection_id = gateway::connection_id(request, state)?;
    let found = tokens::mark_unsubscribed(&state.db, &connection_id).await?;
    tracing::info!(%connection_id, found, "disconnected");
    Ok(if found {
        Reply::ok(json!({"action": "disconnect", "success": true}))
    } else {
        let alert = state.common.locale.alert(Alert::ConnectionIdNotFound);
        Reply::ok(json!({"action": "disconnect", "success": true, "alert": alert}))
    })
}
