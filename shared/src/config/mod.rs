//! Configuration, parsed once at start-up from the environment (and `.env`).
//!
//! Each binary reads the sections it needs; a bad value stops start-up with a
//! [`ConfigError`] that names the variable. Defaults work together with no
//! configuration: web on 127.0.0.1:3000, the emulator on 127.0.0.1:4000, a SQLite file
//! and Redis on 127.0.0.1:6379.

mod env;
mod pages;
mod redis;
mod secret;
mod web;
mod worker;

pub use env::{ConfigError, Env};
pub use pages::PagesSettings;
pub use redis::{PrivateCa, RedisSettings};
pub use secret::Secret;
pub use web::{CableSettings, WebSettings};
pub use worker::{InteropSettings, WorkerSettings};

use chrono::FixedOffset;

use crate::i18n::Locale;
use crate::telemetry::LogFormat;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://wsgw-dev.sqlite3?mode=rwc";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// What web, worker and the operator commands all need.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub database_url: String,
    /// `REDIS_URL`, `REDIS_CLUSTER`, `REDIS_CA_FILE`: the queue's Redis.
    pub redis: RedisSettings,
    /// Prefix of every Redis key this system writes (queues, delivery records).
    pub queue_prefix: String,
    pub log_format: LogFormat,
    pub locale: Locale,
    /// Offset that `created_at` and `created_at_i18n` are rendered in.
    pub time_zone: FixedOffset,
    pub base_image_url: String,
}

impl CommonSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let database_url = env.string("DATABASE_URL", DEFAULT_DATABASE_URL);
        if !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "expected a postgres:// or sqlite: URL",
            ));
        }
        let redis = RedisSettings::from_env(env, DEFAULT_REDIS_URL)?;
        let queue_prefix = env.string("QUEUE_PREFIX", "wsgw");
        if !queue_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            return Err(ConfigError::new(
                "QUEUE_PREFIX",
                "use letters, digits and - _ . : only",
            ));
        }
        let time_zone = env.string("TIME_ZONE_OFFSET", "+00:00");
        let time_zone = time_zone.parse::<FixedOffset>().map_err(|_| {
            ConfigError::new(
                "TIME_ZONE_OFFSET",
                format!("{time_zone:?} is not like +09:00"),
            )
        })?;
        let base_image_url = env.string("BASE_IMAGE_URL", "http://127.0.0.1:3000");
        url::Url::parse(&base_image_url)
            .map_err(|error| ConfigError::new("BASE_IMAGE_URL", error.to_string()))?;
        Ok(Self {
            database_url,
            redis,
            queue_prefix,
            log_format: env.parse("LOG_FORMAT", LogFormat::Text)?,
            locale: env.parse("LOCALE", Locale::Ja)?,
            time_zone,
            base_image_url: base_image_url.trim_end_matches('/').to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let settings = CommonSettings::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.queue_prefix, "wsgw");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "nonsense"),
            ("LOCALE", "fr"),
            ("LOG_FORMAT", "xml"),
            ("TIME_ZONE_OFFSET", "JST"),
            ("QUEUE_PREFIX", "a b"),
        ] {
            let error =
                CommonSettings::from_env(&Env::from_pairs(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
