//! Each connection's timeouts, and JSON in place of hyper's bare error answers.
//!
//! poem serves HTTP/1 through hyper without giving it a timer, so hyper's own
//! `header_read_timeout` never runs: a client that sends a request head a byte a minute, or
//! nothing at all, keeps its connection (and a file descriptor) forever. And when hyper
//! cannot parse a head it answers by itself, 400, 414 or 431 with an empty body, before any
//! endpoint or `catch_all_error` sees the request. Both are handled here, on the bytes of
//! every accepted connection (poem's `Acceptor` is the hook it offers below the endpoints):
//!
//! - a new connection must deliver a complete request head within `header_timeout`, and so
//!   must a keep-alive connection once the first byte of its next request arrived; between
//!   requests it may stay silent for `idle_timeout`. A head that is late gets a 408 JSON
//!   answer, then the connection is closed; an idle one is just closed.
//! - hyper's answer to an unparsable head is replaced by the same status with a JSON body.
//!
//! The body is the [`BodyGuard`](super::BodyGuard)'s: once a head is complete, nothing here
//! times the connection until the answer is written. After `101 Switching Protocols`
//! (WebSocket) or an HTTP/2 preface the stream is passed through untouched.

use std::io::Result as IoResult;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use shared::i18n::{Alert, Locale};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::error::Failure;

/// What every connection is held to.
pub struct ConnectionLimits {
    header_timeout: Duration,
    idle_timeout: Duration,
    answers: Answers,
}

impl ConnectionLimits {
    pub fn new(header_timeout: Duration, idle_timeout: Duration, locale: Locale) -> Self {
        Self {
            header_timeout,
            idle_timeout,
            answers: Answers::new(locale),
        }
    }
}

/// Complete HTTP/1.1 answers, rendered once.
struct Answers {
    timeout: Bytes,
    malformed: Bytes,
    uri_too_long: Bytes,
    headers_too_large: Bytes,
}

impl Answers {
    fn new(locale: Locale) -> Self {
        // Status and body come from the one mapping every response uses.
        let answer = |alert: Alert| {
            let reply = Failure::from(alert).into_reply(locale);
            let body = reply.body.to_string();
            Bytes::from(format!(
                "HTTP/1.1 {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                reply.status,
                body.len()
            ))
        };
        Self {
            timeout: answer(Alert::RequestTimeout),
            malformed: answer(Alert::RequestMalformed),
            uri_too_long: answer(Alert::RequestUriTooLong),
            headers_too_large: answer(Alert::RequestHeadersTooLarge),
        }
    }

    /// Ours in place of the answer hyper writes itself for an unparsable head: one of these
    /// statuses, `content-length: 0` and no content type. Every answer of our endpoints has a
    /// JSON body, so nothing else looks like that.
    fn replacing(&self, written: &[u8]) -> Option<&Bytes> {
        let answer = match written.get(..13)? {
            b"HTTP/1.1 400 " => &self.malformed,
            b"HTTP/1.1 414 " => &self.uri_too_long,
            b"HTTP/1.1 431 " => &self.headers_too_large,
            _ => return None,
        };
        let head = written.strip_suffix(b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        let bare = !head.contains("\r\n\r\n")
            && head.contains("\r\ncontent-length: 0")
            && !head.contains("\r\ncontent-type:");
        bare.then_some(answer)
    }
}

/// Wraps an acceptor so that every connection it accepts is a [`GuardedIo`].
pub struct GuardedAcceptor<A> {
    inner: A,
    limits: Arc<ConnectionLimits>,
}

impl<A> GuardedAcceptor<A> {
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits: Arc::new(limits),
        }
    }
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> IoResult<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((
            GuardedIo::new(io, self.limits.clone()),
            local,
            remote,
            scheme,
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first byte of a request (a new connection: for its head).
    Waiting { fresh: bool },
    /// Inside a request head.
    Head,
    /// The head is complete: its body and handler are the endpoints' business.
    Message,
    /// Too late: reads end.
    Expired,
    /// WebSocket or HTTP/2: not ours to time.
    Passthrough,
}

/// An accepted connection's stream, timed as the module docs describe.
pub struct GuardedIo<T> {
    inner: T,
    limits: Arc<ConnectionLimits>,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    /// The last four bytes of the head so far, to find its `\r\n\r\n` across reads.
    window: u32,
    /// An answer of ours still to be written, and how much of it is.
    pending: Option<(Bytes, usize)>,
}

const HEAD_END: u32 = u32::from_be_bytes(*b"\r\n\r\n");

impl<T> GuardedIo<T> {
    fn new(inner: T, limits: Arc<ConnectionLimits>) -> Self {
        let deadline = Box::pin(sleep_until(Instant::now() + limits.header_timeout));
        Self {
            inner,
            limits,
            phase: Phase::Waiting { fresh: true },
            deadline,
            window: 0,
            pending: None,
        }
    }

    /// Restarts the deadline, and has it wake this connection's task: hyper does not poll a
    /// read again after an answer until a byte arrives, so the timer must.
    fn restart_clock(&mut self, timeout: Duration, cx: &mut Context<'_>) {
        self.deadline.as_mut().reset(Instant::now() + timeout);
        let _ = self.deadline.as_mut().poll(cx);
    }

    /// Follows the request bytes just read.
    fn observe_read(&mut self, data: &[u8], cx: &mut Context<'_>) {
        if data.is_empty() {
            return;
        }
        if let Phase::Waiting { fresh } = self.phase {
            if fresh && data.starts_with(b"PRI * HTTP/2") {
                self.phase = Phase::Passthrough;
                return;
            }
            self.phase = Phase::Head;
            self.window = 0;
            self.restart_clock(self.limits.header_timeout, cx);
        }
        if self.phase == Phase::Head {
            for &byte in data {
                self.window = (self.window << 8) | u32::from(byte);
                if self.window == HEAD_END {
                    self.phase = Phase::Message;
                    break;
                }
            }
        }
    }

    /// Follows an answer as it starts going out.
    fn observe_write(&mut self, data: &[u8], cx: &mut Context<'_>) {
        if data.starts_with(b"HTTP/1.1 101 ") {
            self.phase = Phase::Passthrough;
        } else if data.starts_with(b"HTTP/1.1 100 ") {
            // `100 Continue`: the body follows.
        } else if matches!(
            self.phase,
            Phase::Head | Phase::Message | Phase::Waiting { .. }
        ) {
            // An answer is going out: the next byte read starts a new request.
            self.phase = Phase::Waiting { fresh: false };
            self.restart_clock(self.limits.idle_timeout, cx);
        }
    }
}

impl<T: AsyncWrite + Unpin> GuardedIo<T> {
    /// Writes what is left of our own answer; ready when nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<IoResult<()>> {
        while let Some((answer, written)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]))?;
            *written += n;
            if n == 0 || *written == answer.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<IoResult<()>> {
        let this = self.get_mut();
        match this.phase {
            Phase::Passthrough => return Pin::new(&mut this.inner).poll_read(cx, buf),
            Phase::Expired => return Poll::Ready(Ok(())),
            _ => {}
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.observe_read(&buf.filled()[before..], cx);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                let timed = matches!(this.phase, Phase::Waiting { .. } | Phase::Head);
                if !timed || this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if this.phase == Phase::Head {
                    // Best effort: on a quiet socket these few bytes go out at once.
                    let answer = this.limits.answers.timeout.clone();
                    this.pending = Some((answer, 0));
                    let _ = this.poll_pending(cx);
                    this.pending = None;
                    tracing::info!("request head not received in time; connection closed");
                }
                this.phase = Phase::Expired;
                // End of stream: hyper closes the connection.
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<IoResult<usize>> {
        let this = self.get_mut();
        if this.phase == Phase::Passthrough && this.pending.is_none() {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = this.limits.answers.replacing(data) {
            // Hyper closes the connection after this answer; ours goes out instead.
            this.pending = Some((answer.clone(), 0));
            this.phase = Phase::Expired;
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(data.len()));
        }
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, data))?;
        if written > 0 {
            this.observe_write(data, cx);
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<IoResult<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<IoResult<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    /// Not vectored, so hyper hands over each answer's head in one buffer, which is what
    /// [`Answers::replacing`] looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    fn limits(header_ms: u64, idle_ms: u64) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits::new(
            Duration::from_millis(header_ms),
            Duration::from_millis(idle_ms),
            Locale::En,
        ))
    }

    #[test]
    fn only_hypers_bare_answers_are_replaced() {
        let answers = Answers::new(Locale::En);
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                     content-length: 0\r\ndate: Thu, 26 Nov 2026 18:50:08 GMT\r\n\r\n";
        assert_eq!(answers.replacing(bare), Some(&answers.headers_too_large));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                     content-length: 2\r\n\r\n{}";
        assert_eq!(answers.replacing(ours), None);
        let empty_ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(answers.replacing(empty_ok), None);
        let text = String::from_utf8_lossy(&answers.headers_too_large).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["success"], false);
    }

    #[tokio::test]
    async fn a_head_that_stalls_gets_408_then_end_of_stream() {
        let (mut client, server) = duplex(4096);
        let mut io = GuardedIo::new(server, limits(50, 1000));
        client
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut buf = vec![0; 1024];
        let n = io.read(&mut buf).await.unwrap();
        assert!(n > 0);
        assert_eq!(
            io.read(&mut buf).await.unwrap(),
            0,
            "end of stream after the deadline"
        );
        let mut answer = vec![0; 1024];
        let n = client.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 408 "));
    }

    #[tokio::test]
    async fn a_head_trickling_in_is_timed_from_its_first_byte() {
        let (mut client, server) = duplex(4096);
        let mut io = GuardedIo::new(server, limits(100, 1000));
        let started = Instant::now();
        tokio::spawn(async move {
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\n" {
                if client.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut buf = vec![0; 1024];
        while io.read(&mut buf).await.unwrap() > 0 {}
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(io.phase, Phase::Expired);
    }

    #[tokio::test]
    async fn a_complete_head_is_not_timed_and_an_answer_restarts_the_idle_clock() {
        let (mut client, server) = duplex(4096);
        let mut io = GuardedIo::new(server, limits(30, 80));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r")
            .await
            .unwrap();
        let mut buf = vec![0; 1024];
        assert_eq!(io.read(&mut buf).await.unwrap(), 24);
        client.write_all(b"\n\r\n").await.unwrap();
        assert_eq!(io.read(&mut buf).await.unwrap(), 3);
        assert_eq!(io.phase, Phase::Message);
        // A slow handler: reads stay pending past the header timeout.
        let slow = tokio::time::timeout(Duration::from_millis(60), io.read(&mut buf)).await;
        assert!(slow.is_err(), "no deadline while the request is handled");
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(io.phase, Phase::Waiting { fresh: false });
        let started = Instant::now();
        assert_eq!(
            io.read(&mut buf).await.unwrap(),
            0,
            "idle connection closed"
        );
        assert!(started.elapsed() >= Duration::from_millis(70));
    }

    #[tokio::test]
    async fn upgraded_connections_are_passed_through() {
        let (mut client, server) = duplex(4096);
        let mut io = GuardedIo::new(server, limits(30, 30));
        client
            .write_all(b"GET /cable HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0; 1024];
        assert!(io.read(&mut buf).await.unwrap() > 0);
        io.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(io.phase, Phase::Passthrough);
        let quiet = tokio::time::timeout(Duration::from_millis(100), io.read(&mut buf)).await;
        assert!(
            quiet.is_err(),
            "a quiet WebSocket is not closed by the guard"
        );
    }
}
