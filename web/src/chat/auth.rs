//! Token authentication, run on every frame (the client sends its token each time).

use chrono::{Duration, Utc};
use sea_orm::SqlErr;
use shared::domain::{Peer, TokenRefusal, TokenStatus, UserCode};
use shared::entities::{users, ws_tokens};
use shared::queries::tokens;

use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated frame's token and its user (none for a guest).
#[derive(Debug)]
pub struct Authenticated {
    pub token: ws_tokens::Model,
    pub user: Option<users::Model>,
}

impl Authenticated {
    /// The user's code; stored codes were validated when the user was saved.
    pub fn user_code(&self) -> Option<UserCode> {
        let user = self.user.as_ref()?;
        UserCode::parse(&user.code).ok()
    }
}

/// Checks `code` for this connection and records the outcome on the token. A refusal is
/// `ApiError::Refused`, in the order of SPEC §1. The common frame, on a connection its token
/// is bound to, costs one read: its `last_auth_successed_at` goes to [`AuthTimes`].
///
/// [`AuthTimes`]: super::AuthTimes
pub async fn authenticate(
    state: &AppState,
    peer: &Peer,
    code: Option<&str>,
) -> Result<Authenticated, ApiError> {
    let Some(code) = code.filter(|code| !code.trim().is_empty()) else {
        return Err(ApiError::Refused(TokenRefusal::Blank));
    };
    let (bound, by_code) = tokens::find_bound_and_by_code(&state.db, peer, code).await?;
    if bound.as_ref().is_some_and(|bound| bound.code != code) {
        return Err(ApiError::Refused(TokenRefusal::Different));
    }
    let Some((token, user)) = by_code else {
        return Err(ApiError::Refused(TokenRefusal::NotFound));
    };
    let now = Utc::now();
    let start_deadline = Duration::minutes(state.web.token_expired_start_minutes);
    let life = Duration::hours(state.web.token_expired_hours);
    let refused = if token.auth_successed_at.is_none() && token.created_at < now - start_deadline {
        Some(TokenRefusal::ExpiredStart)
    } else if token.created_at < now - life {
        Some(TokenRefusal::ExpiredCreated)
    } else {
        None
    };
    if let Some(refusal) = refused {
        tokens::record_status(&state.db, token.id, refusal.status()).await?;
        return Err(ApiError::Refused(refusal));
    }
    if bound.is_some() && token.last_status.as_deref() == Some(TokenStatus::Success.as_str()) {
        // Bound to this connection already (its code matched above) and in good standing:
        // only the time changes, and it is written behind the answer.
        state.auth_times.record(token.id, now);
        let token = ws_tokens::Model {
            last_auth_successed_at: Some(now),
            ..token
        };
        return Ok(Authenticated { token, user });
    }
    // A connection with no token yet binds this one; a token used from a new connection
    // moves there (reconnect).
    let bind_to = bound.is_none().then_some(peer);
    match tokens::record_auth_success(&state.db, token, now, bind_to).await {
        Ok(token) => Ok(Authenticated { token, user }),
        // Another frame of this connection bound a different token meanwhile.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(ApiError::Refused(TokenRefusal::Different))
        }
        Err(error) => Err(error.into()),
    }
}
