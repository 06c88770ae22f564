//! Settings of the `web` binary: the gateway callbacks and the admin API.

use std::net::SocketAddr;
use std::time::Duration;

use super::{ConfigError, Env, PagesSettings, RedisSettings, Secret};
use crate::domain::AllowedOrigins;

#[derive(Debug, Clone)]
pub struct WebSettings {
    pub addr: SocketAddr,
    /// `ADMIN_ADDR`: when set, `/metrics`, `/api/*`, `/admin` and `/demo` are served on this
    /// second listener only, and `addr` answers just the callbacks, `/cable` and the probes.
    pub admin_addr: Option<SocketAddr>,
    pub allowed_origins: AllowedOrigins,
    pub gateway_secret: Option<Secret>,
    pub admin_api_key: Option<Secret>,
    pub token_expired_start_minutes: i64,
    pub token_expired_hours: i64,
    pub default_messages_limit: u64,
    pub max_messages_limit: u64,
    pub disconnect_delay_secs: u64,
    /// Longest `send_message` body, in characters.
    pub max_message_body_chars: usize,
    /// Largest callback body read; larger ones get 413 without being parsed.
    pub max_request_bytes: usize,
    /// After SIGTERM: how long web keeps serving with `/readyz` at 503 and `Connection: close`
    /// on every response, so load balancers and keep-alive clients move away.
    pub drain: Duration,
    /// After the drain: how long requests already received get to be answered before exit.
    pub shutdown_grace: Duration,
    /// How long a frame's `last_auth_successed_at` may wait to be written (with others').
    pub auth_time_flush: Duration,
    /// How long a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout: Duration,
    /// A request head must be complete this long after its first byte (or after accept).
    pub header_timeout: Duration,
    /// A request body must be complete this long after its head.
    pub body_timeout: Duration,
    /// A keep-alive connection is closed after this long without a request.
    pub idle_timeout: Duration,
    pub cable: CableSettings,
    /// `/admin` and `/demo`.
    pub pages: PagesSettings,
}

/// The Action Cable server (SPEC section 6).
#[derive(Debug, Clone)]
pub struct CableSettings {
    /// `ACTION_CABLE_PATH`, where clients upgrade; starts with `/`.
    pub path: String,
    /// More sockets than this are refused (503) before the upgrade.
    pub max_connections: usize,
    /// `ACTION_CABLE_CHANNEL_PREFIX`, shared with the worker and Rails: streams travel on
    /// `<prefix>:<stream>` (just `<stream>` when empty).
    pub channel_prefix: String,
    /// The Redis whose pub/sub carries the streams: `INTEROP_REDIS_URL`, else `REDIS_URL`.
    pub pubsub: Option<RedisSettings>,
    /// Frames a socket may have waiting to be written; a client that lets more pile up reads
    /// too slowly and is disconnected.
    pub send_queue: usize,
}

/// A stored body is broadcast inside a JSON envelope; escaping can grow a character to six
/// bytes, and the whole frame must stay under API Gateway's 128 KB message limit.
const BODY_CHARS_CEILING: usize = 20_000;

impl WebSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let allowed = env.string(
            "ALLOWED_ORIGINS",
            "http://localhost:3000,http://127.0.0.1:3000",
        );
        let allowed_origins = AllowedOrigins::parse(&allowed)
            .map_err(|error| ConfigError::new("ALLOWED_ORIGINS", error.to_string()))?;
        let default_messages_limit = env.ranged("DEFAULT_MESSAGES_LIMIT", 20, 1, 10_000)?;
        let max_messages_limit = env.ranged("MAX_MESSAGES_LIMIT", 100, 1, 10_000)?;
        if default_messages_limit > max_messages_limit {
            return Err(ConfigError::new(
                "DEFAULT_MESSAGES_LIMIT",
                format!("{default_messages_limit} exceeds MAX_MESSAGES_LIMIT {max_messages_limit}"),
            ));
        }
        Ok(Self {
            addr: env.parse("WEB_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?,
            admin_addr: env
                .optional("ADMIN_ADDR")
                .map(|raw| {
                    raw.parse().map_err(|error: std::net::AddrParseError| {
                        ConfigError::new("ADMIN_ADDR", format!("{raw:?}: {error}"))
                    })
                })
                .transpose()?,
            allowed_origins,
            gateway_secret: env.optional("GATEWAY_SECRET").map(Secret::new),
            admin_api_key: env.optional("ADMIN_API_KEY").map(Secret::new),
            token_expired_start_minutes: env.ranged(
                "TOKEN_EXPIRED_START_MINUTES",
                5,
                1,
                525_600,
            )?,
            token_expired_hours: env.ranged("TOKEN_EXPIRED_HOURS", 24, 1, 87_600)?,
            default_messages_limit,
            max_messages_limit,
            disconnect_delay_secs: env.ranged("DISCONNECT_DELAY_SECS", 5, 0, 3_600)?,
            max_message_body_chars: env.ranged(
                "MAX_MESSAGE_BODY_CHARS",
                4_000,
                1,
                BODY_CHARS_CEILING,
            )?,
            max_request_bytes: env.ranged("MAX_REQUEST_BYTES", 131_072, 1_024, 1_048_576)?,
            drain: Duration::from_secs(env.ranged("WEB_DRAIN_SECS", 5, 0, 300)?),
            shutdown_grace: Duration::from_secs(env.ranged(
                "WEB_SHUTDOWN_GRACE_SECS",
                20,
                0,
                3_600,
            )?),
            auth_time_flush: Duration::from_millis(env.ranged(
                "AUTH_TIME_FLUSH_MS",
                100,
                1,
                60_000,
            )?),
            db_acquire_timeout: Duration::from_millis(env.ranged(
                "WEB_DB_ACQUIRE_TIMEOUT_MS",
                1_000,
                50,
                60_000,
            )?),
            header_timeout: secs(env.ranged("HTTP_HEADER_TIMEOUT_SECS", 10, 1, 300)?),
            body_timeout: secs(env.ranged("HTTP_BODY_TIMEOUT_SECS", 10, 1, 300)?),
            idle_timeout: secs(env.ranged("HTTP_IDLE_TIMEOUT_SECS", 75, 1, 3_600)?),
            cable: CableSettings::from_env(env)?,
            pages: PagesSettings::from_env(env)?,
        })
    }
}

impl CableSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let path = env.string("ACTION_CABLE_PATH", "/cable");
        if !path.starts_with('/') || path.len() < 2 || path.contains(['?', '#', '*', '{', ':']) {
            return Err(ConfigError::new(
                "ACTION_CABLE_PATH",
                format!("{path:?} is not a path like /cable"),
            ));
        }
        Ok(Self {
            path,
            max_connections: env.ranged("ACTION_CABLE_MAX_CONNECTIONS", 10_000, 0, 1_000_000)?,
            channel_prefix: env.string("ACTION_CABLE_CHANNEL_PREFIX", ""),
            pubsub: RedisSettings::interop_from_env(env)?,
            send_queue: env.ranged("ACTION_CABLE_SEND_QUEUE", 256, 1, 1_000_000)?,
        })
    }
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let settings = WebSettings::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(settings.addr.port(), 3000);
        assert!(settings.admin_api_key.is_none());
        assert_eq!(
            settings.admin_addr, None,
            "one listener unless ADMIN_ADDR is set"
        );
        assert_eq!(settings.cable.path, "/cable");
        assert_eq!(settings.cable.channel_prefix, "");
    }

    #[test]
    fn admin_addr_is_a_second_listener() {
        let env = Env::from_pairs(&[("ADMIN_ADDR", "127.0.0.1:3001")]);
        let settings = WebSettings::from_env(&env).unwrap();
        assert_eq!(
            settings.admin_addr,
            Some(SocketAddr::from(([127, 0, 0, 1], 3001)))
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("WEB_ADDR", "localhost"),
            ("ADMIN_ADDR", "127.0.0.1"),
            ("ALLOWED_ORIGINS", "not an origin"),
            ("TOKEN_EXPIRED_HOURS", "-1"),
            ("TOKEN_EXPIRED_START_MINUTES", "five"),
            ("MAX_MESSAGES_LIMIT", "0"),
            ("DEFAULT_MESSAGES_LIMIT", "500"),
            ("DISCONNECT_DELAY_SECS", "1e3"),
            ("MAX_MESSAGE_BODY_CHARS", "100000"),
            ("WEB_DRAIN_SECS", "5s"),
            ("WEB_SHUTDOWN_GRACE_SECS", "-1"),
            ("WEB_DB_ACQUIRE_TIMEOUT_MS", "0"),
            ("HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("HTTP_BODY_TIMEOUT_SECS", "1.5"),
            ("HTTP_IDLE_TIMEOUT_SECS", "-1"),
            ("ACTION_CABLE_PATH", "cable"),
            ("ACTION_CABLE_MAX_CONNECTIONS", "many"),
            ("ACTION_CABLE_SEND_QUEUE", "0"),
            ("INTEROP_REDIS_URL", "nope"),
        ] {
            let error = WebSettings::from_env(&Env::from_pairs(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
