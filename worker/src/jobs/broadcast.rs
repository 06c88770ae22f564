//! BroadcastJob: the message to every connection of its channel, and to interop subscribers.
//! A large audience is cut into token-id ranges, each a sub-job any worker can take.

use serde_json::json;
use shared::USER_CHANNEL;
use shared::jobs::{BroadcastJob, TokenRange};
use shared::queries::messages;
use shared::queries::tokens::{self, Audience};
use tracing::Instrument;

use super::JobError;
use crate::context::JobContext;
use crate::fanout;
use crate::outcome::JobOutcome;

pub async fn run(context: &JobContext, job: BroadcastJob) -> Result<JobOutcome, JobError> {
    let span = tracing::info_span!("broadcast", message_id = job.message_id, channel = job.real_channel, range = ?job.token_range);
    run_in_span(context, job).instrument(span).await
}

async fn run_in_span(context: &JobContext, job: BroadcastJob) -> Result<JobOutcome, JobError> {
    let Some((message, user)) = messages::find_live_with_user(&context.db, job.message_id).await?
    else {
        tracing::info!("message deleted; nothing to deliver");
        return Ok(JobOutcome::Done);
    };
    let audience = if job.channel == USER_CHANNEL {
        Audience::User(job.sender_user_id)
    } else {
        Audience::Everyone
    };
    let payload = json!({
        "action": "send_message",
        "success": true,
        "messages": [context.renderer.render(&message, &user)],
    })
    .to_string();
    if job.token_range.is_none() {
        publish_once(context, &job, &payload).await?;
        if split(context, &job, audience).await? {
            return Ok(JobOutcome::Done);
        }
    }
    let range = job.token_range.map(|range| (range.first, range.last));
    let targets = tokens::audience_targets(&context.db, audience, range).await?;
    let report = fanout::deliver(context, message.id, payload.as_bytes(), targets).await?;
    tracing::info!(?report, "broadcast finished");
    Ok(if report.unfinished > 0 {
        JobOutcome::Retry(format!("{} connections still failing", report.unfinished))
    } else {
        JobOutcome::Done
    })
}

/// Cuts an audience above `BROADCAST_SPLIT_SIZE` into sub-jobs. True when it did.
async fn split(
    context: &JobContext,
    job: &BroadcastJob,
    audience: Audience,
) -> Result<bool, JobError> {
    let size = context.settings.broadcast_split_size;
    if tokens::audience_size(&context.db, audience).await? as usize <= size {
        return Ok(false);
    }
    let ids = tokens::audience_token_ids(&context.db, audience).await?;
    let parts: Vec<BroadcastJob> = ids
        .chunks(size)
        .filter_map(|chunk| Some((*chunk.first()?, *chunk.last()?)))
        .map(|(first, last)| BroadcastJob {
            token_range: Some(TokenRange { first, last }),
            ..job.clone()
        })
        .collect();
    context.queues.default.push_bulk(&parts).await?;
    tracing::info!(
        audience = ids.len(),
        parts = parts.len(),
        "broadcast split into sub-jobs"
    );
    Ok(true)
}

/// Interop subscribers get the message once per broadcast, not once per retry.
async fn publish_once(
    context: &JobContext,
    job: &BroadcastJob,
    payload: &str,
) -> Result<(), JobError> {
    if !context.interop.enabled() || context.deliveries.was_published(job.message_id).await? {
        return Ok(());
    }
    context.interop.publish(&job.real_channel, payload).await?;
    context.deliveries.mark_published(job.message_id).await?;
    Ok(())
}
