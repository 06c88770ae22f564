//! Stand-in: the fan-out against an independent Management API. nginx answers every post
//! after 20 ms ([`crate::nginx`]); in the same run, its own ceiling measured by wrk with
//! 256 posts in flight, and the worker's fan-out of one broadcast to N connections against
//! it. gateway-emulator is ours; this says how close the worker comes to what a server of
//! someone else's can take on this machine.

use std::time::Duration;

use crate::machine::CpuWindow;
use crate::nginx::StandIn;
use crate::options::Settings;
use crate::report::Report;
use crate::stats::figure;
use crate::tools;
use crate::wrk::{Wrk, WrkRun};

mod report;
mod stage;

use stage::{Broadcast, Stage};

/// The Management API latency of the issue's fan-out figures.
const LATENCY: Duration = Duration::from_millis(20);
const STAGE_NAME: &str = "bench";
/// The issue's setting for the ceiling, which is also WORKER_POST_CONCURRENCY's default.
const WRK_CONNECTIONS: usize = 256;
/// This machine's two cores.
const WRK_THREADS: usize = 2;
/// About the size of a broadcast frame the worker posts.
const WRK_BODY: &str = r#"{"action":"send_message","success":true,"messages":[{"id":1,"channel":"all_channel","channel_i18n":"all","body":"benchmark message","user":{"code":"standin0","name":"Bench standin0","image_url":{}},"created_at":"2026-01-01T00:00:00+09:00"}]}"#;

/// The runs, in order: each wrk run is followed by one broadcast.
pub struct Measured {
    pub ceiling: Vec<WrkRun>,
    pub broadcasts: Vec<Broadcast>,
    /// How busy the machine was during each broadcast (wrk's process is gone before a
    /// window around it could read its time, so its runs have none).
    pub cpu: Vec<String>,
}

pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    // Before anything starts: a missing wrk should not cost a database and 10,000 tokens.
    tools::require("wrk", "wrk")?;
    let stand_in = StandIn::start(STAGE_NAME, LATENCY).await?;
    let wrk = Wrk {
        url: stand_in.post_url("wrk-0"),
        connections: WRK_CONNECTIONS,
        threads: WRK_THREADS,
        duration: settings.callbacks_duration,
        body: WRK_BODY.to_owned(),
    };
    let stage = Stage::open(settings, &stand_in).await?;
    // Warm-up, not counted: nginx's workers, the worker's connections and the database.
    Wrk {
        duration: settings.warmup,
        ..wrk.clone()
    }
    .run()
    .await?;
    stage.broadcast(&stand_in).await?;
    let mut measured = Measured {
        ceiling: Vec::new(),
        broadcasts: Vec::new(),
        cpu: Vec::new(),
    };
    for run in 1..=settings.runs {
        let ceiling = wrk.run().await?;
        let window = CpuWindow::start();
        let broadcast = stage.broadcast(&stand_in).await?;
        measured
            .cpu
            .push(format!("fan-out run {run}: {}", window.finish()));
        eprintln!(
            "[bench] stand-in, run {run}: wrk {} posts/s; fan-out to {} in {:.3}s = {} posts/s \
             ({:.2} of the ceiling)",
            figure(ceiling.per_sec),
            broadcast.audience,
            broadcast.took.as_secs_f64(),
            figure(broadcast.posts_per_sec()),
            broadcast.posts_per_sec() / ceiling.per_sec
        );
        measured.ceiling.push(ceiling);
        measured.broadcasts.push(broadcast);
    }
    Ok(report::render(
        settings,
        &stand_in,
        &wrk,
        &Wrk::version().await,
        &stage,
        &measured,
    ))
}
