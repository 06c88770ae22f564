//! The signal every binary stops on.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal as unix_signal};

/// Installs the SIGTERM (orchestrators) and SIGINT (Ctrl-C) handlers *now*, and returns a
/// future that resolves when either arrives. Install before announcing readiness: a signal
/// sent right after a "listening" line, before a lazily installed handler existed, would
/// kill the process with the default action instead of stopping it cleanly.
pub fn listen() -> impl Future<Output = ()> + Send + 'static {
    let terminate = unix_signal(SignalKind::terminate());
    let interrupt = unix_signal(SignalKind::interrupt());
    async move {
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {},
                    _ = interrupt.recv() => {},
                }
            }
            // Without handlers, Ctrl-C still stops the process cleanly.
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot listen for SIGTERM/SIGINT");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Resolves on SIGTERM or SIGINT, installing the handlers on first poll.
pub async fn signal() {
    listen().await
}
