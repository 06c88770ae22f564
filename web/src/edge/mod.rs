//! The HTTP edge: the limits every connection and request is held to, so that a slow or
//! broken client gets a JSON 4xx and cannot hold a connection forever.
//!
//! # Layout
//! - `connection`: [`GuardedAcceptor`], per connection: the request head's deadline, the
//!   keep-alive idle timeout, JSON in place of hyper's bare 400/414/431.
//! - `body`: [`BodyGuard`], per request: the body's deadline, and draining what a handler
//!   left unread so that its answer is not lost to a connection reset.
//! - [`read_body`]: the one place a handler reads a request body and maps its failures.

mod body;
mod connection;

pub use body::BodyGuard;
pub use connection::{ConnectionLimits, GuardedAcceptor};

use std::io::ErrorKind;

use bytes::Bytes;
use poem::Body;
use poem::error::ReadBodyError;
use shared::config::WebSettings;
use shared::i18n::{Alert, Locale};

use crate::error::ApiError;

/// Wraps the listener's acceptor with the connection limits of `web`'s settings.
pub fn guard_connections<A>(acceptor: A, web: &WebSettings, locale: Locale) -> GuardedAcceptor<A> {
    let limits = ConnectionLimits::new(web.header_timeout, web.idle_timeout, locale);
    GuardedAcceptor::new(acceptor, limits)
}

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
