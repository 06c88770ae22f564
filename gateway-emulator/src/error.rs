//! Management API errors, each mapped to the status code, `x-amzn-ErrorType` and JSON body
//! that API Gateway sends, so the unmodified AWS SDK turns them into its modelled exceptions
//! (`GoneException`, `LimitExceededException`, ...).

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Response, StatusCode};

use crate::response::{self, Body};

/// The header the AWS SDK's restJson1 protocol reads the error code from.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No SigV4 `Authorization` header.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// Wrong stage, unknown path or unsupported method: AWS answers 403 for unknown resources.
    #[error("Forbidden")]
    Forbidden,
    /// No live connection has this id.
    #[error("Gone")]
    Gone,
    /// `PostToConnection` data over 128 KB.
    #[error("Request entity too large")]
    PayloadTooLarge,
    /// Injected throttling (the account-level rate limit on AWS).
    #[error("Rate exceeded")]
    Throttled,
    /// The client's outbound queue is full: it is not reading its frames.
    #[error("Client buffer is full: the client is not reading")]
    ClientBufferFull,
    /// Injected server error.
    #[error("Internal server error")]
    Internal,
    /// The request body could not be read.
    #[error("Invalid request body")]
    BadRequest,
}

impl ApiError {
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingAuthenticationToken | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Gone => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Throttled | Self::ClientBufferFull => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    /// The modelled exception name, as AWS puts it in `x-amzn-ErrorType`.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken | Self::Forbidden => "ForbiddenException",
            Self::Gone => "GoneException",
            Self::PayloadTooLarge => "PayloadTooLargeException",
            Self::Throttled | Self::ClientBufferFull => "LimitExceededException",
            Self::Internal => "InternalServerErrorException",
            Self::BadRequest => "BadRequestException",
        }
    }

    /// The JSON body, built at compile time: 410s and 429s are hot in a big fan-out and
    /// should cost no allocation.
    fn body(self) -> &'static [u8] {
        match self {
            Self::MissingAuthenticationToken => br#"{"message":"Missing Authentication Token"}"#,
            Self::Forbidden => br#"{"message":"Forbidden"}"#,
            Self::Gone => br#"{"message":"Gone"}"#,
            Self::PayloadTooLarge => br#"{"message":"Request entity too large"}"#,
            Self::Throttled => br#"{"message":"Rate exceeded"}"#,
            Self::ClientBufferFull => {
                br#"{"message":"Client buffer is full: the client is not reading"}"#
            }
            Self::Internal => br#"{"message":"Internal server error"}"#,
            Self::BadRequest => br#"{"message":"Invalid request body"}"#,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let mut response = response::json(self.status(), Bytes::from_static(self.body()));
        response.headers_mut().insert(
            ERROR_TYPE_HEADER,
            HeaderValue::from_static(self.error_type()),
        );
        response
    }
}

/// An error with its sources, for one log field.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_json_with_the_display_message() {
        for error in [
            ApiError::MissingAuthenticationToken,
            ApiError::Forbidden,
            ApiError::Gone,
            ApiError::PayloadTooLarge,
            ApiError::Throttled,
            ApiError::ClientBufferFull,
            ApiError::Internal,
            ApiError::BadRequest,
        ] {
            let body: serde_json::Value = serde_json::from_slice(error.body()).expect("json");
            assert_eq!(body["message"], error.to_string());
        }
    }
}
