//! The signal every binary stops on.

/// Resolves on SIGTERM (orchestrators) or SIGINT (Ctrl-C).
pub async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = ctrl_c => {},
                _ = terminate.recv() => {},
            }
        }
        // Without a SIGTERM handler, Ctrl-C still stops the process cleanly.
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM");
            let _ = ctrl_c.await;
        }
    }
}
