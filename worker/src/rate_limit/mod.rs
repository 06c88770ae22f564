//! `APIGW_RATE_LIMIT`: Management API calls per second for all worker processes of one
//! deployment together (SPEC §10).
//!
//! Every worker draws permits from one token bucket in Redis ([`bucket`]), a small batch
//! at a time, so a call costs a fraction of a Redis round trip. A 429 from API Gateway
//! halves the shared rate (at most once per cooldown), so one worker's 429 slows them all;
//! without throttling it climbs back by a twentieth of the limit per second.
//!
//! When Redis cannot be asked, a worker paces itself alone at its last known share of the
//! rate (the rate divided by the workers that drew lately) and asks Redis again a second
//! later: a post is delayed, never refused, and nothing waits on Redis.
//!
//! The limiter knows nothing of how a call is made: [`RateLimiter::pace`] takes the call as
//! a future whose outcome says whether it was throttled ([`ThrottleSignal`]).

mod bucket;
mod local;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::queue::RedisConnection;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use bucket::Tuning;
use bucket::{Draw, SharedBucket};
use local::{Pacer, Pool};

/// A draw from Redis that takes longer is given up: the worker paces itself meanwhile.
const REDIS_DEADLINE: Duration = Duration::from_millis(500);
/// After Redis failed, a worker paces itself this long before asking it again.
const ALONE_FOR: Duration = Duration::from_secs(1);
/// A batch is this much of the rate (at least one permit, at most [`MAX_BATCH`]).
const BATCH_SHARE: Duration = Duration::from_millis(10);
const MAX_BATCH: u32 = 100;

/// Whether a call's outcome was API Gateway's throttling (429 `LimitExceededException`).
pub trait ThrottleSignal {
    fn is_throttled(&self) -> bool;
}

/// Cheap to clone: the clones of one worker share its permits.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<Limiter>>,
}

struct Limiter {
    bucket: SharedBucket,
    limit: u32,
    /// One report of a 429 per half of this.
    cooldown: Duration,
    state: Mutex<State>,
    /// Held by the one task that draws from Redis or waits for the rate; the others queue
    /// behind it (first come, first served) and find permits when they get it.
    turn: tokio::sync::Mutex<()>,
    /// Draws from Redis so far (scripts run), for the cost per call.
    draws: AtomicU64,
}

struct State {
    pool: Pool,
    pacer: Pacer,
    /// The deployment's rate at the last draw.
    rate: u32,
    /// Workers that drew lately, at the last draw.
    workers: u32,
    /// While set and not past, Redis is not asked.
    alone_until: Option<Instant>,
    /// The last 429 reported to Redis.
    reported_at: Option<Instant>,
}

impl RateLimiter {
    /// `limit` 0 turns the limiter off: [`Self::pace`] then only makes the call.
    pub fn new(
        limit: u32,
        redis: RedisConnection,
        queue_prefix: &str,
        worker_id: &str,
        tuning: Tuning,
    ) -> Self {
        let inner = (limit > 0).then(|| {
            Arc::new(Limiter {
                bucket: SharedBucket::new(redis, queue_prefix, worker_id, limit, tuning),
                limit,
                cooldown: tuning.cooldown,
                state: Mutex::new(State {
                    pool: Pool::new(),
                    pacer: Pacer::new(),
                    rate: limit,
                    workers: 1,
                    alone_until: None,
                    reported_at: None,
                }),
                turn: tokio::sync::Mutex::new(()),
                draws: AtomicU64::new(0),
            })
        });
        Self { inner }
    }

    /// Makes `call` once a permit is there, and reports its throttling. `None` when
    /// `stopping` was cancelled before a permit came (the call was not made).
    pub async fn pace<F>(&self, stopping: &CancellationToken, call: F) -> Option<F::Output>
    where
        F: Future,
        F::Output: ThrottleSignal,
    {
        let Some(limiter) = &self.inner else {
            return Some(call.await);
        };
        tokio::select! {
            biased;
            () = stopping.cancelled() => return None,
            () = limiter.acquire() => {}
        }
        let outcome = call.await;
        if outcome.is_throttled() {
            limiter.throttled().await;
        }
        Some(outcome)
    }

    /// Scripts run against Redis by this worker so far.
    #[cfg(test)]
    fn draws(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |limiter| limiter.draws.load(Ordering::Relaxed))
    }
}

impl Limiter {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn acquire(&self) {
        if self.state().pool.take() {
            return;
        }
        let _turn = self.turn.lock().await;
        loop {
            let (want, alone) = {
                let mut state = self.state();
                if state.pool.take() {
                    return;
                }
                let alone = state
                    .alone_until
                    .is_some_and(|until| Instant::now() < until);
                (batch_for(state.rate), alone)
            };
            if alone {
                return self.pace_alone().await;
            }
            self.draws.fetch_add(1, Ordering::Relaxed);
            match tokio::time::timeout(REDIS_DEADLINE, self.bucket.take(want)).await {
                Ok(Ok(draw)) => {
                    if self.keep(&draw) {
                        return;
                    }
                    tokio::time::sleep(draw.wait).await;
                }
                Ok(Err(error)) => self.go_alone(&error.to_string()),
                Err(_) => self.go_alone("no answer within 500ms"),
            }
        }
    }

    /// Keeps what a draw taught and granted; true when it granted this call's permit.
    fn keep(&self, draw: &Draw) -> bool {
        let mut state = self.state();
        self.learn(&mut state, draw);
        if state.alone_until.take().is_some() {
            tracing::info!(
                rate = draw.rate,
                "the shared Management API rate limit answers again"
            );
        }
        if draw.granted == 0 {
            return false;
        }
        state.pool.fill(draw.granted - 1);
        true
    }

    /// Waits for this worker's own slot at its share of the last known rate.
    async fn pace_alone(&self) {
        let slot = {
            let mut state = self.state();
            let share = f64::from(state.rate) / f64::from(state.workers.max(1));
            state.pacer.book(share)
        };
        tokio::time::sleep_until(slot).await;
    }

    fn go_alone(&self, reason: &str) {
        let mut state = self.state();
        if state.alone_until.is_none() {
            tracing::warn!(
                reason,
                rate = state.rate,
                workers = state.workers,
                "the shared Management API rate limit is unreachable in Redis; this worker \
                 paces itself at its share until Redis answers"
            );
        }
        state.alone_until = Some(Instant::now() + ALONE_FOR);
    }

    fn learn(&self, state: &mut State, draw: &Draw) {
        state.rate = draw.rate.clamp(1, self.limit);
        state.workers = draw.workers.max(1);
    }

    /// Cuts the shared rate. 429s that come back together report one excess: a worker
    /// reports at most once per cooldown (and Redis cuts at most once per cooldown for all).
    async fn throttled(&self) {
        let cooldown = self.cooldown;
        {
            let mut state = self.state();
            let now = Instant::now();
            if state
                .reported_at
                .is_some_and(|at| now.duration_since(at) < cooldown / 2)
            {
                return;
            }
            state.reported_at = Some(now);
            // Permits drawn at the rate that proved too high are not used.
            state.pool.clear();
        }
        self.draws.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(REDIS_DEADLINE, self.bucket.throttled()).await {
            Ok(Ok(draw)) => {
                let mut state = self.state();
                self.learn(&mut state, &draw);
                if draw.cut {
                    tracing::info!(
                        rate = draw.rate,
                        limit = self.limit,
                        "Management API throttled (429): the deployment's rate is cut"
                    );
                }
            }
            _ => {
                // Alone, this worker halves its own share instead.
                let mut state = self.state();
                state.rate = (state.rate / 2).max(1);
            }
        }
    }
}

/// Permits drawn at once at `rate`: about [`BATCH_SHARE`] of it.
fn batch_for(rate: u32) -> u32 {
    let batch = f64::from(rate) * BATCH_SHARE.as_secs_f64();
    (batch.round() as u32).clamp(1, MAX_BATCH)
}

#[cfg(test)]
mod tests;
