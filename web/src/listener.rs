//! The socket web accepts on, and the connections it accepted: built so that stopping
//! never resets a request a client already sent.
//!
//! poem's own graceful shutdown closes every idle keep-alive connection at once, and every
//! connection whose first request has not been read yet. A client that wrote a request on
//! one of those a moment earlier gets a reset instead of an answer. Here instead:
//! - [`DrainingAcceptor`] accepts until [`Connections::stop_accepting`], then takes what the
//!   kernel already accepted for it and closes the socket: from then on a new connection is
//!   refused (which a client can retry elsewhere), never accepted and then reset.
//! - every accepted socket is a [`TrackedStream`]; [`Connections`] counts the open ones and
//!   can close the idle ones (see [`Connections::close_idle`]).

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// How long accepting pauses after an error (say, out of file descriptors), so a lasting
/// error does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The open connections, and the controls of a shutdown. Cheap to clone.
#[derive(Clone, Default)]
pub struct Connections(Arc<Shared>);

#[derive(Default)]
struct Shared {
    open: AtomicUsize,
    /// Notified whenever a connection closes.
    closed: Notify,
    stop_accepting: CancellationToken,
    listener_closed: CancellationToken,
    close_idle: CancellationToken,
}

impl Connections {
    pub fn open(&self) -> usize {
        self.0.open.load(Ordering::Acquire)
    }

    /// Stops accepting; returns once the listening socket is closed and every connection
    /// the kernel had already accepted for it is counted (they are served).
    pub async fn stop_accepting(&self) {
        self.0.stop_accepting.cancel();
        self.0.listener_closed.cancelled().await;
    }

    /// Closes the connections that wait for a request and were opened before the drain
    /// started: their clients sent nothing for the whole drain period. A connection that
    /// did send something got `Connection: close` on its answer and closes by itself; one
    /// opened during the drain may still be sending its first request, and is left alone.
    pub fn close_idle(&self) {
        self.0.close_idle.cancel();
    }

    /// Resolves when no connection is open.
    pub async fn all_closed(&self) {
        loop {
            let closed = self.0.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            closed.await;
        }
    }

    fn track(&self, stream: TcpStream, opened_while_draining: bool) -> TrackedStream {
        self.0.open.fetch_add(1, Ordering::AcqRel);
        let close_idle =
            (!opened_while_draining).then(|| Box::pin(self.0.close_idle.clone().cancelled_owned()));
        TrackedStream {
            inner: stream,
            connections: self.clone(),
            idle: true,
            close_idle,
            closed_as_idle: false,
        }
    }
}

/// An accepted socket that knows whether it is between requests.
pub struct TrackedStream {
    inner: TcpStream,
    connections: Connections,
    /// Nothing was read since the last write (or since accept): no request is under way.
    idle: bool,
    /// Pending until [`Connections::close_idle`]; `None` once looked at, or for a
    /// connection opened during the drain.
    close_idle: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    closed_as_idle: bool,
}

impl TrackedStream {
    /// Whether reading should end here: the connection was idle when idle connections
    /// were closed. The end of stream makes hyper close the connection.
    fn ends_as_idle(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(signal) = &mut self.close_idle
            && signal.as_mut().poll(cx).is_ready()
        {
            self.close_idle = None;
            self.closed_as_idle = self.idle;
        }
        self.closed_as_idle
    }

    fn wrote(&mut self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(written)) if *written > 0) {
            self.idle = true;
        }
    }
}

impl Drop for TrackedStream {
    fn drop(&mut self) {
        self.connections.0.open.fetch_sub(1, Ordering::AcqRel);
        self.connections.0.closed.notify_waiters();
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ends_as_idle(cx) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.idle = false;
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        this.wrote(&polled);
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, data);
        this.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// poem's acceptor over a listener the caller bound, with a stop that refuses instead of
/// resetting (see the module docs).
pub struct DrainingAcceptor {
    /// `None` once closed.
    listener: Option<TcpListener>,
    local_addr: LocalAddr,
    /// Connections taken from the kernel while closing, not handed to poem yet.
    backlog: VecDeque<(TrackedStream, SocketAddr)>,
    connections: Connections,
    /// Set when the drain starts: connections opened after it are never closed as idle.
    draining: CancellationToken,
}

impl DrainingAcceptor {
    pub fn new(
        listener: TcpListener,
        connections: Connections,
        draining: CancellationToken,
    ) -> io::Result<Self> {
        Ok(Self {
            local_addr: LocalAddr(listener.local_addr()?.into()),
            listener: Some(listener),
            backlog: VecDeque::new(),
            connections,
            draining,
        })
    }

    async fn next(&mut self) -> (TrackedStream, SocketAddr) {
        loop {
            if let Some(waiting) = self.backlog.pop_front() {
                return waiting;
            }
            let Some(listener) = &self.listener else {
                return std::future::pending().await;
            };
            let stop = &self.connections.0.stop_accepting;
            let accepted = tokio::select! {
                biased;
                () = stop.cancelled() => None,
                accepted = listener.accept() => Some(accepted),
            };
            match accepted {
                None => self.close(),
                Some(Ok((stream, remote))) => {
                    let draining = self.draining.is_cancelled();
                    return (self.connections.track(stream, draining), remote);
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            }
        }
    }

    /// Takes every connection the kernel completed, then closes the socket. The kernel
    /// resets connections still queued on a socket that closes; taking them first leaves
    /// only the few microseconds between the last take and the close.
    fn close(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        match listener.into_std() {
            Ok(listener) => loop {
                let (stream, remote) = match listener.accept() {
                    Ok(accepted) => accepted,
                    // The client gave up while queued.
                    Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => continue,
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    Err(error) => {
                        tracing::warn!(%error, "taking a queued connection failed");
                        break;
                    }
                };
                let stream = stream
                    .set_nonblocking(true)
                    .and_then(|()| TcpStream::from_std(stream));
                match stream {
                    Ok(stream) => {
                        let tracked = self.connections.track(stream, true);
                        self.backlog.push_back((tracked, remote));
                    }
                    Err(error) => tracing::warn!(%error, "cannot serve a queued connection"),
                }
            },
            Err(error) => tracing::warn!(%error, "cannot take queued connections"),
        }
        tracing::info!(
            queued = self.backlog.len(),
            open = self.connections.open(),
            "stopped accepting"
        );
        self.connections.0.listener_closed.cancel();
    }
}

impl Acceptor for DrainingAcceptor {
    type Io = TrackedStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![self.local_addr.clone()]
    }

    async fn accept(&mut self) -> io::Result<(TrackedStream, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, remote) = self.next().await;
        Ok((
            stream,
            self.local_addr.clone(),
            RemoteAddr(remote.into()),
            Scheme::HTTP,
        ))
    }
}
