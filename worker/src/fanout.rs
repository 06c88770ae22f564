//! Delivering one payload to many connections: bounded concurrency, retries with backoff
//! and jitter per connection, and a record of each accepted delivery so that a retry or a
//! takeover skips who already has it.

use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use shared::queries::tokens::{self, Target};

use crate::context::JobContext;
use crate::delivery_log::DeliveryLog;
use crate::management::CallOutcome;

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

/// Backoff for one connection: 50 ms, 100 ms, 200 ms … capped at 2 s, with full jitter.
fn connection_backoff(attempt: u32) -> Duration {
    let ceiling = 50u64.saturating_mul(1 << attempt.min(6)).min(2_000);
    Duration::from_millis(rand::rng().random_range(ceiling / 2..=ceiling))
}

pub async fn deliver(
    context: &JobContext,
    message_id: i64,
    payload: &[u8],
    targets: Vec<Target>,
) -> Result<FanoutReport, redis::RedisError> {
    let done_before = context.deliveries.sent(message_id).await?;
    let mut report = FanoutReport::default();
    let pending: Vec<Target> = targets
        .into_iter()
        .filter(|target| {
            let skip = done_before.contains(&target.connection_id);
            report.already_delivered += usize::from(skip);
            !skip
        })
        .collect();
    let mut results = futures::stream::iter(pending)
        .map(|target| deliver_one(context, message_id, payload, target))
        .buffer_unordered(context.settings.post_concurrency);
    while let Some(result) = results.next().await {
        match result {
            ConnectionResult::Delivered => report.delivered += 1,
            ConnectionResult::Gone => report.gone += 1,
            ConnectionResult::TooLarge => report.too_large += 1,
            ConnectionResult::Unfinished => report.unfinished += 1,
            ConnectionResult::FailedForGood => report.failed_for_good += 1,
        }
    }
    context.deliveries.expire(message_id).await?;
    Ok(report)
}

async fn deliver_one(
    context: &JobContext,
    message_id: i64,
    payload: &[u8],
    target: Target,
) -> ConnectionResult {
    let max_attempts = context.settings.apigw_max_attempts;
    let deliveries = &context.deliveries;
    let connection_id = target.connection_id.as_str();
    for attempt in 1..=max_attempts {
        // A stopping worker starts no new POST; its job is handed back.
        if context.stopping.is_cancelled() {
            return ConnectionResult::Unfinished;
        }
        match context
            .management
            .post(connection_id, payload.to_vec())
            .await
        {
            CallOutcome::Ok => {
                record_delivery(deliveries, message_id, connection_id).await;
                return ConnectionResult::Delivered;
            }
            CallOutcome::Gone => {
                retire(context, &target).await;
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
            CallOutcome::Transient(reason) => {
                tracing::debug!(
                    message_id,
                    connection_id,
                    attempt,
                    reason,
                    "post failed; backing off"
                );
                if attempt < max_attempts {
                    tokio::time::sleep(connection_backoff(attempt)).await;
                }
            }
        }
    }
    ConnectionResult::Unfinished
}

/// Writes the delivery down, trying a few times: an unrecorded delivery is sent again by a
/// later run of this broadcast (a duplicate, never a loss).
async fn record_delivery(deliveries: &DeliveryLog, message_id: i64, connection_id: &str) {
    const TRIES: u32 = 3;
    for attempt in 1..=TRIES {
        match deliveries.mark_delivered(message_id, connection_id).await {
            Ok(()) => return,
            Err(error) if attempt == TRIES => tracing::warn!(
                %error,
                message_id,
                connection_id,
                "delivered but not recorded; a retry of this broadcast may deliver it again"
            ),
            Err(_) => tokio::time::sleep(connection_backoff(attempt)).await,
        }
    }
}

async fn retire(context: &JobContext, target: &Target) {
    tracing::info!(
        connection_id = target.connection_id,
        token_id = target.token_id,
        "connection gone (410); retiring it"
    );
    if let Err(error) =
        tokens::retire_connection(&context.db, target.token_id, &target.connection_id).await
    {
        tracing::warn!(%error, "could not retire a gone connection; the next broadcast will retry");
    }
}
