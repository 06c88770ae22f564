//! A `$default` body: the client's raw text frame, which must be a JSON object.

use poem::Body;
use poem::error::ReadBodyError;
use serde_json::{Map, Value};
use shared::i18n::Alert;

use crate::error::ApiError;

/// The parsed frame; `data` is echoed back in replies.
#[derive(Debug)]
pub struct Frame {
    pub data: Map<String, Value>,
}

impl Frame {
    /// Reads at most `limit` bytes and parses them. Bodies that are too large, not UTF-8,
    /// not JSON, nested beyond serde_json's depth limit, or not an object are refused.
    pub async fn read(body: Body, limit: usize) -> Result<Self, ApiError> {
        let bytes = body
            .into_bytes_limit(limit)
            .await
            .map_err(|error| match error {
                ReadBodyError::PayloadTooLarge => ApiError::Client(Alert::RequestTooLarge),
                _ => ApiError::Client(Alert::RequestInvalidJson),
            })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(data)) => Ok(Self { data }),
            _ => Err(ApiError::Client(Alert::RequestInvalidJson)),
        }
    }

    /// A string field; absent and `null` are `None`, any other type is a client error.
    pub fn string(&self, field: &str) -> Result<Option<&str>, ApiError> {
        match self.data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(ApiError::Client(Alert::RequestInvalidField)),
        }
    }

    /// An integer field, also accepted as a string of digits (Rails' `to_i` clients send
    /// both). Absent, `null` and `""` are `None`; anything else that is not an integer is
    /// `Err(())`.
    pub fn integer(&self, field: &str) -> Result<Option<i64>, ()> {
        match self.data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => number.as_i64().map(Some).ok_or(()),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| ()),
            Some(_) => Err(()),
        }
    }
}
