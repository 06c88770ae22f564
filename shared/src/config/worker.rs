//! Settings of the `worker` binary: Management API, fan-out, queues and interop.

use std::net::SocketAddr;
use std::time::Duration;

use super::{ConfigError, Env, RedisSettings};

/// Half of API Gateway's default account quota (10,000 requests/s, shared by every API of
/// the account and region, clients' own messages included), so the rest stays for them.
pub const DEFAULT_APIGW_RATE_LIMIT: u32 = 5_000;
/// Far above any quota AWS grants; a larger value is a typo.
const MAX_APIGW_RATE_LIMIT: u32 = 1_000_000;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Management API endpoint including the stage, e.g. `https://id.execute-api.region.amazonaws.com/prod`.
    pub apigw_endpoint: String,
    pub apigw_region: String,
    /// `AWS_ACCESS_KEY_ID` is set: a loopback endpoint is then still called with AWS's
    /// credential chain. Only whether it is set is kept here; the SDK reads the key.
    pub aws_access_key_set: bool,
    /// Deadline of one `PostToConnection` attempt.
    pub apigw_timeout: Duration,
    /// Attempts per connection within one run of a broadcast (429, 5xx, timeouts).
    pub apigw_max_attempts: u32,
    /// `APIGW_RATE_LIMIT`: Management API calls per second for all worker processes of this
    /// deployment together (one `QUEUE_PREFIX`); 0 turns the limit off.
    pub apigw_rate_limit: u32,
    /// `PostToConnection` calls in flight at once, per broadcast job.
    pub post_concurrency: usize,
    /// Broadcast jobs run at once by this process (`default` queue).
    pub broadcast_jobs: usize,
    /// Delete-connection jobs run at once by this process (`low_priority` queue).
    pub low_priority_jobs: usize,
    /// Audiences larger than this are split into sub-jobs that any worker can take.
    pub broadcast_split_size: usize,
    pub job_max_attempts: u32,
    /// A claimed job returns to the queue when its worker stops renewing this lease.
    pub job_lease: Duration,
    /// How long an idle worker blocks before it looks at scheduled and orphaned jobs.
    pub idle_poll: Duration,
    pub done_retention: u64,
    pub dead_retention: u64,
    /// On SIGTERM, running jobs get this long to finish before they are handed back.
    pub shutdown_grace: Duration,
    /// A broadcast owed by the outbox is checked for a live job once it is this old.
    pub outbox_grace: Duration,
    /// How often the outbox is swept for broadcasts without a live job.
    pub outbox_sweep_interval: Duration,
    pub interop: InteropSettings,
    /// `WORKER_METRICS_ADDR`: where `/metrics` is served; `None` when blank or `off`.
    /// Loopback by default: the figures are for the operator, not the internet.
    pub metrics_addr: Option<SocketAddr>,
    /// `HOSTNAME`: the first part of this process's worker id, which claims carry.
    pub host_name: String,
}

/// Mirroring broadcasts to an existing Rails deployment through Redis pub/sub.
#[derive(Debug, Clone)]
pub struct InteropSettings {
    /// `Some(prefix)` publishes `PUBLISH <prefix>:<stream>` (or `<stream>` for an empty prefix).
    /// On by default (`ACTION_CABLE_ENABLED`): web's `/cable` sockets receive broadcasts
    /// this way.
    pub action_cable_prefix: Option<String>,
    /// `Some(channel)` publishes AnyCable's `{"stream":..,"data":..}` on that channel.
    pub anycable_channel: Option<String>,
    /// `INTEROP_REDIS_URL`: the Redis that the Rails deployment listens on; the queue's
    /// Redis by default.
    pub redis: Option<RedisSettings>,
    /// `ACTION_CABLE_RELAY=true`: `Some(prefix)` relays what Rails publishes on
    /// `<prefix>:all_channel` and `<prefix>:user_channel_*` to API Gateway connections.
    pub relay_prefix: Option<String>,
}

impl WorkerSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let apigw_endpoint = env.string("APIGW_ENDPOINT", "http://127.0.0.1:4000/local");
        let parsed = url::Url::parse(&apigw_endpoint)
            .map_err(|error| ConfigError::new("APIGW_ENDPOINT", error.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                "APIGW_ENDPOINT",
                "expected an http(s) URL",
            ));
        }
        Ok(Self {
            apigw_endpoint: apigw_endpoint.trim_end_matches('/').to_owned(),
            apigw_region: env.string("APIGW_REGION", "us-east-1"),
            aws_access_key_set: env.optional("AWS_ACCESS_KEY_ID").is_some(),
            apigw_timeout: Duration::from_millis(env.ranged(
                "APIGW_TIMEOUT_MS",
                5_000,
                50,
                120_000,
            )?),
            apigw_max_attempts: env.ranged("APIGW_MAX_ATTEMPTS", 6, 1, 100)?,
            apigw_rate_limit: env.ranged(
                "APIGW_RATE_LIMIT",
                DEFAULT_APIGW_RATE_LIMIT,
                0,
                MAX_APIGW_RATE_LIMIT,
            )?,
            post_concurrency: env.ranged("WORKER_POST_CONCURRENCY", 256, 1, 10_000)?,
            broadcast_jobs: env.ranged("WORKER_BROADCAST_JOBS", 4, 1, 1_000)?,
            low_priority_jobs: env.ranged("WORKER_LOW_PRIORITY_JOBS", 4, 1, 1_000)?,
            broadcast_split_size: env.ranged("BROADCAST_SPLIT_SIZE", 5_000, 1, 1_000_000)?,
            job_max_attempts: env.ranged("JOB_MAX_ATTEMPTS", 10, 1, 1_000)?,
            job_lease: Duration::from_secs(env.ranged("JOB_LEASE_SECS", 5, 1, 3_600)?),
            idle_poll: Duration::from_millis(env.ranged("WORKER_IDLE_POLL_MS", 200, 10, 60_000)?),
            done_retention: env.ranged("QUEUE_DONE_RETENTION", 1_000, 0, 10_000_000)?,
            dead_retention: env.ranged("QUEUE_DEAD_RETENTION", 10_000, 1, 10_000_000)?,
            shutdown_grace: Duration::from_secs(env.ranged(
                "WORKER_SHUTDOWN_GRACE_SECS",
                20,
                0,
                3_600,
            )?),
            outbox_grace: Duration::from_secs(env.ranged("OUTBOX_GRACE_SECS", 5, 1, 3_600)?),
            outbox_sweep_interval: Duration::from_millis(env.ranged(
                "OUTBOX_SWEEP_MS",
                2_000,
                50,
                600_000,
            )?),
            interop: InteropSettings::from_env(env)?,
            metrics_addr: metrics_addr(env)?,
            host_name: env.string("HOSTNAME", "worker"),
        })
    }
}

fn metrics_addr(env: &Env) -> Result<Option<SocketAddr>, ConfigError> {
    const VARIABLE: &str = "WORKER_METRICS_ADDR";
    let off = env.is_present(VARIABLE)
        && env
            .optional(VARIABLE)
            .is_none_or(|value| value.eq_ignore_ascii_case("off"));
    if off {
        return Ok(None);
    }
    env.parse(VARIABLE, SocketAddr::from(([127, 0, 0, 1], 9091)))
        .map(Some)
}

impl InteropSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let action_cable_prefix = env
            .flag("ACTION_CABLE_ENABLED", true)?
            .then(|| env.string("ACTION_CABLE_CHANNEL_PREFIX", ""));
        let relay_prefix = env
            .flag("ACTION_CABLE_RELAY", false)?
            .then(|| env.string("ACTION_CABLE_CHANNEL_PREFIX", ""));
        let anycable_channel = env
            .flag("ANYCABLE_ENABLED", false)?
            .then(|| env.string("ANYCABLE_REDIS_CHANNEL", "__anycable__"));
        Ok(Self {
            action_cable_prefix,
            anycable_channel,
            redis: RedisSettings::interop_from_env(env)?,
            relay_prefix,
        })
    }

    pub fn enabled(&self) -> bool {
        self.action_cable_prefix.is_some() || self.anycable_channel.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_the_emulator() {
        let settings = WorkerSettings::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(settings.apigw_endpoint, "http://127.0.0.1:4000/local");
        // On by default: web's own Action Cable clients receive broadcasts through it.
        assert_eq!(settings.interop.action_cable_prefix.as_deref(), Some(""));
        assert!(settings.interop.anycable_channel.is_none());
        assert_eq!(settings.interop.relay_prefix, None);
        assert!(!settings.aws_access_key_set);
        assert_eq!(settings.host_name, "worker");
        assert_eq!(
            settings.metrics_addr,
            Some(SocketAddr::from(([127, 0, 0, 1], 9091)))
        );
        assert_eq!(settings.apigw_rate_limit, DEFAULT_APIGW_RATE_LIMIT);
    }

    #[test]
    fn metrics_are_off_when_blank_or_off() {
        for value in ["", " ", "off", "OFF"] {
            let env = Env::from_pairs(&[("WORKER_METRICS_ADDR", value)]);
            let settings = WorkerSettings::from_env(&env).unwrap();
            assert_eq!(settings.metrics_addr, None, "{value:?}");
        }
        let env = Env::from_pairs(&[("WORKER_METRICS_ADDR", "0.0.0.0:9100")]);
        let settings = WorkerSettings::from_env(&env).unwrap();
        assert_eq!(settings.metrics_addr, Some("0.0.0.0:9100".parse().unwrap()));
    }

    #[test]
    fn the_rate_limit_can_be_turned_off() {
        let off = WorkerSettings::from_env(&Env::from_pairs(&[("APIGW_RATE_LIMIT", "0")]));
        assert_eq!(off.unwrap().apigw_rate_limit, 0);
    }

    #[test]
    fn the_access_key_is_only_noted_as_set() {
        let settings = WorkerSettings::from_env(&Env::from_pairs(&[
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("HOSTNAME", "box-1"),
        ]))
        .unwrap();
        assert!(settings.aws_access_key_set);
        assert_eq!(settings.host_name, "box-1");
        assert!(!format!("{settings:?}").contains("AKIAEXAMPLE"));
    }

    #[test]
    fn the_relay_listens_under_the_action_cable_prefix() {
        let settings = WorkerSettings::from_env(&Env::from_pairs(&[
            ("ACTION_CABLE_RELAY", "true"),
            ("ACTION_CABLE_ENABLED", "false"),
            ("ACTION_CABLE_CHANNEL_PREFIX", "rails_app_production"),
        ]))
        .unwrap();
        assert_eq!(
            settings.interop.relay_prefix.as_deref(),
            Some("rails_app_production")
        );
        // Relaying neither needs nor turns on publishing.
        assert!(!settings.interop.enabled());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("APIGW_ENDPOINT", "ftp://x"),
            ("WORKER_POST_CONCURRENCY", "0"),
            ("APIGW_RATE_LIMIT", "-1"),
            ("APIGW_RATE_LIMIT", "fast"),
            ("APIGW_RATE_LIMIT", "2000000"),
            ("APIGW_RATE_LIMIT", "1.5"),
            ("JOB_LEASE_SECS", "soon"),
            ("OUTBOX_GRACE_SECS", "0"),
            ("OUTBOX_SWEEP_MS", "fast"),
            ("ACTION_CABLE_ENABLED", "maybe"),
            ("ACTION_CABLE_RELAY", "maybe"),
            ("INTEROP_REDIS_URL", "nope"),
            ("WORKER_METRICS_ADDR", "localhost"),
        ] {
            let error =
                WorkerSettings::from_env(&Env::from_pairs(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
