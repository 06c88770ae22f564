//! BroadcastJob: the message to every connection of its channel, and to interop subscribers.
//! A large audience is cut into token-id ranges, each a sub-job any worker can take.

use serde_json::json;
use shared::domain::Channel;
use shared::jobs::{BroadcastJob, TokenRange};
use shared::queries::messages;
use shared::queries::tokens::{self, Audience, Target};
use tracing::Instrument;

use super::JobError;
use crate::context::JobContext;
use crate::fanout;
use crate::outcome::JobOutcome;

pub async fn run(context: &JobContext, job: BroadcastJob) -> Result<JobOutcome, JobError> {
    let span = tracing::info_span!("broadcast", message_id = job.message_id, channel = %job.real_channel, range = ?job.token_range);
    run_in_span(context, job).instrument(span).await
}

async fn run_in_span(context: &JobContext, job: BroadcastJob) -> Result<JobOutcome, JobError> {
    let Some((message, user)) = messages::find_live_with_user(&context.db, job.message_id).await?
    else {
        tracing::info!("message deleted; nothing to deliver");
        return Ok(JobOutcome::Done);
    };
    let audience = match job.real_channel {
        Channel::User(_) => Audience::User(job.sender_user_id),
        Channel::All => Audience::Everyone,
    };
    let payload = json!({
        "action": "send_message",
        "success": true,
        "messages": [context.renderer.render(&message, &user)],
    })
    .to_string();
    if job.token_range.is_none() {
        publish_once(context, &job, &payload).await?;
    }
    let range = job.token_range.map(|range| (range.first, range.last));
    let targets = tokens::audience_targets(&context.db, audience, range).await?;
    if job.token_range.is_none() && targets.len() > context.settings.broadcast_split_size {
        split(context, &job, &targets).await?;
        return Ok(JobOutcome::Done);
    }
    let report = fanout::deliver(context, message.id, payload.as_bytes(), targets).await?;
    tracing::info!(?report, "broadcast finished");
    Ok(if report.unfinished > 0 {
        JobOutcome::Retry(format!("{} connections still failing", report.unfinished))
    } else {
        JobOutcome::Done
    })
}

/// Cuts an audience above `BROADCAST_SPLIT_SIZE` into token-id ranges, one sub-job each.
async fn split(
    context: &JobContext,
    job: &BroadcastJob,
    targets: &[Target],
) -> Result<(), JobError> {
    let parts: Vec<BroadcastJob> = targets
        .chunks(context.settings.broadcast_split_size)
        .filter_map(|chunk| Some((chunk.first()?.token_id, chunk.last()?.token_id)))
        .map(|(first, last)| BroadcastJob {
            token_range: Some(TokenRange { first, last }),
            ..job.clone()
        })
        .collect();
    context.queues.default.push_bulk(&parts).await?;
    tracing::info!(
        audience = targets.len(),
        parts = parts.len(),
        "broadcast split into sub-jobs"
    );
    Ok(())
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
    context
        .interop
        .publish(&job.real_channel.real_name(), payload)
        .await?;
    context.deliveries.mark_published(job.message_id).await?;
    Ok(())
}
