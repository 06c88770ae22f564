//! The Management API: `POST`, `GET` and `DELETE` on `/{stage}/@connections/{id}`.
//!
//! Status codes, `x-amzn-ErrorType` and bodies follow API Gateway's (see [`ApiError`]), so the
//! unmodified AWS SDK maps every outcome to its modelled error. Signatures are not verified:
//! any `Authorization: AWS4-HMAC-SHA256 ...` header is accepted.

use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use std::sync::atomic::Ordering;

use crate::MAX_MESSAGE_BYTES;
use crate::app::App;
use crate::error::ApiError;
use crate::faults::Injected;
use crate::registry::DeliverError;
use crate::response::{self, Body};
use crate::writer;

/// Longer than any id the emulator hands out; a longer path segment cannot name a connection.
const MAX_ID_BYTES: usize = 64;

/// A connection id decoded from its percent-encoded path segment into a stack buffer: the
/// POST hot path should not allocate for it.
#[derive(Debug)]
pub struct PathId {
    bytes: [u8; MAX_ID_BYTES],
    len: usize,
    valid: bool,
}

impl PathId {
    pub fn decode(segment: &str) -> Self {
        let mut id = Self {
            bytes: [0; MAX_ID_BYTES],
            len: 0,
            valid: true,
        };
        for byte in percent_decode_str(segment) {
            if id.len == MAX_ID_BYTES {
                id.valid = false;
                break;
            }
            id.bytes[id.len] = byte;
            id.len += 1;
        }
        id
    }

    /// The id, or `None` when it cannot be one of ours (too long, not UTF-8).
    fn as_str(&self) -> Option<&str> {
        if !self.valid {
            return None;
        }
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

pub async fn handle(app: &App, id: PathId, request: Request<Incoming>) -> Response<Body> {
    let signed = request
        .headers()
        .get(AUTHORIZATION)
        .is_some_and(|value| value.as_bytes().starts_with(b"AWS4-HMAC-SHA256"));
    if !signed {
        return ApiError::MissingAuthenticationToken.into_response();
    }
    // An id that cannot be one of ours is looked up as "", which no connection has: every
    // method then answers it exactly as it answers any other unknown id.
    let id = id.as_str().unwrap_or_default();
    match *request.method() {
        Method::POST => post(app, id, request)
            .await
            .unwrap_or_else(ApiError::into_response),
        Method::GET => within_quota(app).map_or_else(|| get(app, id), ApiError::into_response),
        Method::DELETE => {
            within_quota(app).map_or_else(|| delete(app, id), ApiError::into_response)
        }
        _ => ApiError::Forbidden.into_response(),
    }
}

/// Counts a request against the account's quota (and per second); the error when it is over.
fn within_quota(app: &App) -> Option<ApiError> {
    let admitted = app.quota.as_ref().is_none_or(|quota| quota.admit());
    app.stats.management_per_second.record(!admitted);
    if admitted {
        return None;
    }
    app.stats.quota_throttled.fetch_add(1, Ordering::Relaxed);
    Some(ApiError::Throttled)
}

/// `PostToConnection`: the body, as is, becomes one frame for the client.
async fn post(app: &App, id: &str, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let declared_len = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    // Refuse an announced oversized body before reading any of it.
    if declared_len.is_some_and(|len| len > MAX_MESSAGE_BYTES) {
        app.stats.payload_too_large.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::PayloadTooLarge);
    }
    let body = match Limited::new(request.into_body(), MAX_MESSAGE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            app.stats.payload_too_large.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::PayloadTooLarge);
        }
        Err(_) => return Err(ApiError::BadRequest),
    };
    // The quota and faults come after the body is read so the HTTP connection stays reusable.
    if let Some(error) = within_quota(app) {
        app.stats.throttled.fetch_add(1, Ordering::Relaxed);
        return Err(error);
    }
    match app.faults.roll() {
        Injected::Nothing => {}
        Injected::Throttle => {
            app.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Throttled);
        }
        Injected::Error => {
            app.stats.errors.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Internal);
        }
    }
    // The connection is looked up after the delay, so a client that leaves meanwhile gets
    // nothing and the caller gets 410, as with a real in-flight POST.
    if let Some(latency) = app.faults.post_latency() {
        tokio::time::sleep(latency).await;
    }
    let frame = writer::data_frame(body);
    match app
        .registry
        .with(id, |connection| connection.deliver(frame))
    {
        Some(Ok(())) => {
            app.stats.posts_ok.fetch_add(1, Ordering::Relaxed);
            Ok(response::empty(StatusCode::OK))
        }
        Some(Err(DeliverError::Full)) => {
            app.stats.throttled.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::ClientBufferFull)
        }
        Some(Err(DeliverError::Closed)) | None => Ok(gone(app)),
    }
}

/// `GetConnection`.
fn get(app: &App, id: &str) -> Response<Body> {
    app.registry
        .with(id, |connection| {
            response::json_value(StatusCode::OK, &connection.info())
        })
        .unwrap_or_else(|| ApiError::Gone.into_response())
}

/// `DeleteConnection`: the client gets close code 1000 (what API Gateway sends: its
/// `$disconnect` event then reports "Connection Closed Normally"), the backend gets
/// `$disconnect` shortly after, and this call answers 204 without waiting for either.
fn delete(app: &App, id: &str) -> Response<Body> {
    match app.registry.remove(id) {
        Some(connection) => {
            connection.request_close();
            app.stats.deletes.fetch_add(1, Ordering::Relaxed);
            response::empty(StatusCode::NO_CONTENT)
        }
        None => ApiError::Gone.into_response(),
    }
}

fn gone(app: &App) -> Response<Body> {
    app.stats.posts_gone.fetch_add(1, Ordering::Relaxed);
    ApiError::Gone.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_percent_decoded() {
        assert_eq!(
            PathId::decode("JC1dgf9yoAMCK-g%3D").as_str(),
            Some("JC1dgf9yoAMCK-g=")
        );
        assert_eq!(PathId::decode("plain").as_str(), Some("plain"));
        assert_eq!(PathId::decode(&"a".repeat(MAX_ID_BYTES + 1)).as_str(), None);
        assert_eq!(PathId::decode("%FF").as_str(), None);
    }
}
