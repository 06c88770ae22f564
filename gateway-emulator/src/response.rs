//! The one response body type every handler returns, and builders for the common shapes.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// Every response carries a body that is already in memory: a single type keeps the router
/// free of boxing.
pub type Body = Full<Bytes>;

/// A response with no body (`Content-Length: 0`).
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = status;
    response
}

/// A response with the given body, served as JSON.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Serializes `value` as the JSON body; a value that cannot be serialized is a bug, answered 500.
pub fn json_value<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => json(status, body),
        Err(error) => {
            tracing::error!(%error, "serializing a response body failed");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(br#"{"message":"Internal server error"}"#),
            )
        }
    }
}

/// A `{"message": ...}` body, the shape AWS uses for errors.
pub fn message(status: StatusCode, text: &str) -> Response<Body> {
    json_value(status, &serde_json::json!({ "message": text }))
}
