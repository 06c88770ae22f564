//! Request bodies: read within a deadline, and drained before the answer goes out.
//!
//! A handler may answer without reading all of a body: 413 after `MAX_REQUEST_BYTES`, 404 for
//! an unknown path, 400 for a missing connection id. Closing a socket that still holds unread
//! bytes makes the kernel send a reset, and a reset discards what the client had not read
//! yet, our answer included. So after the handler, whatever is left of the body is read and
//! dropped, up to [`DRAIN_LIMIT`] bytes and within the body's deadline; only a larger or
//! slower body still gets the connection closed under it (with `connection: close`).
//!
//! The deadline, `HTTP_BODY_TIMEOUT_SECS` from the moment the head was parsed, makes a body
//! that trickles in fail with a timeout, which handlers answer with 408.

use std::io::{Error as IoError, ErrorKind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::stream::{BoxStream, StreamExt};
use poem::http::HeaderValue;
use poem::http::header::CONNECTION;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use tokio::time::{Instant, Sleep, sleep_until};

/// The most a body left unread by its handler is drained: more is not worth reading to
/// save one connection.
pub const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// The middleware: `.with(BodyGuard::new(timeout))`.
pub struct BodyGuard {
    timeout: Duration,
}

impl BodyGuard {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<E: Endpoint> Middleware<E> for BodyGuard {
    type Output = BodyGuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyGuardEndpoint {
            inner,
            timeout: self.timeout,
        }
    }
}

pub struct BodyGuardEndpoint<E> {
    inner: E,
    timeout: Duration,
}

impl<E: Endpoint> Endpoint for BodyGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        let deadline = Instant::now() + self.timeout;
        let body = TimedBody::new(request.take_body(), deadline);
        request.set_body(Body::from_bytes_stream(body.clone()));
        let result = self.inner.call(request).await;
        // Both answers and errors go out on this connection: drain under either.
        let drained = body.drain(DRAIN_LIMIT).await;
        let mut response = result?.into_response();
        if !drained {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(response)
    }
}

/// The request body, shared between the handler (which may drop its end early) and the
/// drain after it.
#[derive(Clone)]
struct TimedBody(Arc<Mutex<Inner>>);

struct Inner {
    stream: BoxStream<'static, Result<Bytes, IoError>>,
    deadline: Pin<Box<Sleep>>,
    /// The stream ended, failed or timed out: nothing more comes.
    finished: bool,
    /// It ended cleanly.
    complete: bool,
}

impl TimedBody {
    fn new(body: Body, deadline: Instant) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            stream: body.into_bytes_stream().boxed(),
            deadline: Box::pin(sleep_until(deadline)),
            finished: false,
            complete: false,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads and drops the rest, up to `limit` bytes; whether the body ended cleanly.
    async fn drain(&self, limit: usize) -> bool {
        let mut this = self.clone();
        let mut dropped = 0usize;
        while let Some(chunk) = this.next().await {
            match chunk {
                Ok(bytes) => dropped = dropped.saturating_add(bytes.len()),
                Err(_) => return false,
            }
            if dropped > limit {
                return false;
            }
        }
        self.lock().complete
    }
}

impl Stream for TimedBody {
    type Item = Result<Bytes, IoError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut inner = self.lock();
        if inner.finished {
            return Poll::Ready(None);
        }
        match inner.stream.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(bytes))) => Poll::Ready(Some(Ok(bytes))),
            Poll::Ready(Some(Err(error))) => {
                inner.finished = true;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                inner.finished = true;
                inner.complete = true;
                Poll::Ready(None)
            }
            Poll::Pending => match inner.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    inner.finished = true;
                    let error = IoError::new(ErrorKind::TimedOut, "request body read timed out");
                    Poll::Ready(Some(Err(error)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trickle(chunks: usize, every: Duration) -> Body {
        let stream = futures::stream::unfold(0, move |sent| async move {
            (sent < chunks).then_some(())?;
            tokio::time::sleep(every).await;
            Some((Ok::<_, IoError>(Bytes::from_static(b"x")), sent + 1))
        });
        Body::from_bytes_stream(stream)
    }

    #[tokio::test]
    async fn a_body_slower_than_the_deadline_times_out() {
        let deadline = Instant::now() + Duration::from_millis(50);
        let body = TimedBody::new(trickle(100, Duration::from_millis(10)), deadline);
        let read = Body::from_bytes_stream(body.clone()).into_bytes().await;
        let error = read.unwrap_err();
        assert!(error.to_string().contains("timed out"), "{error}");
        assert!(
            !body.drain(DRAIN_LIMIT).await,
            "a timed-out body is not drained"
        );
    }

    #[tokio::test]
    async fn what_a_handler_left_is_drained_up_to_the_limit() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let body = TimedBody::new(Body::from(vec![b'x'; 1000]), deadline);
        assert!(body.drain(1000).await);
        let body = TimedBody::new(Body::from(vec![b'x'; 1001]), deadline);
        assert!(!body.drain(1000).await);
        let body = TimedBody::new(trickle(3, Duration::from_millis(1)), deadline);
        assert!(body.drain(1000).await);
    }
}
