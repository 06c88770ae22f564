//! `POST /api/ws_tokens` `{"user_code": ..}` (or `{}` for a guest) → 201 with a new token.

use chrono::{DateTime, Duration, Utc};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, handler};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::domain::UserCode;
use shared::i18n::Alert;
use shared::queries::{tokens, users};

use super::{MAX_ADMIN_BODY_BYTES, bearer};
use crate::edge;
use crate::error::{ApiError, Failure};
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    #[serde(default)]
    user_code: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenIssued {
    pub token: String,
    pub user_code: Option<String>,
    pub created_at: DateTime<Utc>,
    /// First use must happen before this (`TOKEN_EXPIRED_START_MINUTES`).
    pub start_by: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Issues a token for `user_code` (a guest token for `None`); shared with the CLI.
pub async fn issue(
    db: &DatabaseConnection,
    user_code: Option<&str>,
    start_minutes: i64,
    life_hours: i64,
) -> Result<TokenIssued, ApiError> {
    let user = match user_code {
        None => None,
        Some(code) => {
            let code =
                UserCode::parse(code).map_err(|_| ApiError::Client(Alert::RequestInvalidField))?;
            let user = users::find_by_code(db, &code).await?;
            Some(user.ok_or(ApiError::Client(Alert::UserNotFound))?)
        }
    };
    let token = tokens::issue(db, user.as_ref().map(|user| user.id)).await?;
    Ok(TokenIssued {
        token: token.code,
        user_code: user.map(|user| user.code),
        created_at: token.created_at,
        start_by: token.created_at + Duration::minutes(start_minutes),
        expires_at: token.created_at + Duration::hours(life_hours),
    })
}

#[handler]
pub async fn post_token(
    request: &Request,
    body: Body,
    Data(state): Data<&AppState>,
) -> Result<Reply, Failure> {
    bearer::check(request, state)?;
    let bytes = edge::read_body(body, MAX_ADMIN_BODY_BYTES).await?;
    let input: TokenRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        TokenRequest { user_code: None }
    } else {
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Client(Alert::RequestInvalidJson))?
    };
    let issued = issue(
        &state.db,
        input.user_code.as_deref(),
        state.web.token_expired_start_minutes,
        state.web.token_expired_hours,
    )
    .await?;
    let body = serde_json::to_value(&issued).map_err(|error| ApiError::Internal(error.into()))?;
    Ok(Reply::with_status(StatusCode::CREATED, body))
}
