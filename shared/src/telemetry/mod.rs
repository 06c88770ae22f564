//! Logging through `tracing`: human-readable by default, JSON on request (`LOG_FORMAT=json`).
//!
//! Secrets never reach a log line, whatever `RUST_LOG` says:
//! - [`caps`]: the levels below which libraries print credentials, statements with their
//!   values or client frames; `RUST_LOG` filters within them and cannot lift them.
//! - [`redact`]: every configured secret (keys, the AWS credentials, passwords in database
//!   and Redis URLs) is replaced in each line before it is written, for whatever a library
//!   prints at the levels that remain.
//!
//! [`prometheus`] installs the metrics recorder that `/metrics` renders.
//!
//! Our own code logs ids (token id, connection id, message id), never a token or a key.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

pub mod caps;
pub mod prometheus;
pub mod redact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Prints the one readiness line on stdout (tests and scripts read their port from it) and,
/// for log collectors, the same event in JSON logs. Human-readable logs share the terminal
/// with stdout, where the event would only say it a second time.
pub fn announce_ready(format: LogFormat, line: &str) {
    println!("{line}");
    if format == LogFormat::Json {
        tracing::info!("{line}");
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is neither text nor json")),
        }
    }
}

/// Installs the global subscriber once per process; `RUST_LOG` filters (default `info`)
/// within [`caps::secret_caps`], and configured secrets are redacted from every line.
/// Call it after the configuration was read (a `.env` file is in the environment by then).
pub fn init(format: LogFormat) {
    // poem::server announces at info what our own ready lines already say.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,aws=warn,hyper=warn,poem::server=warn")
    });
    let writer = redact::RedactingStderr::new(redact::configured_secrets());
    // Colours only for a person at a terminal; log files and collectors get plain text.
    let layer = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let layer = match format {
        LogFormat::Text => layer.boxed(),
        LogFormat::Json => layer.json().flatten_event(true).boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter.and(caps::secret_caps())))
        .try_init();
}
