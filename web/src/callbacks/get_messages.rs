//! `get_messages`: history of the channels the token reads, paged by `last_id` or `limit`.

use poem::http::StatusCode;
use serde_json::json;
use shared::i18n::Alert;
use shared::queries::{messages, subscribed_channels};

use super::auth::Authenticated;
use super::frame::Frame;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

pub async fn run(state: &AppState, auth: &Authenticated, frame: &Frame) -> Result<Reply, ApiError> {
    let refuse = |alert: Alert| {
        let text = state.common.locale.alert(alert);
        Ok(Reply::action_failure(
            StatusCode::BAD_REQUEST,
            "get_messages",
            text,
            &frame.data,
        ))
    };
    let channels = subscribed_channels(auth.user.as_ref().map(|user| user.code.as_str()));
    let max = state.web.max_messages_limit;
    let (rows, unsent_count) = match frame.integer("last_id") {
        Err(()) | Ok(Some(..=0)) => return refuse(Alert::LastIdInvalid),
        Ok(Some(last_id)) => messages::since(&state.db, &channels, last_id, max).await?,
        Ok(None) => {
            let limit = match frame.integer("limit") {
                Err(()) => return refuse(Alert::LimitInvalid),
                Ok(None) | Ok(Some(..=0)) => state.web.default_messages_limit,
                Ok(Some(limit)) => (limit as u64).min(max),
            };
            (messages::latest(&state.db, &channels, limit).await?, 0)
        }
    };
    let rendered: Vec<_> = rows
        .iter()
        .map(|(message, user)| state.renderer.render(message, user))
        .collect();
    Ok(Reply::ok(json!({
        "action": "get_messages",
        "success": true,
        "messages": rendered,
        "unsent_count": unsent_count,
        "data": frame.data,
    })))
}
