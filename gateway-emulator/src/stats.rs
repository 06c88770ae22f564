//! Counters for `GET /_emulator/stats`: plain relaxed atomics, so the hot path never locks.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_rejected: AtomicU64,
    pub frames_received: AtomicU64,
    pub posts_ok: AtomicU64,
    pub posts_gone: AtomicU64,
    pub throttled: AtomicU64,
    pub errors: AtomicU64,
    pub payload_too_large: AtomicU64,
    pub deletes: AtomicU64,
    pub callbacks_failed: AtomicU64,
}

/// A point-in-time copy of [`Stats`], serialized as the stats endpoint's body.
#[derive(Debug, Clone, Copy, Serialize)]
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
    /// Management API POSTs answered 429 (injected, or the client's buffer was full).
    pub throttled: u64,
    /// Management API POSTs answered 500 (injected).
    pub errors: u64,
    /// Management API POSTs answered 413.
    pub payload_too_large: u64,
    /// Management API DELETEs that closed a connection.
    pub deletes: u64,
    /// Callbacks that timed out or could not reach the backend.
    pub callbacks_failed: u64,
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
            errors: load(&self.errors),
            payload_too_large: load(&self.payload_too_large),
            deletes: load(&self.deletes),
            callbacks_failed: load(&self.callbacks_failed),
        }
    }
}
