//! `Authorization: Bearer <ADMIN_API_KEY>`, compared in constant time.

use poem::Request;
use shared::i18n::Alert;

use crate::error::ApiError;
use crate::state::AppState;

pub fn check(request: &Request, state: &AppState) -> Result<(), ApiError> {
    let Some(key) = &state.web.admin_api_key else {
        return Err(ApiError::Client(Alert::AdminDisabled));
    };
    let presented = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if key.matches(presented) {
        Ok(())
    } else {
        Err(ApiError::Client(Alert::AdminUnauthorized))
    }
}
