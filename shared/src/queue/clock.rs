//! Where the queue reads the time: every due time, lease deadline and retry time comes
//! from one `Clock`, so tests can move time forward instead of sleeping.

use chrono::{DateTime, Utc};

/// The time the queue stamps its scores and records with.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Milliseconds since the epoch: the unit of every score in the queue's sorted sets.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The wall clock, which every process uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
