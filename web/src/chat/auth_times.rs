//! `last_auth_successed_at` behind the answer. A frame on a connection its token is already
//! bound to changes nothing but that time, so the frame is answered after one read and the
//! time is written with every other token's of the last moments: coalesced per token (the
//! latest wins), one statement per flush, flushed every `AUTH_TIME_FLUSH_MS` (100 ms) and
//! on shutdown.
//! Binding, moving and refusing a token still write before the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use shared::queries::tokens;

/// Tokens per statement: well under SQLite's and PostgreSQL's limits on bound values.
const BATCH: usize = 1_000;

/// The times not yet written. Cheap to clone.
#[derive(Clone)]
pub struct AuthTimes {
    db: DatabaseConnection,
    pending: Arc<Mutex<HashMap<i64, DateTime<Utc>>>>,
}

impl AuthTimes {
    /// Starts the writer that flushes every `flush_every`, for as long as web runs.
    pub fn start(db: DatabaseConnection, flush_every: Duration) -> Self {
        let times = Self {
            db,
            pending: Arc::default(),
        };
        tokio::spawn({
            let times = times.clone();
            async move {
                let mut every = tokio::time::interval(flush_every);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    if let Err(error) = times.flush().await {
                        tracing::warn!(%error, "could not write last_auth_successed_at; retrying");
                    }
                }
            }
        });
        times
    }

    /// A successful authentication of `token_id` at `at`, to be written shortly.
    pub fn record(&self, token_id: i64, at: DateTime<Utc>) {
        let mut pending = self.lock();
        let latest = pending.entry(token_id).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// Writes every pending time. What could not be written stays pending for the next
    /// flush (a later time recorded meanwhile wins).
    pub async fn flush(&self) -> Result<(), DbErr> {
        let taken: Vec<(i64, DateTime<Utc>)> =
            std::mem::take(&mut *self.lock()).into_iter().collect();
        for (index, batch) in taken.chunks(BATCH).enumerate() {
            if let Err(error) = tokens::record_auth_times(&self.db, batch).await {
                for (token_id, at) in &taken[index * BATCH..] {
                    self.record(*token_id, *at);
                }
                return Err(error);
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, DateTime<Utc>>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
