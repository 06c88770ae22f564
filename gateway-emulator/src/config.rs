//! Configuration, parsed once at start-up from flags or `EMULATOR_*` environment variables.
//!
//! Each value's `value_name` is its environment variable, so clap's error for a bad value
//! ("invalid value 'x' for '--idle-timeout-secs <EMULATOR_IDLE_TIMEOUT_SECS>'") names the
//! variable the operator has to fix.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use reqwest::Url;

use crate::faults::Rate;

/// Everything the emulator needs to run; built by [`Config::parse`] in `main`, or by hand in
/// tests and benchmarks.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "gateway-emulator",
    version,
    about = "Local AWS API Gateway WebSocket API emulator"
)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the actual address is printed).
    #[arg(
        long,
        env = "EMULATOR_ADDR",
        value_name = "EMULATOR_ADDR",
        default_value = "127.0.0.1:4000"
    )]
    pub addr: SocketAddr,

    /// Stage name: clients connect to `/{stage}`, the Management API lives at
    /// `/{stage}/@connections`.
    #[arg(long, env = "EMULATOR_STAGE", value_name = "EMULATOR_STAGE", default_value = "local", value_parser = parse_stage)]
    pub stage: String,

    /// Base URL of the backend's callbacks; `/connect`, `/disconnect` and `/default` are appended.
    #[arg(
        long,
        env = "EMULATOR_CALLBACK_URL",
        value_name = "EMULATOR_CALLBACK_URL",
        default_value = "http://127.0.0.1:3000/ws_apigateway",
        value_parser = parse_callback_url
    )]
    pub callback_url: Url,

    /// Sent as `x-gateway-secret` on every callback, like a static integration request parameter.
    #[arg(
        long,
        env = "EMULATOR_GATEWAY_SECRET",
        value_name = "EMULATOR_GATEWAY_SECRET",
        hide_env_values = true
    )]
    pub gateway_secret: Option<Secret>,

    /// Seconds without traffic before a connection is closed with 1001 (API Gateway: 600).
    #[arg(long, env = "EMULATOR_IDLE_TIMEOUT_SECS", value_name = "EMULATOR_IDLE_TIMEOUT_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,

    /// Maximum connection age in seconds before it is closed with 1001 (API Gateway: 7200).
    #[arg(long, env = "EMULATOR_MAX_CONNECTION_SECS", value_name = "EMULATOR_MAX_CONNECTION_SECS", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connection_secs: u64,

    /// Integration timeout in milliseconds; API Gateway allows 50 to 29000.
    #[arg(long, env = "EMULATOR_CALLBACK_TIMEOUT_MS", value_name = "EMULATOR_CALLBACK_TIMEOUT_MS", default_value_t = 29_000, value_parser = clap::value_parser!(u64).range(50..=29_000))]
    pub callback_timeout_ms: u64,

    /// Initial delay before each Management API POST is delivered.
    #[arg(
        long,
        env = "EMULATOR_POST_LATENCY_MS",
        value_name = "EMULATOR_POST_LATENCY_MS",
        default_value_t = 0
    )]
    pub post_latency_ms: u64,

    /// Initial fraction (0.0 to 1.0) of Management API POSTs answered 429.
    #[arg(
        long,
        env = "EMULATOR_THROTTLE_RATE",
        value_name = "EMULATOR_THROTTLE_RATE",
        default_value = "0"
    )]
    pub throttle_rate: Rate,

    /// Initial fraction (0.0 to 1.0) of Management API POSTs answered 500.
    #[arg(
        long,
        env = "EMULATOR_ERROR_RATE",
        value_name = "EMULATOR_ERROR_RATE",
        default_value = "0"
    )]
    pub error_rate: Rate,

    /// Requests per second the account may make to the Management API (API Gateway's
    /// default quota: 10000); beyond it, once the burst is spent, 429
    /// `LimitExceededException`. 0: no quota.
    #[arg(
        long,
        env = "EMULATOR_ACCOUNT_RPS",
        value_name = "EMULATOR_ACCOUNT_RPS",
        default_value_t = 0
    )]
    pub account_rps: u32,

    /// Requests the account may make at once above its rate (AWS: 5000 for 10000/s);
    /// 0: half of `EMULATOR_ACCOUNT_RPS`.
    #[arg(
        long,
        env = "EMULATOR_ACCOUNT_BURST",
        value_name = "EMULATOR_ACCOUNT_BURST",
        default_value_t = 0
    )]
    pub account_burst: u32,

    /// Log format on stderr.
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn max_connection_age(&self) -> Duration {
        Duration::from_secs(self.max_connection_secs)
    }

    pub fn callback_timeout(&self) -> Duration {
        Duration::from_millis(self.callback_timeout_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // A header value must be visible ASCII; catching it here beats failing every callback.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err("must be non-empty printable ASCII".into());
        }
        Ok(Self(s.to_owned()))
    }
}

fn parse_stage(s: &str) -> Result<String, String> {
    // `_emulator` is the control API's prefix, so a stage may not start with `_`.
    let valid = !s.is_empty()
        && !s.starts_with('_')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(s.to_owned())
    } else {
        Err("must be letters, digits, '-' or '_', not starting with '_'".into())
    }
}

fn parse_callback_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| e.to_string())?;
    // The emulator speaks plain HTTP to the backend (no TLS stack linked in), like a local
    // HTTP_PROXY integration would.
    if url.scheme() != "http" || url.cannot_be_a_base() {
        return Err("must be an http:// URL".into());
    }
    Ok(url)
}
