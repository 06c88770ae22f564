//! `get_messages`: history of the channels the token reads, paged by `last_id` or `limit`.

use serde_json::{Map, Value, json};
use shared::domain::Channel;
use shared::queries::messages;

use super::auth::Authenticated;
use super::command::History;
use crate::error::ApiError;
use crate::state::AppState;

/// The reply's fields besides `action`, `success` and `data`.
pub async fn run(
    state: &AppState,
    auth: &Authenticated,
    history: History,
) -> Result<Map<String, Value>, ApiError> {
    let channels = Channel::readable_by(auth.user_code().as_ref());
    let max = state.web.max_messages_limit;
    let (rows, unsent_count) = match history {
        History::Since(last_id) => messages::since(&state.db, &channels, last_id, max).await?,
        History::Latest(limit) => {
            let limit = limit.map_or(state.web.default_messages_limit, |limit| limit.min(max));
            (messages::latest(&state.db, &channels, limit).await?, 0)
        }
    };
    let rendered: Vec<_> = rows
        .iter()
        .map(|(message, user)| state.renderer.render(message, user))
        .collect();
    let mut fields = Map::new();
    fields.insert("messages".to_owned(), json!(rendered));
    fields.insert("unsent_count".to_owned(), json!(unsent_count));
    Ok(fields)
}
