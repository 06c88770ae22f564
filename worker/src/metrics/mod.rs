//! What the worker tells Prometheus, served on `WORKER_METRICS_ADDR` (`/metrics`).
//!
//! Every family has bounded labels (queue, state, job kind, outcome), never an id. Handles
//! are registered once at start-up and kept, so the hot path (a POST) only bumps atomics:
//! no lock, no label string per call.
//!
//! # Layout
//! - `posts`: Management API posts by outcome and their latency; the WARN line of a 5xx or
//!   a timeout.
//! - `jobs`: jobs done, retried, dead and handed back, by job kind.
//! - `broadcasts`: broadcast duration and audience size; publications for Action Cable and
//!   AnyCable.
//! - `sampler`: queue depth by state and the outbox's pending broadcasts, read from Redis
//!   and the database when scraped (at most once a second, each read bounded by a timeout).
//! - `server`: the listener.

mod broadcasts;
mod jobs;
mod posts;
mod sampler;
mod server;

pub use broadcasts::{BroadcastMetrics, PublishMetrics};
pub use jobs::{JobFate, JobKind, JobMetrics};
pub use posts::PostMetrics;
pub use sampler::Sampler;
pub use server::MetricsServer;

/// The HELP line of every family the worker exports.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "wsgw_queue_jobs",
        "jobs in each queue by state (waiting, scheduled, running, failed, dead), sampled from Redis"
    );
    describe_gauge!(
        "wsgw_outbox_pending_broadcasts",
        "stored messages whose broadcast has not finished (the outbox)"
    );
    describe_counter!(
        "worker_jobs_total",
        "settled job runs by job kind and outcome (done, retried, dead, released)"
    );
    describe_counter!(
        "worker_management_posts_total",
        "Management API PostToConnection calls by outcome (ok, gone, throttled, 5xx, timeout, other)"
    );
    describe_histogram!(
        "worker_management_post_seconds",
        Unit::Seconds,
        "Management API PostToConnection latency"
    );
    describe_histogram!(
        "worker_broadcast_seconds",
        Unit::Seconds,
        "one broadcast job run, from its start to its last post"
    );
    describe_histogram!(
        "worker_broadcast_audience_connections",
        "connections one broadcast job run targets"
    );
    describe_counter!(
        "worker_interop_publishes_total",
        "broadcasts published for Action Cable or AnyCable subscribers"
    );
    describe_counter!(
        "worker_metrics_sample_errors_total",
        "failed reads of the sampled gauges, by source (redis, database)"
    );
}
