//! Errors a callback or admin request ends with, and the one place that maps them to
//! statuses. Internal causes are logged with their chain and never shown to clients.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde_json::json;
use shared::i18n::{Alert, Locale};

use crate::reply::Reply;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("client error: {0:?}")]
    Client(Alert),
    /// The database or Redis cannot be reached right now: 503, worth a retry.
    #[error("unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client(alert) => status_of(*alert),
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn alert(&self) -> Alert {
        match self {
            ApiError::Client(alert) => *alert,
            ApiError::Unavailable(_) => Alert::ServiceUnavailable,
            ApiError::Internal(_) => Alert::InternalError,
        }
    }

    pub fn into_reply(self, locale: Locale) -> Reply {
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "request refused: 503")
            }
            ApiError::Client(_) => {}
        }
        Reply::with_status(
            self.status(),
            json!({"success": false, "alert": locale.alert(self.alert())}),
        )
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        let unavailable = shared::db::is_unavailable(&error);
        let cause = anyhow::Error::new(error).context("database");
        if unavailable {
            ApiError::Unavailable(cause)
        } else {
            ApiError::Internal(cause)
        }
    }
}

impl From<shared::queue::QueueError> for ApiError {
    fn from(error: shared::queue::QueueError) -> Self {
        let unavailable = error.is_unavailable();
        let cause = anyhow::Error::new(error).context("job queue");
        if unavailable {
            ApiError::Unavailable(cause)
        } else {
            ApiError::Internal(cause)
        }
    }
}

/// The whole mapping from client mistakes to statuses.
fn status_of(alert: Alert) -> StatusCode {
    use Alert::*;
    match alert {
        ConnectionIdBlank | OriginBlank | RequestInvalidJson | RequestInvalidField
        | RequestNulCharacter | RequestMalformed | LastIdInvalid | LimitInvalid | UserNameBlank
        | UserNameInvalid | UserImageInvalid => StatusCode::BAD_REQUEST,
        ConnectionIdInvalid | OriginInvalid | TokenBlank | TokenDifferent | TokenNotFound
        | TokenExpiredStart | TokenExpiredCreated | BodyBlank | BodyTooLong => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        GatewaySecretInvalid | AdminUnauthorized => StatusCode::UNAUTHORIZED,
        RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        RequestUriTooLong => StatusCode::URI_TOO_LONG,
        RequestHeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        RequestUnknownMethod | RequestNotFound | UserNotFound | AdminDisabled
        | ConnectionIdNotFound | ChannelNotSubscribed => StatusCode::NOT_FOUND,
        RequestMethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        InternalError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Maps poem's own errors (unknown route, wrong HTTP method, unreadable body) to JSON.
pub fn framework_error(error: poem::Error, locale: Locale) -> Response {
    let alert = match error.status() {
        StatusCode::NOT_FOUND => Alert::RequestNotFound,
        StatusCode::METHOD_NOT_ALLOWED => Alert::RequestMethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Alert::RequestTooLarge,
        status if status.is_client_error() => Alert::RequestInvalidJson,
        _ => {
            tracing::error!(error = %error, "unhandled framework error");
            Alert::InternalError
        }
    };
    ApiError::Client(alert).into_reply(locale).into_response()
}
