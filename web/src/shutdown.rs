//! Stopping without dropping a request, in three steps after the signal:
//!
//! 1. **Drain** (`WEB_DRAIN_SECS`): `/readyz` answers 503, so a load balancer takes this
//!    replica out of rotation, and every response says `Connection: close`, so each
//!    keep-alive client closes its connection cleanly after its next answer (hyper closes
//!    the connection after writing such a response; the client does not reuse it). Web
//!    keeps accepting and serving meanwhile: whoever has not noticed yet is still answered.
//! 2. **Stop accepting**: the listening socket closes, so a new connection is refused
//!    rather than accepted and reset; connections that sent nothing for the whole drain
//!    are closed (see [`Connections::close_idle`]).
//! 3. **Grace** (`WEB_SHUTDOWN_GRACE_SECS`): every request already received is answered;
//!    web exits as soon as the last connection closes, or when the grace runs out.

use std::future::Future;
use std::time::Duration;

use poem::http::HeaderValue;
use poem::http::header::CONNECTION;
use poem::{Endpoint, Request, Response};
use tokio_util::sync::CancellationToken;

use crate::listener::Connections;
use crate::state::AppState;

/// Set once the drain has started. Cheap to clone.
#[derive(Clone, Default)]
pub struct Draining(CancellationToken);

impl Draining {
    pub fn is_draining(&self) -> bool {
        self.0.is_cancelled()
    }

    pub fn start(&self) {
        self.0.cancel();
    }

    pub fn token(&self) -> CancellationToken {
        self.0.clone()
    }
}

/// Middleware: during the drain, every response closes its connection.
pub async fn close_while_draining<E: Endpoint>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let draining = request
        .data::<AppState>()
        .map(|state| state.draining.clone());
    let mut response = next.get_response(request).await;
    if draining.is_some_and(|draining| draining.is_draining()) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// How long each step may take.
#[derive(Debug, Clone, Copy)]
pub struct Periods {
    pub drain: Duration,
    pub grace: Duration,
}

/// Waits for `signal`, then runs the steps of the module docs; returns when web may exit.
pub async fn drain_then_stop(
    signal: impl Future<Output = ()>,
    draining: Draining,
    connections: Connections,
    periods: Periods,
) {
    signal.await;
    draining.start();
    tracing::info!(
        drain = ?periods.drain,
        "draining: /readyz answers 503 and every response closes its connection"
    );
    tokio::time::sleep(periods.drain).await;
    connections.stop_accepting().await;
    connections.close_idle();
    tracing::info!(
        open = connections.open(),
        grace = ?periods.grace,
        "answering the requests already received"
    );
    match tokio::time::timeout(periods.grace, connections.all_closed()).await {
        Ok(()) => tracing::info!("every connection closed"),
        Err(_) => tracing::warn!(
            open = connections.open(),
            "the grace period is over; closing the connections still open"
        ),
    }
}
