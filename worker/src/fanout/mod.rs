//! Delivering one payload to many connections: bounded concurrency, retries with backoff
//! and jitter per connection, and a record of each accepted delivery so that a retry or a
//! takeover skips who already has it, written in batches ([`marks`]).

mod marks;

use futures::StreamExt;
use sea_orm::DatabaseConnection;
use shared::queries::tokens::{self, Target};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::delivery_log::DeliveryLog;
use crate::jobs::JobError;
use crate::management::{CallOutcome, ManagementApi, Payload};
use crate::rate_limit::RateLimiter;
use marks::MarkSender;

/// What delivering to many connections needs, and nothing else.
#[derive(Clone)]
pub struct Fanout {
    pub management: ManagementApi,
    /// `APIGW_RATE_LIMIT`, shared with every worker of the deployment.
    pub rate_limit: RateLimiter,
    pub deliveries: DeliveryLog,
    /// Where a gone connection is retired.
    pub db: DatabaseConnection,
    /// `WORKER_POST_CONCURRENCY`: POSTs in flight at once, per fan-out.
    pub post_concurrency: usize,
    /// `APIGW_MAX_ATTEMPTS`: POSTs to one connection within one run.
    pub max_attempts: u32,
    /// Cancelled when the shutdown grace period ends: no new POST starts.
    pub stopping: CancellationToken,
}

/// What a fan-out achieved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FanoutReport {
    pub delivered: usize,
    pub already_delivered: usize,
    pub gone: usize,
    pub too_large: usize,
    /// Still failing after every attempt: the job is retried for these only.
    pub unfinished: usize,
    pub failed_for_good: usize,
}

enum ConnectionResult {
    Delivered,
    Gone,
    TooLarge,
    Unfinished,
    FailedForGood,
}

impl Fanout {
    /// Delivers `payload` to every target that no run of this broadcast reached yet, and
    /// returns once every accepted delivery is recorded.
    pub async fn deliver(
        &self,
        message_id: i64,
        payload: &[u8],
        targets: Vec<Target>,
    ) -> Result<FanoutReport, JobError> {
        let done_before = self.deliveries.sent(message_id).await?;
        let mut report = FanoutReport::default();
        let pending: Vec<Target> = targets
            .into_iter()
            .filter(|target| {
                let skip = done_before.contains(&target.connection_id);
                report.already_delivered += usize::from(skip);
                !skip
            })
            .collect();
        let payload = Payload::new(bytes::Bytes::copy_from_slice(payload));
        let (marks, writer) = marks::channel();
        let posting = async {
            // Owned here: the writer's last batch follows the last POST.
            let marks = marks;
            let mut results = futures::stream::iter(pending)
                .map(|target| self.deliver_one(message_id, &payload, target, &marks))
                .buffer_unordered(self.post_concurrency);
            while let Some(result) = results.next().await {
                match result {
                    ConnectionResult::Delivered => report.delivered += 1,
                    ConnectionResult::Gone => report.gone += 1,
                    ConnectionResult::TooLarge => report.too_large += 1,
                    ConnectionResult::Unfinished => report.unfinished += 1,
                    ConnectionResult::FailedForGood => report.failed_for_good += 1,
                }
            }
        };
        tokio::join!(posting, writer.run(&self.deliveries, message_id));
        self.deliveries.expire(message_id).await?;
        Ok(report)
    }

    async fn deliver_one(
        &self,
        message_id: i64,
        payload: &Payload,
        target: Target,
        marks: &MarkSender,
    ) -> ConnectionResult {
        let max_attempts = self.max_attempts;
        let connection_id = target.connection_id.as_str();
        for attempt in 1..=max_attempts {
            // A stopping worker starts no new POST; its job is handed back.
            if self.stopping.is_cancelled() {
                return ConnectionResult::Unfinished;
            }
            let post = self.management.post(connection_id, payload);
            let Some(outcome) = self.rate_limit.pace(&self.stopping, post).await else {
                return ConnectionResult::Unfinished;
            };
            match outcome {
                CallOutcome::Ok => {
                    marks.delivered(target.connection_id);
                    return ConnectionResult::Delivered;
                }
                CallOutcome::Gone => {
                    self.retire(&target).await;
                    return ConnectionResult::Gone;
                }
                CallOutcome::TooLarge => {
                    tracing::error!(
                        message_id,
                        connection_id,
                        "payload too large for API Gateway (413); not retried"
                    );
                    return ConnectionResult::TooLarge;
                }
                CallOutcome::Permanent(reason) => {
                    tracing::error!(
                        message_id,
                        connection_id,
                        reason,
                        "post refused; not retried"
                    );
                    return ConnectionResult::FailedForGood;
                }
                CallOutcome::Throttled => {
                    back_off(message_id, connection_id, attempt, max_attempts, "HTTP 429").await;
                }
                CallOutcome::Transient(reason) => {
                    back_off(message_id, connection_id, attempt, max_attempts, &reason).await;
                }
            }
        }
        ConnectionResult::Unfinished
    }

    async fn retire(&self, target: &Target) {
        tracing::info!(
            connection_id = target.connection_id,
            token_id = target.token_id,
            "connection gone (410); retiring it"
        );
        if let Err(error) =
            tokens::retire_connection(&self.db, target.token_id, &target.connection_id).await
        {
            tracing::warn!(%error, "could not retire a gone connection; the next broadcast will retry");
        }
    }
}

/// Waits before the next attempt at one connection, if there is one.
async fn back_off(
    message_id: i64,
    connection_id: &str,
    attempt: u32,
    max_attempts: u32,
    reason: &str,
) {
    tracing::debug!(
        message_id,
        connection_id,
        attempt,
        reason,
        "post failed; backing off"
    );
    if attempt < max_attempts {
        tokio::time::sleep(Backoff::CONNECTION.delay(attempt)).await;
    }
}
