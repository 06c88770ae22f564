//! `gateway-emulator`: a local AWS API Gateway WebSocket API. See the library docs.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use gateway_emulator::{Config, Emulator, server, telemetry};
use tracing::{info, warn};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, as web prints it: a bind error is the operator's to fix, not a bug.
            eprintln!("gateway-emulator: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format)?;
    match server::raise_nofile_limit() {
        Ok(limit) => info!(limit, "open files limit"),
        Err(error) => warn!(%error, "could not raise the open files limit"),
    }

    let shutdown = shutdown_signal();
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

    emulator.run(shutdown).await;
    info!("stopped");
    Ok(())
}

/// Installs the SIGINT and SIGTERM (`docker stop`) handlers *now* and returns a future that
/// resolves when either arrives. Called before the "listening" line: a signal sent right after
/// it must stop the emulator cleanly, not kill it with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => tokio::select! {
                _ = terminate.recv() => info!("SIGTERM received"),
                _ = interrupt.recv() => info!("SIGINT received"),
            },
            (Err(error), _) | (_, Err(error)) => {
                warn!(%error, "cannot listen for SIGTERM/SIGINT");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
