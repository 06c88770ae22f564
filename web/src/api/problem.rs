//! The one error shape of the admin API, as a documented response of every operation.
//! Errors raised before an operation runs (a malformed body or parameter, a missing key)
//! are rendered in the same shape by `crate::error::render`.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use shared::i18n::Locale;

use crate::error::{ApiError, Failure};

/// Every error of the admin API.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// What went wrong, in the configured `LOCALE`.
    pub alert: String,
}

#[derive(Debug, ApiResponse)]
pub enum Problem {
    /// The request is malformed: not JSON, a field or parameter of the wrong type or value.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `Authorization: Bearer <ADMIN_API_KEY>` is missing or wrong.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The user, job or route does not exist.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The body is larger than the admin API reads.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The request is well-formed but breaks a rule (a blank or overlong message body).
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// A fault on our side; logged with its cause.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// PostgreSQL or Redis cannot be reached right now: worth a retry.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl Problem {
    /// The error with the status and localized alert the rest of web gives it; internal
    /// causes are logged here, never shown.
    pub fn new(error: impl Into<ApiError>, locale: Locale) -> Self {
        let reply = Failure::from(error.into()).into_reply(locale);
        let body = Json(ErrorBody {
            success: false,
            alert: reply.body["alert"].as_str().unwrap_or_default().to_owned(),
        });
        match reply.status.as_u16() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            404 => Self::NotFound(body),
            413 => Self::TooLarge(body),
            422 => Self::Unprocessable(body),
            503 => Self::Unavailable(body),
            _ => Self::Internal(body),
        }
    }
}

/// `.map_err(problem(locale))`.
pub fn problem<E: Into<ApiError>>(locale: Locale) -> impl Fn(E) -> Problem {
    move |error| Problem::new(error, locale)
}
