//! Tracing set-up, called once from `main`.
//!
//! Logs go to stderr: stdout carries only the "listening on" line, which tests and scripts read.
//!
//! tungstenite prints every WebSocket frame at trace, and clients send their token in every
//! frame: its levels are capped below trace, and `RUST_LOG` cannot lift the cap.

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::LogFormat;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("RUST_LOG is not a valid filter")]
    Filter(#[source] tracing_subscriber::filter::ParseError),
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled,
}

pub fn init(format: LogFormat) -> Result<(), TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(directives).map_err(TelemetryError::Filter)?
        }
        _ => EnvFilter::new("info"),
    };
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_tungstenite", LevelFilter::DEBUG);
    let layer = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let layer = match format {
        LogFormat::Text => layer.boxed(),
        LogFormat::Json => layer.json().boxed(),
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter.and(caps)))
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)
}
