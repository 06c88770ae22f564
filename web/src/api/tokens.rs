//! `POST /api/ws_tokens` `{"user_code": ..}` (or `{}` for a guest) → 201 with a new token.

use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use shared::domain::UserCode;
use shared::i18n::Alert;
use shared::queries::{tokens, users};

use super::ApiTags;
use super::auth::AdminKey;
use super::json_body::JsonBody;
use super::problem::{Problem, problem};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The user the token is for; absent or `null` issues a guest token, which can only
    /// read `all_channel`.
    #[oai(nullable, validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    user_code: Option<String>,
}

/// A new token. Serialized in this field order by the CLI too (`token` first).
#[derive(Debug, Object, Serialize)]
pub struct TokenIssued {
    /// What the client sends as `token` with every frame.
    pub token: String,
    /// `null` for a guest token.
    #[oai(nullable)]
    pub user_code: Option<String>,
    pub created_at: DateTime<Utc>,
    /// First use must happen before this (`TOKEN_EXPIRED_START_MINUTES`).
    pub start_by: DateTime<Utc>,
    /// The token stops working then (`TOKEN_EXPIRED_HOURS`).
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, ApiResponse)]
pub enum PostTokenResponse {
    /// The token was issued.
    #[oai(status = 201)]
    Created(Json<TokenIssued>),
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

pub struct TokensApi;

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Issue a token
    ///
    /// For a user, or with `{}` (or an empty body) for a guest.
    #[oai(path = "/ws_tokens", method = "post", operation_id = "post_ws_token")]
    async fn post_token(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        JsonBody(input): JsonBody<TokenRequest>,
    ) -> Result<PostTokenResponse, Problem> {
        let issued = issue(
            &state.db,
            input.user_code.as_deref(),
            state.web.token_expired_start_minutes,
            state.web.token_expired_hours,
        )
        .await
        .map_err(problem(state.common.locale))?;
        Ok(PostTokenResponse::Created(Json(issued)))
    }
}
