//! The Prometheus recorder web and worker install once in `main`: every `*_seconds` family
//! is a histogram with the same buckets (so `histogram_quantile` aggregates across
//! replicas, which summaries cannot), and a background task drains histogram samples
//! between scrapes so memory stays flat when nobody scrapes.

use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Seconds: 1 ms to 1 minute, the range of a callback, a POST and a broadcast.
const SECONDS_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// Counts of connections: one to a million.
const CONNECTIONS_BUCKETS: [f64; 10] = [
    1.0,
    10.0,
    100.0,
    500.0,
    1_000.0,
    5_000.0,
    10_000.0,
    50_000.0,
    100_000.0,
    1_000_000.0,
];
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the global recorder and starts its upkeep on the current Tokio runtime.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_connections".into()), &CONNECTIONS_BUCKETS)?
        .install_recorder()?;
    tokio::spawn({
        let handle = handle.clone();
        async move {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        }
    });
    Ok(handle)
}
