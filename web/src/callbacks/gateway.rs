//! Checks shared by the callbacks, on headers API Gateway maps into the integration request.

use poem::Request;
use shared::domain::{ConnectionId, ConnectionIdError, Origin};
use shared::i18n::Alert;

use crate::error::ApiError;
use crate::state::AppState;

fn header<'a>(request: &'a Request, name: &str) -> Result<Option<&'a str>, ApiError> {
    match request.headers().get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::Client(Alert::RequestInvalidField)),
    }
}

/// `x-gateway-secret`, when `GATEWAY_SECRET` is set; compared in constant time.
pub fn check_secret(request: &Request, state: &AppState) -> Result<(), ApiError> {
    let Some(secret) = &state.web.gateway_secret else {
        return Ok(());
    };
    match request.headers().get("x-gateway-secret") {
        Some(value) if secret.matches(&String::from_utf8_lossy(value.as_bytes())) => Ok(()),
        _ => Err(ApiError::Client(Alert::GatewaySecretInvalid)),
    }
}

/// The secret, then `connectionId`: what every callback checks first.
pub fn connection_id(request: &Request, state: &AppState) -> Result<ConnectionId, ApiError> {
    check_secret(request, state)?;
    let raw = header(request, "connectionid")
        .map_err(|_| ApiError::Client(Alert::ConnectionIdInvalid))?
        .unwrap_or("");
    ConnectionId::parse(raw).map_err(|error| match error {
        ConnectionIdError::Blank => ApiError::Client(Alert::ConnectionIdBlank),
        ConnectionIdError::TooLong | ConnectionIdError::BadCharacter => {
            ApiError::Client(Alert::ConnectionIdInvalid)
        }
    })
}

/// `origin` on `$connect`: present, an origin, and in the allowlist.
pub fn check_origin(request: &Request, state: &AppState) -> Result<(), ApiError> {
    let raw = header(request, "origin")
        .map_err(|_| ApiError::Client(Alert::OriginInvalid))?
        .unwrap_or("")
        .trim();
    if raw.is_empty() {
        return Err(ApiError::Client(Alert::OriginBlank));
    }
    match Origin::parse(raw) {
        Some(origin) if state.web.allowed_origins.allows(&origin) => Ok(()),
        _ => Err(ApiError::Client(Alert::OriginInvalid)),
    }
}
