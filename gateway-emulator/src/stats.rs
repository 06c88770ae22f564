//! Counters for `GET /_emulator/stats`: plain relaxed atomics, so the hot path never locks,
//! and the Management API's requests per second (one short lock per request).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Seconds of [`PerSecond`] history kept.
const SECONDS_KEPT: usize = 300;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_rejected: AtomicU64,
    pub frames_received: AtomicU64,
    pub posts_ok: AtomicU64,
    pub posts_gone: AtomicU64,
    pub throttled: AtomicU64,
    pub quota_throttled: AtomicU64,
    pub errors: AtomicU64,
    pub payload_too_large: AtomicU64,
    pub deletes: AtomicU64,
    pub callbacks_failed: AtomicU64,
    pub management_per_second: PerSecond,
}

/// A point-in-time copy of [`Stats`], serialized as the stats endpoint's body.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSnapshot {
    /// WebSocket connections currently open.
    pub connections_open: u64,
    /// Connections accepted since start.
    pub connections_total: u64,
    /// Handshakes refused because `$connect` failed or answered non-2xx.
    pub connections_rejected: u64,
    /// Text frames received from clients (each one a `$default` callback).
    pub frames_received: u64,
    /// Management API POSTs queued for delivery.
    pub posts_ok: u64,
    /// Management API POSTs answered 410.
    pub posts_gone: u64,
    /// Management API POSTs answered 429 (injected, over the account quota, or the client's
    /// buffer was full).
    pub throttled: u64,
    /// Management API requests (any method) answered 429 because they were over
    /// `EMULATOR_ACCOUNT_RPS`.
    pub quota_throttled: u64,
    /// Management API POSTs answered 500 (injected).
    pub errors: u64,
    /// Management API POSTs answered 413.
    pub payload_too_large: u64,
    /// Management API DELETEs that closed a connection.
    pub deletes: u64,
    /// Callbacks that timed out or could not reach the backend.
    pub callbacks_failed: u64,
    /// Signed Management API requests per wall-clock second, oldest first, the last five
    /// minutes of seconds that had any.
    pub management_per_second: Vec<SecondCount>,
}

/// Signed Management API requests that arrived within one wall-clock second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SecondCount {
    /// Seconds since the Unix epoch.
    pub second: u64,
    /// Every request, whatever its answer.
    pub requests: u64,
    /// Those answered 429 for being over the account quota.
    pub quota_throttled: u64,
}

/// Requests per second, for measuring a client's rate from this side.
#[derive(Debug, Default)]
pub struct PerSecond {
    seconds: Mutex<VecDeque<SecondCount>>,
}

impl PerSecond {
    pub fn record(&self, quota_throttled: bool) {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let mut seconds = self
            .seconds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seconds.back().is_none_or(|last| last.second != second) {
            if seconds.len() == SECONDS_KEPT {
                seconds.pop_front();
            }
            seconds.push_back(SecondCount {
                second,
                requests: 0,
                quota_throttled: 0,
            });
        }
        if let Some(current) = seconds.back_mut() {
            current.requests += 1;
            current.quota_throttled += u64::from(quota_throttled);
        }
    }

    fn snapshot(&self) -> Vec<SecondCount> {
        self.seconds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .copied()
            .collect()
    }
}

impl Stats {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            connections_open: load(&self.connections_open),
            connections_total: load(&self.connections_total),
            connections_rejected: load(&self.connections_rejected),
            frames_received: load(&self.frames_received),
            posts_ok: load(&self.posts_ok),
            posts_gone: load(&self.posts_gone),
            throttled: load(&self.throttled),
            quota_throttled: load(&self.quota_throttled),
            errors: load(&self.errors),
            payload_too_large: load(&self.payload_too_large),
            deletes: load(&self.deletes),
            callbacks_failed: load(&self.callbacks_failed),
            management_per_second: self.management_per_second.snapshot(),
        }
    }
}
