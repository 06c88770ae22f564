//! The outbox entries of finished broadcasts, removed in batches: one statement and one
//! commit per `FLUSH_EVERY` instead of one per message. An entry that outlives its
//! broadcast (a worker killed before the flush) only makes the sweeper run that broadcast
//! again, and the delivery log skips everyone who already has it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use shared::queries::outbox;

const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Message ids per statement: well under the databases' limits on bound values.
const BATCH: usize = 1_000;

/// Finished broadcasts not yet removed from the outbox. Cheap to clone.
#[derive(Clone)]
pub struct FinishedBroadcasts {
    db: DatabaseConnection,
    pending: Arc<Mutex<Vec<i64>>>,
}

impl FinishedBroadcasts {
    /// Starts the writer that flushes every `FLUSH_EVERY` for as long as the worker runs.
    pub fn start(db: DatabaseConnection) -> Self {
        let finished = Self {
            db,
            pending: Arc::default(),
        };
        tokio::spawn({
            let finished = finished.clone();
            async move {
                let mut every = tokio::time::interval(FLUSH_EVERY);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    finished.flush().await;
                }
            }
        });
        finished
    }

    pub fn record(&self, message_id: i64) {
        self.lock().push(message_id);
    }

    /// Removes every recorded entry; what could not be removed is tried again next time.
    pub async fn flush(&self) {
        let taken = std::mem::take(&mut *self.lock());
        for (index, batch) in taken.chunks(BATCH).enumerate() {
            if let Err(error) = outbox::finish_many(&self.db, batch).await {
                self.lock().extend_from_slice(&taken[index * BATCH..]);
                log_failure(&error);
                return;
            }
            tracing::debug!(
                messages = batch.len(),
                "finished broadcasts left the outbox"
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        // A panic while holding the lock leaves a list that is still consistent.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn log_failure(error: &DbErr) {
    tracing::warn!(%error, "finished broadcasts still in the outbox; retrying");
}
