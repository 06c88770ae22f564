//! BroadcastJob: the message to every connection of its channel, and to interop subscribers.
//! A large audience is cut into token-id ranges, each a sub-job any worker can take.

use std::borrow::Cow;
use std::time::Instant;

use sea_orm::DatabaseConnection;
use shared::domain::Channel;
use shared::jobs::{BroadcastJob, TokenRange};
use shared::message_view::MessageRenderer;
use shared::queries::messages;
use shared::queries::tokens::{self, Audience, Target};
use shared::queue::JobQueue;
use shared::recent_broadcasts::{BroadcastSummary, RecentBroadcasts};
use tracing::Instrument;

use super::{JobError, JobHandler};
use crate::delivery_log::DeliveryLog;
use crate::fanout::{Fanout, FanoutReport};
use crate::interop::Interop;
use crate::metrics::BroadcastMetrics;
use crate::outcome::JobOutcome;
use crate::relay::OwnPublishes;

pub struct BroadcastHandler {
    pub db: DatabaseConnection,
    pub renderer: MessageRenderer,
    pub interop: Interop,
    /// Set while Action Cable publishing is on: marks each publication so that no relay
    /// sends it back to the connections this job serves.
    pub own_publishes: Option<OwnPublishes>,
    /// Whether interop subscribers already got a message.
    pub deliveries: DeliveryLog,
    /// Where the sub-jobs of a large audience go (`default`).
    pub queue: JobQueue,
    /// `BROADCAST_SPLIT_SIZE`.
    pub split_size: usize,
    pub fanout: Fanout,
    pub metrics: BroadcastMetrics,
    /// Where each run's counts go, for the `/admin` dashboard.
    pub recent: RecentBroadcasts,
}

impl JobHandler for BroadcastHandler {
    type Job = BroadcastJob;

    async fn run(&self, job: BroadcastJob) -> Result<JobOutcome, JobError> {
        let span = tracing::info_span!("broadcast", message_id = job.message_id, channel = %job.real_channel, range = ?job.token_range);
        self.run_in_span(job).instrument(span).await
    }
}

impl BroadcastHandler {
    async fn run_in_span(&self, job: BroadcastJob) -> Result<JobOutcome, JobError> {
        let started = Instant::now();
        let audience = match job.real_channel {
            Channel::User(_) => Audience::User(job.sender_user_id),
            Channel::All => Audience::Everyone,
        };
        let range = job.token_range.map(|range| (range.first, range.last));
        let targets =
            tokens::live_message_targets(&self.db, job.message_id, audience, range).await?;
        let frame = match (targets.is_some(), job.frame.as_deref()) {
            (false, _) => None,
            (true, Some(frame)) => Some(Cow::Borrowed(frame)),
            (true, None) => self.render(job.message_id).await?.map(Cow::Owned),
        };
        let (Some(targets), Some(frame)) = (targets, frame) else {
            tracing::info!("message deleted; nothing to deliver");
            return Ok(JobOutcome::Done);
        };
        if job.token_range.is_none() {
            self.publish_once(&job, &frame).await?;
        }
        if job.token_range.is_none() && targets.len() > self.split_size {
            self.split(&job, &targets).await?;
            return Ok(JobOutcome::Done);
        }
        let audience = targets.len();
        let report = self
            .fanout
            .deliver(job.message_id, frame.as_bytes(), targets)
            .await?;
        // A run that split is not recorded: each of its parts is a run that posts.
        self.metrics.record(started.elapsed(), audience);
        tracing::info!(?report, "broadcast finished");
        self.record(&job, audience, &report, started.elapsed())
            .await;
        Ok(if report.unfinished > 0 {
            JobOutcome::Retry(format!("{} connections still failing", report.unfinished))
        } else {
            JobOutcome::Done
        })
    }

    /// The frame of a job that came without one (re-enqueued from the outbox); `None` when
    /// the message was deleted meanwhile.
    async fn render(&self, message_id: i64) -> Result<Option<String>, JobError> {
        let found = messages::find_live_with_user(&self.db, message_id).await?;
        Ok(found.map(|(message, user)| self.renderer.broadcast_frame(&message, &user)))
    }

    /// Cuts an audience above `BROADCAST_SPLIT_SIZE` into token-id ranges, one sub-job each.
    async fn split(&self, job: &BroadcastJob, targets: &[Target]) -> Result<(), JobError> {
        let parts: Vec<BroadcastJob> = targets
            .chunks(self.split_size)
            .filter_map(|chunk| Some((chunk.first()?.token_id, chunk.last()?.token_id)))
            .map(|(first, last)| BroadcastJob {
                token_range: Some(TokenRange { first, last }),
                ..job.clone()
            })
            .collect();
        self.queue.push_bulk(&parts).await?;
        tracing::info!(
            audience = targets.len(),
            parts = parts.len(),
            "broadcast split into sub-jobs"
        );
        Ok(())
    }

    /// Best effort: a summary that cannot be written costs the dashboard one row, not the job.
    async fn record(
        &self,
        job: &BroadcastJob,
        audience: usize,
        report: &FanoutReport,
        took: std::time::Duration,
    ) {
        let summary = BroadcastSummary {
            message_id: job.message_id,
            channel: job.real_channel.real_name(),
            audience,
            delivered: report.delivered,
            already_delivered: report.already_delivered,
            gone: report.gone,
            failed: report.too_large + report.failed_for_good + report.unfinished,
            retrying: report.unfinished,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            finished_at: chrono::Utc::now(),
        };
        if let Err(error) = self.recent.record(&summary).await {
            tracing::warn!(%error, "could not record the broadcast's summary");
        }
    }

    /// Interop subscribers get the message once per broadcast, not once per retry.
    async fn publish_once(&self, job: &BroadcastJob, payload: &str) -> Result<(), JobError> {
        if !self.interop.enabled() || self.deliveries.was_published(job.message_id).await? {
            return Ok(());
        }
        let stream = job.real_channel.real_name();
        if let Some(own) = &self.own_publishes {
            own.mark(&stream, payload).await?;
        }
        self.interop.publish(&stream, payload).await?;
        self.deliveries.mark_published(job.message_id).await?;
        Ok(())
    }
}
