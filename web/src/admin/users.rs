//! `PUT /api/users/{code}` `{"name": .., "image": ..}`: creates (201) or updates (200) a user.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, handler};
use serde::Deserialize;
use serde_json::json;
use shared::i18n::Alert;
use shared::queries::users;

use super::bearer;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
}

/// A user code becomes part of a channel name (`user_channel_<code>`): keep it plain.
pub fn validate_user(code: &str, input: &UserInput) -> Result<(), ApiError> {
    let code_ok = (1..=64).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !code_ok {
        return Err(ApiError::Client(Alert::RequestInvalidField));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 255 {
        return Err(ApiError::Client(Alert::UserNameBlank));
    }
    if input.image.as_ref().is_some_and(|image| image.len() > 1024) {
        return Err(ApiError::Client(Alert::RequestInvalidField));
    }
    Ok(())
}

#[handler]
pub async fn put_user(
    request: &Request,
    Path(code): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Reply {
    match run(request, &code, body, state).await {
        Ok(reply) => reply,
        Err(error) => error.into_reply(state.common.locale),
    }
}

async fn run(
    request: &Request,
    code: &str,
    body: Body,
    state: &AppState,
) -> Result<Reply, ApiError> {
    bearer::check(request, state)?;
    let bytes = body
        .into_bytes_limit(16 * 1024)
        .await
        .map_err(|_| ApiError::Client(Alert::RequestTooLarge))?;
    let input: UserInput =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Client(Alert::RequestInvalidJson))?;
    validate_user(code, &input)?;
    let (user, created) = users::upsert(&state.db, code, input.name.trim(), input.image).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Reply::with_status(
        status,
        json!({"code": user.code, "name": user.name, "image": user.image_path}),
    ))
}
