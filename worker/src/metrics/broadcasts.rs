//! `worker_broadcast_seconds`, `worker_broadcast_audience_connections` and
//! `worker_interop_publishes_total{target}`.

use std::time::Duration;

use metrics::{Counter, Histogram};

/// One run of a BroadcastJob (a sub-job of a split broadcast is a run of its own).
#[derive(Clone)]
pub struct BroadcastMetrics {
    duration: Histogram,
    audience: Histogram,
}

impl BroadcastMetrics {
    pub fn register() -> Self {
        Self {
            duration: metrics::histogram!("worker_broadcast_seconds"),
            audience: metrics::histogram!("worker_broadcast_audience_connections"),
        }
    }

    /// From the job's start to its last POST, for the connections this run targeted
    /// (those a previous run reached included: they are skipped, not posted to).
    pub fn record(&self, elapsed: Duration, audience: usize) {
        self.duration.record(elapsed.as_secs_f64());
        self.audience.record(audience as f64);
    }
}

/// Broadcasts mirrored to Rails through Redis pub/sub, by where they went.
#[derive(Clone)]
pub struct PublishMetrics {
    pub action_cable: Counter,
    pub anycable: Counter,
}

impl PublishMetrics {
    pub fn register() -> Self {
        let counter = |target: &'static str| metrics::counter!("worker_interop_publishes_total", "target" => target);
        Self {
            action_cable: counter("action_cable"),
            anycable: counter("anycable"),
        }
    }
}
