//! The HTTP edge: what every request goes through before and after a handler.
//!
//! # Layout
//! - [`read_body`]: the one place a handler reads a request body and maps its failures.

use std::io::ErrorKind;

use bytes::Bytes;
use poem::Body;
use poem::error::ReadBodyError;
use shared::i18n::Alert;

use crate::error::ApiError;

/// Reads a request body of at most `limit` bytes: larger is 413, too slow is 408, a broken
/// body 400.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    body.into_bytes_limit(limit)
        .await
        .map_err(|error| match error {
            ReadBodyError::PayloadTooLarge => ApiError::Client(Alert::RequestTooLarge),
            ReadBodyError::Io(error) if error.kind() == ErrorKind::TimedOut => {
                ApiError::Client(Alert::RequestTimeout)
            }
            _ => ApiError::Client(Alert::RequestInvalidJson),
        })
}
