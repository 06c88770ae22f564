//! `Authorization: Bearer <ADMIN_API_KEY>`, compared in constant time.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use shared::i18n::Alert;

use crate::error::Failure;
use crate::state::AppState;

/// The admin key, as a bearer token.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "key_matches")]
pub struct AdminKey(());

/// A wrong key is the same 401 JSON as a missing one.
async fn key_matches(request: &Request, bearer: Bearer) -> poem::Result<()> {
    let unauthorized = || poem::Error::from(Failure::from(Alert::AdminUnauthorized));
    let key = request
        .data::<AppState>()
        .and_then(|state| state.web.admin_api_key.as_ref())
        .ok_or_else(unauthorized)?;
    if key.matches(&bearer.token) {
        Ok(())
    } else {
        Err(unauthorized())
    }
}
