//! Delivery marks in batches: each accepted POST hands its connection id over, and one
//! writer per fan-out puts them into the delivery log with one `SADD` of many members —
//! when [`MAX_BATCH`] have gathered, or [`FLUSH_AFTER`] after the first of a batch, and
//! whatever is left once the fan-out's last POST has ended. The fan-out returns only after
//! that last write, so a job is never acked with marks unwritten.
//!
//! One write is in flight at a time; marks that arrive meanwhile wait for the next. A worker
//! killed mid-broadcast loses the marks not yet written (at most [`FLUSH_AFTER`] of them,
//! plus one batch on the wire), and the takeover sends those connections the message again:
//! a duplicate, never a loss.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::delivery_log::DeliveryLog;

/// Members of one `SADD`.
const MAX_BATCH: usize = 512;
/// How long a delivered connection may wait for its mark.
const FLUSH_AFTER: Duration = Duration::from_millis(5);

/// Where the POSTs of one fan-out report what API Gateway accepted.
pub(super) struct MarkSender(mpsc::UnboundedSender<String>);

/// Writes one fan-out's marks until every [`MarkSender`] is gone.
pub(super) struct MarkWriter(mpsc::UnboundedReceiver<String>);

pub(super) fn channel() -> (MarkSender, MarkWriter) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (MarkSender(sender), MarkWriter(receiver))
}

impl MarkSender {
    /// API Gateway accepted the POST to `connection_id`.
    pub fn delivered(&self, connection_id: String) {
        // The writer outlives the senders: it stops only once they are all gone.
        let _ = self.0.send(connection_id);
    }
}

impl MarkWriter {
    /// Returns once every mark sent before the last sender went away is written (or, after
    /// three failed tries, given up with a warning).
    pub async fn run(mut self, deliveries: &DeliveryLog, message_id: i64) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while self.0.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let deadline = Instant::now() + FLUSH_AFTER;
            while batch.len() < MAX_BATCH {
                let room = MAX_BATCH - batch.len();
                match tokio::time::timeout_at(deadline, self.0.recv_many(&mut batch, room)).await {
                    // Every sender is gone: the fan-out's POSTs have all ended.
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            record_deliveries(deliveries, message_id, &batch).await;
            batch.clear();
        }
    }
}

/// Writes the deliveries down, trying a few times: an unrecorded delivery is sent again by a
/// later run of this broadcast (a duplicate, never a loss).
async fn record_deliveries(deliveries: &DeliveryLog, message_id: i64, connection_ids: &[String]) {
    const TRIES: u32 = 3;
    for attempt in 1..=TRIES {
        match deliveries.mark_delivered(message_id, connection_ids).await {
            Ok(()) => return,
            Err(error) if attempt == TRIES => tracing::warn!(
                %error,
                message_id,
                connections = connection_ids.len(),
                "delivered but not recorded; a retry of this broadcast may deliver them again"
            ),
            Err(_) => tokio::time::sleep(Backoff::CONNECTION.delay(attempt)).await,
        }
    }
}
