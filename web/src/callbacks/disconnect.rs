//! `$disconnect`: marks the bound token unsubscribed. Idempotent, since API Gateway may
//! deliver it late, twice, or never.

use poem::web::Data;
use poem::{Request, handler};
use serde_json::json;
use shared::domain::Peer;
use shared::i18n::Alert;

use super::gateway;
use crate::chat;
use crate::error::Failure;
use crate::reply::{Action, Reply};
use crate::state::AppState;

#[handler]
pub async fn disconnect(request: &Request, Data(state): Data<&AppState>) -> Result<Reply, Failure> {
    let in_action = |error| Failure::new(Action::Disconnect, error);
    let connection_id = gateway::connection_id(request, state).map_err(in_action)?;
    let peer = Peer::Gateway(connection_id);
    let found = chat::disconnect(state, &peer).await.map_err(in_action)?;
    tracing::info!(%peer, found, "disconnected");
    let mut body = json!({"action": "disconnect", "success": true});
    if !found {
        body["alert"] = json!(state.common.locale.alert(Alert::ConnectionIdNotFound));
    }
    Ok(Reply::ok(body))
}
