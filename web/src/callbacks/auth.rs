//! Token authentication, run on every `$default` frame (the client sends its token each time).

use chrono::{Duration, Utc};
use sea_orm::SqlErr;
use shared::domain::ConnectionId;
use shared::entities::{users, ws_tokens};
use shared::i18n::Alert;
use shared::queries::tokens;

use crate::error::ApiError;
use crate::state::AppState;

/// Why a token was refused, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Blank,
    Different,
    NotFound,
    ExpiredStart,
    ExpiredCreated,
}

impl TokenError {
    /// The value recorded in `ws_tokens.last_status`.
    pub fn status(self) -> &'static str {
        match self {
            TokenError::Blank => "blank",
            TokenError::Different => "different",
            TokenError::NotFound => "notfound",
            TokenError::ExpiredStart => "expired_start",
            TokenError::ExpiredCreated => "expired_created",
        }
    }

    pub fn alert(self) -> Alert {
        match self {
            TokenError::Blank => Alert::TokenBlank,
            TokenError::Different => Alert::TokenDifferent,
            TokenError::NotFound => Alert::TokenNotFound,
            TokenError::ExpiredStart => Alert::TokenExpiredStart,
            TokenError::ExpiredCreated => Alert::TokenExpiredCreated,
        }
    }
}

/// An authenticated frame's token and its user (none for a guest).
#[derive(Debug)]
pub struct Authenticated {
    pub token: ws_tokens::Model,
    pub user: Option<users::Model>,
}

/// Checks `code` for this connection and records the outcome on the token.
pub async fn authenticate(
    state: &AppState,
    connection_id: &ConnectionId,
    code: Option<&str>,
) -> Result<Result<Authenticated, TokenError>, ApiError> {
    let Some(code) = code.filter(|code| !code.trim().is_empty()) else {
        return Ok(Err(TokenError::Blank));
    };
    let (bound, by_code) = tokens::find_bound_and_by_code(&state.db, connection_id, code).await?;
    if bound.as_ref().is_some_and(|bound| bound.code != code) {
        return Ok(Err(TokenError::Different));
    }
    let Some((token, user)) = by_code else {
        return Ok(Err(TokenError::NotFound));
    };
    let now = Utc::now();
    let start_deadline = Duration::minutes(state.web.token_expired_start_minutes);
    let life = Duration::hours(state.web.token_expired_hours);
    let refused = if token.auth_successed_at.is_none() && token.created_at < now - start_deadline {
        Some(TokenError::ExpiredStart)
    } else if token.created_at < now - life {
        Some(TokenError::ExpiredCreated)
    } else {
        None
    };
    if let Some(error) = refused {
        tokens::record_status(&state.db, token.id, error.status()).await?;
        return Ok(Err(error));
    }
    // A connection with no token yet binds this one; a token used from a new connection
    // moves there (reconnect).
    let bind_to = bound.is_none().then_some(connection_id);
    match tokens::record_auth_success(&state.db, token, now, bind_to).await {
        Ok(token) => Ok(Ok(Authenticated { token, user })),
        // Another frame of this connection bound a different token meanwhile.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(Err(TokenError::Different))
        }
        Err(error) => Err(error.into()),
    }
}
