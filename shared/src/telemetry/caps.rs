//! Levels that `RUST_LOG` cannot lift, for libraries that print secrets below them.
//!
//! Found by running every binary at `RUST_LOG=trace` (the e2e test `logs_secrets` does):
//! - the AWS SDK prints the resolved credentials (access key id) and whole signed requests
//!   at debug and trace, and `aws_config` prints profile credentials at info;
//! - sea-orm's trace spans carry the connect options (`DATABASE_URL` with its password) and
//!   statements with their bound values (token codes);
//! - tungstenite prints every WebSocket frame, tokens included, at trace.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;

/// Everything else passes; `RUST_LOG` decides within these.
pub fn secret_caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("aws", LevelFilter::INFO)
        .with_target("aws_config", LevelFilter::WARN)
        .with_target("sea_orm", LevelFilter::DEBUG)
        .with_target("tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_tungstenite", LevelFilter::DEBUG)
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn the_leaky_levels_are_capped_and_the_rest_passes() {
        let caps = secret_caps();
        assert!(!caps.would_enable("aws_smithy_runtime::client::orchestrator", &Level::DEBUG));
        assert!(!caps.would_enable("aws_sigv4::http_request::sign", &Level::TRACE));
        assert!(!caps.would_enable("aws_config::profile::credentials", &Level::INFO));
        assert!(caps.would_enable("aws_config::profile::credentials", &Level::WARN));
        assert!(!caps.would_enable("sea_orm::driver::sqlx_postgres", &Level::TRACE));
        assert!(!caps.would_enable("tungstenite::protocol", &Level::TRACE));
        assert!(caps.would_enable("worker::fanout", &Level::TRACE));
        assert!(caps.would_enable("web", &Level::TRACE));
    }
}
