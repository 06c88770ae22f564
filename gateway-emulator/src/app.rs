//! State shared by every request handler and session.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::callbacks::{CallbackClient, CallbackSetupError};
use crate::config::Config;
use crate::faults::{FaultSettings, Faults};
use crate::quota::AccountQuota;
use crate::registry::Registry;
use crate::stats::Stats;

#[derive(Debug)]
pub struct App {
    pub stage: Box<str>,
    pub registry: Registry,
    pub stats: Stats,
    pub faults: Faults,
    /// `EMULATOR_ACCOUNT_RPS`, when set.
    pub quota: Option<AccountQuota>,
    pub callbacks: CallbackClient,
    pub idle_timeout: Duration,
    pub max_connection_age: Duration,
    /// Cancelled once on shutdown: the accept loop stops and every session closes with 1001.
    pub shutdown: CancellationToken,
    /// Every HTTP connection and WebSocket session, so shutdown can wait for them to finish.
    pub tasks: TaskTracker,
}

impl App {
    pub fn new(config: &Config) -> Result<Self, CallbackSetupError> {
        Ok(Self {
            stage: config.stage.as_str().into(),
            registry: Registry::default(),
            stats: Stats::default(),
            faults: Faults::new(FaultSettings {
                post_latency_ms: config.post_latency_ms,
                throttle_rate: config.throttle_rate,
                error_rate: config.error_rate,
            }),
            quota: AccountQuota::new(config.account_rps, config.account_burst),
            callbacks: CallbackClient::new(config)?,
            idle_timeout: config.idle_timeout(),
            max_connection_age: config.max_connection_age(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }
}
