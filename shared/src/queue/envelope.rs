//! The stored JSON of a job, defined once: the producer writes it, the worker reads it, and
//! operators read it with `redis-cli`:
//! `{"job": "BroadcastJob", "args": {...}, "enqueued_at": "2026-01-01T00:00:00+00:00"}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Job;

/// A job with its name, which tells the worker how to read `args`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<A> {
    /// The job's `Job::NAME`.
    pub job: String,
    pub args: A,
    /// When it was pushed; informative only, so a payload without it still runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueued_at: Option<String>,
}

/// An envelope as read back, before its job type is known.
pub type StoredEnvelope = Envelope<serde_json::Value>;

impl<'a, J: Job> Envelope<&'a J> {
    pub(super) fn encode(job: &'a J, enqueued_at: DateTime<Utc>) -> serde_json::Result<String> {
        serde_json::to_string(&Envelope {
            job: J::NAME.to_owned(),
            args: job,
            enqueued_at: Some(enqueued_at.to_rfc3339()),
        })
    }
}

impl StoredEnvelope {
    pub fn decode(payload: &str) -> serde_json::Result<Self> {
        serde_json::from_str(payload)
    }

    /// The arguments as job `J` (whose `NAME` the caller matched against `job`).
    pub fn args<J: Job>(self) -> serde_json::Result<J> {
        serde_json::from_value(self.args)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::{Envelope, StoredEnvelope};
    use crate::queue::{Job, QueueName};

    /// A job whose arguments are a bare number.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Tick(u32);

    impl Job for Tick {
        const NAME: &'static str = "Tick";
        const QUEUE: QueueName = QueueName::LowPriority;
    }

    #[test]
    fn the_stored_json_keeps_its_layout_and_reads_back() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let json = Envelope::encode(&Tick(7), at).unwrap();
        assert_eq!(
            json,
            r#"{"job":"Tick","args":7,"enqueued_at":"2023-11-14T22:13:20+00:00"}"#
        );
        let stored = StoredEnvelope::decode(&json).unwrap();
        assert_eq!(stored.job, "Tick");
        assert_eq!(stored.args::<Tick>().unwrap(), Tick(7));
    }

    #[test]
    fn a_payload_without_its_push_time_still_reads() {
        let stored = StoredEnvelope::decode(r#"{"job":"Tick","args":1}"#).unwrap();
        assert_eq!(stored.enqueued_at, None);
    }
}
