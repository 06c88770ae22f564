//! The product against the stand-in: a database with N tokens bound to connection ids of
//! no client (the stand-in accepts any id), web, and one worker whose `APIGW_ENDPOINT` is
//! nginx; one broadcast at a time, timed from its enqueuing to the worker's summary.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use e2e::web::ADMIN_API_KEY;
use e2e::{TestEnv, WebApp, WebOptions, WorkerProcess};
use serde_json::json;
use shared::queue::redis_connection;
use shared::recent_broadcasts::RecentBroadcasts;

use crate::identities;
use crate::nginx::StandIn;
use crate::options::Settings;
use crate::stack::{Database, WorkerTuning, worker_options};

/// Users are `standin0` … ; the first one sends.
const USER_PREFIX: &str = "standin";
const CONNECTION_PREFIX: &str = "standin-";
const MESSAGE_BODY: &str = "benchmark message";

/// One broadcast as the worker reported it.
pub struct Broadcast {
    pub audience: usize,
    /// POST /api/messages sent → the worker's last part finished.
    pub took: Duration,
}

impl Broadcast {
    pub fn posts_per_sec(&self) -> f64 {
        self.audience as f64 / self.took.as_secs_f64()
    }
}

/// Field order is drop order: the processes before the database.
pub struct Stage {
    worker: WorkerProcess,
    web: WebApp,
    recent: RecentBroadcasts,
    pub audience: usize,
    pub tuning: WorkerTuning,
    _env: TestEnv,
}

impl Stage {
    pub async fn open(settings: &Settings, stand_in: &StandIn) -> anyhow::Result<Self> {
        let env = match settings.database {
            Database::Postgres => TestEnv::postgres().await,
            Database::Sqlite => TestEnv::sqlite().await,
        };
        let db = env.db.connect().await;
        let started = std::time::Instant::now();
        identities::create(&db, USER_PREFIX, settings.connections).await?;
        let audience = identities::bind_to_fake_connections(&db, CONNECTION_PREFIX).await?;
        anyhow::ensure!(
            audience == settings.connections as u64,
            "bound {audience} tokens, not {}",
            settings.connections
        );
        eprintln!(
            "[bench] {audience} users and tokens stored and bound in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let web = WebApp::spawn(&env, WebOptions::default()).await;
        let tuning = WorkerTuning::DEFAULTS;
        let worker = WorkerProcess::spawn(&env, &worker_options(stand_in.endpoint(), tuning)).await;
        let redis = redis_connection(env.redis.url(), Duration::from_secs(10))?;
        Ok(Self {
            worker,
            web,
            recent: RecentBroadcasts::new(redis, env.redis.prefix()),
            audience: settings.connections,
            tuning,
            _env: env,
        })
    }

    /// Posts one message to all_channel through web's admin API (which stores it and
    /// enqueues its broadcast as send_message does) and waits for the worker's summaries
    /// of it to cover the audience; nginx must have answered every post.
    pub async fn broadcast(&self, stand_in: &StandIn) -> anyhow::Result<Broadcast> {
        let answered_before = stand_in.requests().await?;
        let sent = Utc::now();
        let response = self
            .web
            .http()
            .post(self.web.url("/api/messages"))
            .bearer_auth(ADMIN_API_KEY)
            .json(&json!({
                "user_code": format!("{USER_PREFIX}0"),
                "channel": "all_channel",
                "body": MESSAGE_BODY,
            }))
            .send()
            .await?;
        let status = response.status();
        let message: serde_json::Value = response.json().await?;
        anyhow::ensure!(
            status.as_u16() == 201,
            "POST /api/messages: {status} {message}"
        );
        let message_id = message["id"]
            .as_i64()
            .context("POST /api/messages answered no id")?;
        let finished = self.finished(message_id).await.map_err(|error| {
            anyhow::anyhow!(
                "{error:#}\n---- last output of worker ----\n{}",
                self.worker.logs().text()
            )
        })?;
        // This status request is counted too.
        let answered = stand_in.requests().await? - answered_before - 1;
        anyhow::ensure!(
            answered == self.audience as u64,
            "nginx answered {answered} requests for a broadcast to {}",
            self.audience
        );
        let took = (finished - sent)
            .to_std()
            .context("the worker finished before the message was sent")?;
        Ok(Broadcast {
            audience: self.audience,
            took,
        })
    }

    /// When the last part of `message_id`'s broadcast finished, once all its parts have;
    /// every post must have been delivered.
    async fn finished(&self, message_id: i64) -> anyhow::Result<DateTime<Utc>> {
        let parts = self.audience.div_ceil(self.tuning.split_size);
        let rounds = self.audience.div_ceil(self.tuning.in_flight(self.audience));
        let timeout = Duration::from_secs(30) + Duration::from_millis(50) * rounds as u32;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let summaries: Vec<_> = self
                .recent
                .newest(parts as isize + 8)
                .await?
                .into_iter()
                .filter(|summary| summary.message_id == message_id)
                .collect();
            let audience: usize = summaries.iter().map(|s| s.audience).sum();
            if audience >= self.audience {
                let delivered: usize = summaries.iter().map(|s| s.delivered).sum();
                anyhow::ensure!(
                    delivered == self.audience,
                    "the worker delivered {delivered} of {}: {summaries:?}",
                    self.audience
                );
                return summaries
                    .iter()
                    .map(|summary| summary.finished_at)
                    .max()
                    .context("no summary");
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "the broadcast of message {message_id} was not finished after {timeout:?}: \
                     {summaries:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
