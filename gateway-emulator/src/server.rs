//! Binding, accepting and serving; shutting down.
//!
//! [`Emulator::bind`] binds and reports the actual address (port 0 works), [`Emulator::run`]
//! serves until the given shutdown future resolves. Shutdown then:
//! 1. stops accepting connections;
//! 2. closes every WebSocket session with 1001 "Going away", each firing `$disconnect`;
//! 3. lets HTTP keep-alive connections finish the request in hand;
//! 4. waits for all of it, up to [`SHUTDOWN_GRACE`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use crate::app::App;
use crate::callbacks::CallbackSetupError;
use crate::config::Config;
use crate::router;

/// How long shutdown waits for sessions to close and `$disconnect` callbacks to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on EMULATOR_ADDR={addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Callbacks(#[from] CallbackSetupError),
}

/// A bound emulator, ready to [`run`](Emulator::run).
#[derive(Debug)]
pub struct Emulator {
    listener: TcpListener,
    app: Arc<App>,
}

impl Emulator {
    pub async fn bind(config: &Config) -> Result<Self, StartError> {
        let app = Arc::new(App::new(config)?);
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        Ok(Self { listener, app })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains as described in the module docs.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Self { listener, app } = self;
        tokio::select! {
            () = shutdown => {}
            () = accept_loop(&listener, &app) => {}
        }
        drop(listener);
        info!(connections = app.registry.len(), "shutting down");
        app.shutdown.cancel();
        app.tasks.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, app.tasks.wait())
            .await
            .is_err()
        {
            warn!(
                remaining = app.tasks.len(),
                "shutdown grace expired with tasks still running"
            );
        }
    }
}

/// Raises the soft open-files limit to the hard limit: every WebSocket client is a socket, and
/// the usual soft limit of 1024 would cap the emulator far below 10,000 connections.
pub fn raise_nofile_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

async fn accept_loop(listener: &TcpListener, app: &Arc<App>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                app.tasks
                    .spawn(serve_connection(Arc::clone(app), stream, peer));
            }
            Err(error) => {
                // Typically EMFILE: out of descriptors. Retrying at once would spin; a short
                // pause lets closing connections free some.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(app: Arc<App>, stream: TcpStream, peer: SocketAddr) {
    // Request/response traffic on a keep-alive connection stalls on Nagle's algorithm otherwise.
    if let Err(error) = stream.set_nodelay(true) {
        debug!(%error, "set_nodelay failed");
    }
    let shutdown = app.shutdown.clone();
    let service = service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(router::route(app, peer, request).await) }
    });
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        debug!(%error, %peer, "HTTP connection ended with an error");
    }
}
