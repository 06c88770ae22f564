//! Errors a request ends with, and the one place that maps them to statuses and renders
//! them in the locale. Internal causes are logged with their chain, never shown to clients.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use shared::domain::TokenRefusal;
use shared::i18n::{Alert, Locale};

use crate::reply::{Action, Reply};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("client error: {0:?}")]
    Client(Alert),
    /// A frame's token was refused: the connection is closed after `DISCONNECT_DELAY_SECS`.
    #[error("token refused: {0:?}")]
    Refused(TokenRefusal),
    /// The database or Redis cannot be reached right now: 503, worth a retry.
    #[error("unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn alert(&self) -> Alert {
        match self {
            ApiError::Client(alert) => *alert,
            ApiError::Refused(refusal) => (*refusal).into(),
            ApiError::Unavailable(_) => Alert::ServiceUnavailable,
            ApiError::Internal(_) => Alert::InternalError,
        }
    }
}

impl From<Alert> for ApiError {
    fn from(alert: Alert) -> Self {
        ApiError::Client(alert)
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

impl From<shared::dead_jobs::DeadJobError> for ApiError {
    fn from(error: shared::dead_jobs::DeadJobError) -> Self {
        match error {
            shared::dead_jobs::DeadJobError::Queue(error) => error.into(),
            shared::dead_jobs::DeadJobError::Database(error) => error.into(),
        }
    }
}

/// An error as its client sees it: the action it answers, and the frame it echoes, if any.
/// Handlers return it; [`render`] turns it into the response.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    pub error: ApiError,
    pub action: Option<Action>,
    pub data: Option<Map<String, Value>>,
}

impl Failure {
    pub fn new(action: Action, error: impl Into<ApiError>) -> Self {
        Self {
            error: error.into(),
            action: Some(action),
            data: None,
        }
    }

    /// The failure of a frame echoes it, as its successes do.
    pub fn echoing(mut self, data: &Map<String, Value>) -> Self {
        self.data = Some(data.clone());
        self
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.action, &self.error)
    }

    /// `{"success": false, "alert": <localized>}`, with `action` and `data` when known.
    pub fn into_reply(self, locale: Locale) -> Reply {
        match &self.error {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "request refused: 503")
            }
            ApiError::Client(_) | ApiError::Refused(_) => {}
        }
        let mut body = json!({"success": false, "alert": locale.alert(self.error.alert())});
        if let Some(action) = self.action {
            body["action"] = json!(action.as_str());
        }
        if let Some(data) = &self.data {
            body["data"] = Value::Object(data.clone());
        }
        Reply::with_status(self.status(), body)
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            action: None,
            data: None,
        }
    }
}

impl From<Alert> for Failure {
    fn from(alert: Alert) -> Self {
        ApiError::Client(alert).into()
    }
}

/// The body is rendered by [`render`], which knows the locale.
impl poem::error::ResponseError for Failure {
    fn status(&self) -> StatusCode {
        Failure::status(self)
    }
}

/// The whole mapping from errors to statuses.
fn status_of(action: Option<Action>, error: &ApiError) -> StatusCode {
    use Alert::*;
    let alert = match error {
        ApiError::Unavailable(_) => return StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Internal(_) => return StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::Refused(_) => return StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::Client(alert) => *alert,
    };
    match (action, alert) {
        // Sending to a channel the token does not read is an answer, not an HTTP error
        // (SPEC §1), and every flaw of a message body is a 422 `send_result`.
        (Some(Action::SendResult), ChannelNotSubscribed) => StatusCode::OK,
        (Some(Action::SendResult), RequestInvalidField | RequestNulCharacter) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        (
            _,
            ConnectionIdBlank | OriginBlank | RequestInvalidJson | RequestInvalidField
            | RequestNulCharacter | RequestMalformed | LastIdInvalid | LimitInvalid | UserNameBlank
            | UserNameInvalid | UserImageInvalid,
        ) => StatusCode::BAD_REQUEST,
        (
            _,
            ConnectionIdInvalid | OriginInvalid | TokenBlank | TokenDifferent | TokenNotFound
            | TokenExpiredStart | TokenExpiredCreated | BodyBlank | BodyTooLong,
        ) => StatusCode::UNPROCESSABLE_ENTITY,
        (_, GatewaySecretInvalid | AdminUnauthorized) => StatusCode::UNAUTHORIZED,
        (_, RequestTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
        (_, RequestTimeout) => StatusCode::REQUEST_TIMEOUT,
        (_, RequestUriTooLong) => StatusCode::URI_TOO_LONG,
        (_, RequestHeadersTooLarge) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        (
            _,
            RequestUnknownMethod | RequestNotFound | UserNotFound | AdminDisabled
            | ConnectionIdNotFound | ChannelNotSubscribed | JobNotFound,
        ) => StatusCode::NOT_FOUND,
        (_, RequestMethodNotAllowed) => StatusCode::METHOD_NOT_ALLOWED,
        (_, ServiceUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
        (_, InternalError) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Every error response of web: a handler's [`Failure`], or poem's and poem-openapi's own
/// errors (unknown route, wrong HTTP method, unreadable body, a parameter that does not
/// parse, a missing admin key), as JSON in the locale.
pub fn render(error: poem::Error, locale: Locale) -> Response {
    // An admin API operation's error response (`api::problem`), already in this shape.
    if error.is_from_response() {
        return error.into_response();
    }
    let error = match error.downcast::<Failure>() {
        Ok(failure) => return failure.into_reply(locale).into_response(),
        Err(error) => error,
    };
    let alert = match error.status() {
        _ if error.is::<poem_openapi::error::ParseParamError>()
            || error.is::<poem_openapi::error::ParsePathError>() =>
        {
            Alert::RequestInvalidField
        }
        StatusCode::UNAUTHORIZED => Alert::AdminUnauthorized,
        StatusCode::NOT_FOUND => Alert::RequestNotFound,
        StatusCode::METHOD_NOT_ALLOWED => Alert::RequestMethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Alert::RequestTooLarge,
        status if status.is_client_error() => Alert::RequestInvalidJson,
        _ => {
            tracing::error!(error = %error, "unhandled framework error");
            Alert::InternalError
        }
    };
    Failure::from(alert).into_reply(locale).into_response()
}
