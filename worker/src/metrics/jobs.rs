//! `worker_jobs_total{job, outcome}`: how each run of a job was settled.

use metrics::Counter;
use shared::jobs::{BroadcastJob, DeleteConnectionJob, RelayJob};
use shared::queue::Job;

/// The job a claimed payload named, as a bounded label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Broadcast,
    DeleteConnection,
    Relay,
    /// A payload no handler reads (written by hand, or by a newer version).
    Unknown,
}

impl JobKind {
    const ALL: [JobKind; 4] = [
        Self::Broadcast,
        Self::DeleteConnection,
        Self::Relay,
        Self::Unknown,
    ];

    pub fn of(name: &str) -> Self {
        match name {
            BroadcastJob::NAME => Self::Broadcast,
            DeleteConnectionJob::NAME => Self::DeleteConnection,
            RelayJob::NAME => Self::Relay,
            _ => Self::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Broadcast => "broadcast",
            Self::DeleteConnection => "delete_connection",
            Self::Relay => "relay",
            Self::Unknown => "unknown",
        }
    }
}

/// Where a settled run left its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFate {
    Done,
    /// Failed; scheduled to run again after a backoff.
    Retried,
    /// Buried in the dead set: out of attempts, or it can never succeed.
    Dead,
    /// Handed back to the front of its queue by a stopping worker.
    Released,
}

impl JobFate {
    const ALL: [JobFate; 4] = [Self::Done, Self::Retried, Self::Dead, Self::Released];

    fn label(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retried => "retried",
            Self::Dead => "dead",
            Self::Released => "released",
        }
    }
}

/// One counter per kind and fate, registered once.
#[derive(Clone)]
pub struct JobMetrics {
    counters: [[Counter; 4]; 4],
}

impl JobMetrics {
    pub fn register() -> Self {
        Self {
            counters: JobKind::ALL.map(|kind| {
                JobFate::ALL.map(|fate| {
                    metrics::counter!(
                        "worker_jobs_total",
                        "job" => kind.label(),
                        "outcome" => fate.label()
                    )
                })
            }),
        }
    }

    pub fn count(&self, kind: JobKind, fate: JobFate) {
        self.counters[kind as usize][fate as usize].increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_has_its_label() {
        assert_eq!(JobKind::of("BroadcastJob").label(), "broadcast");
        assert_eq!(
            JobKind::of("DeleteConnectionJob").label(),
            "delete_connection"
        );
        assert_eq!(JobKind::of("RelayJob").label(), "relay");
        assert_eq!(JobKind::of("Nope").label(), "unknown");
    }
}
