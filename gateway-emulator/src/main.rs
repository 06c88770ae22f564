//! `gateway-emulator`: a local AWS API Gateway WebSocket API. See the library docs.

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use gateway_emulator::{Config, Emulator, server, telemetry};
use tracing::{info, warn};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format)?;
    match server::raise_nofile_limit() {
        Ok(limit) => info!(limit, "open files limit"),
        Err(error) => warn!(%error, "could not raise the open files limit"),
    }

    let emulator = Emulator::bind(&config).await?;
    let addr = emulator.local_addr().context("reading the bound address")?;
    // Exactly one line on stdout, flushed at once: tests and scripts read the port from it.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "gateway-emulator listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    info!(
        %addr,
        stage = %config.stage,
        callback_url = %config.callback_url,
        gateway_secret = config.gateway_secret.is_some(),
        "gateway emulator ready"
    );

    emulator.run(shutdown_signal()).await;
    info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (`docker stop`).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            warn!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => info!("SIGINT received"),
        () = terminate => info!("SIGTERM received"),
    }
}
