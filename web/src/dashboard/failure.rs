//! Why a dashboard request failed, as a small HTML page with the right status (the
//! dashboard is read by people; the JSON API is `/api`). Causes of 5xx are logged, not shown.

use maud::{DOCTYPE, html};
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the dashboard is off: set ADMIN_API_KEY")]
    Disabled,
    #[error("sign in with ADMIN_API_KEY as the password (or as a bearer token)")]
    Unauthorized,
    #[error("refused: the form was not sent from this dashboard (Origin does not match Host)")]
    CrossSite,
    #[error("no queue {0:?} (default, low_priority)")]
    NoQueue(String),
    #[error("no dead job {id:?} in {queue}: it was retried, deleted or never existed")]
    NoDeadJob { queue: &'static str, id: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("Redis or the database is unreachable right now; try again")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::Disabled | PageError::NoQueue(_) | PageError::NoDeadJob { .. } => {
                StatusCode::NOT_FOUND
            }
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Unauthorized => StatusCode::UNAUTHORIZED,
            PageError::CrossSite => StatusCode::FORBIDDEN,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<shared::queue::QueueError> for PageError {
    fn from(error: shared::queue::QueueError) -> Self {
        if error.is_unavailable() {
            PageError::Unavailable(format!("job queue: {error}"))
        } else {
            PageError::Internal(format!("job queue: {error}"))
        }
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(error: sea_orm::DbErr) -> Self {
        if shared::db::is_unavailable(&error) {
            PageError::Unavailable(format!("database: {error}"))
        } else {
            PageError::Internal(format!("database: {error}"))
        }
    }
}

impl From<shared::dead_jobs::DeadJobError> for PageError {
    fn from(error: shared::dead_jobs::DeadJobError) -> Self {
        use shared::dead_jobs::DeadJobError;
        match error {
            DeadJobError::Queue(error) => error.into(),
            DeadJobError::Database(error) => error.into(),
        }
    }
}

impl From<redis::RedisError> for PageError {
    fn from(error: redis::RedisError) -> Self {
        shared::queue::QueueError::from(error).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match &self {
            PageError::Internal(cause) => {
                tracing::error!(cause = %cause, "dashboard request failed")
            }
            PageError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "dashboard request refused: 503")
            }
            _ => {}
        }
        let status = self.status();
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "wsgw admin: " (status.as_u16()) } }
                body {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p.error { (self.to_string()) }
                    @if !matches!(self, PageError::Disabled | PageError::Unauthorized) {
                        p { a href="/admin" { "Back to the dashboard" } }
                    }
                }
            }
        };
        let mut response = Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8");
        if self == PageError::Unauthorized {
            response = response.header(header::WWW_AUTHENTICATE, r#"Basic realm="wsgw admin""#);
        }
        response.body(page.into_string())
    }
}

/// A handler's outcome as a response: the page, or the error page. (An error handed to poem
/// would reach web's JSON error renderer; people reading the dashboard get HTML.)
pub fn respond<T: IntoResponse>(result: Result<T, PageError>) -> Response {
    match result {
        Ok(page) => page.into_response(),
        Err(error) => error.into_response(),
    }
}
