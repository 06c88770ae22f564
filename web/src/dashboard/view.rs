//! The dashboard page: queues over time, live connections, dead jobs, recent broadcasts.

use chrono::{DateTime, TimeZone, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use shared::queries::connections::LiveConnections;
use shared::queue::{DeadJob, QueueCounts, QueueName};
use shared::recent_broadcasts::BroadcastSummary;

use super::history::Sample;
use super::sparkline::sparkline;
use super::urls;

/// Everything the page shows, read for this request.
pub struct Overview {
    pub history: Vec<Sample>,
    pub now: Sample,
    pub dead: Vec<(QueueName, Vec<DeadJob>)>,
    pub connections: LiveConnections,
    /// Sockets on this replica's `/cable`.
    pub cable_sockets: usize,
    pub broadcasts: Vec<BroadcastSummary>,
    pub notice: Option<String>,
    /// Seconds between automatic reloads, when the operator turned live polling on.
    pub poll_secs: Option<u64>,
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f6f4; }
header { background: #8b1e1e; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: baseline; }
header h1 { margin: 0; font-size: 20px; }
header a { color: #fff; }
main { padding: 0 20px 40px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 4px; margin: 16px 0; padding: 8px 16px 16px; }
h2 { font-size: 16px; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.sparkline { color: #8b1e1e; display: block; }
.notice { background: #e7f4e4; border: 1px solid #9c9; padding: 6px 12px; margin-top: 12px; }
.error { color: #a00; }
.muted { color: #777; }
code { font-size: 12px; word-break: break-all; }
form.inline { display: inline; }
button { cursor: pointer; }
.stat { display: inline-block; margin-right: 32px; }
.stat b { font-size: 22px; display: block; }
"#;

pub fn page(overview: &Overview) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                // No favicon request (web has none to serve).
                link rel="icon" href="data:,";
                @if let Some(secs) = overview.poll_secs {
                    meta http-equiv="refresh" content=(secs);
                }
                title { "wsgw admin" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "wsgw admin" }
                    span.muted { "as of " (time(overview.now.at)) }
                    @if overview.poll_secs.is_some() {
                        a href="/admin" { "Stop live polling" }
                    } @else {
                        a href="/admin?poll=5" { "Live poll (5 s)" }
                    }
                }
                main {
                    @if let Some(notice) = &overview.notice { p.notice role="status" { (notice) } }
                    (queues(overview))
                    (connections(overview))
                    (dead_jobs(&overview.dead))
                    (broadcasts(&overview.broadcasts))
                }
            }
        }
    }
}

/// Counts now, and each state's line over the kept samples.
fn queues(overview: &Overview) -> Markup {
    type State = (&'static str, fn(&QueueCounts) -> u64);
    const STATES: [State; 5] = [
        ("ready", |c| c.waiting),
        ("delayed", |c| c.scheduled),
        ("retrying", |c| c.failed),
        ("in flight", |c| c.running),
        ("dead", |c| c.dead),
    ];
    let series = |queue: QueueName, state: fn(&QueueCounts) -> u64| -> Vec<u64> {
        overview
            .history
            .iter()
            .filter_map(|sample| sample.queues.iter().find(|(name, _)| *name == queue))
            .map(|(_, counts)| state(counts))
            .collect()
    };
    html! {
        section #queues {
            h2 { "Queues" }
            p.muted { "Now, and over the last " (overview.history.len()) " samples (one line per state, scaled to its own peak)." }
            table {
                thead { tr { th { "queue" } @for (label, _) in STATES { th.num { (label) } } } }
                tbody {
                    @for (queue, counts) in &overview.now.queues {
                        tr data-queue=(queue.as_str()) {
                            th { (queue.as_str()) }
                            @for (label, state) in STATES {
                                td.num data-state=(label) {
                                    b { (state(counts)) }
                                    (sparkline(&format!("{} {label}", queue.as_str()), &series(*queue, state)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn connections(overview: &Overview) -> Markup {
    let live = overview.connections;
    html! {
        section #connections {
            h2 { "Live connections" }
            div.stat { b #api-gateway-connections { (live.api_gateway) } "API Gateway (authenticated, database)" }
            div.stat { b #action-cable-connections { (live.action_cable) } "Action Cable (authenticated, all replicas)" }
            div.stat { b #cable-sockets { (overview.cable_sockets) } "sockets on this replica's /cable" }
        }
    }
}

fn dead_jobs(dead: &[(QueueName, Vec<DeadJob>)]) -> Markup {
    html! {
        section #dead {
            h2 { "Dead jobs" }
            @for (queue, jobs) in dead {
                h3 { (queue.as_str()) " " span.muted { "(" (jobs.len()) " shown)" } }
                @if jobs.is_empty() {
                    p.muted { "None." }
                } @else {
                    form.inline method="post" action=(urls::all(*queue, "retry")) { button { "Retry all" } }
                    " "
                    form.inline method="post" action=(urls::all(*queue, "delete")) { button { "Delete all" } }
                    table {
                        thead { tr { th { "job" } th { "error" } th.num { "attempts" } th { "died at" } th {} } }
                        tbody {
                            @for job in jobs { (dead_job(*queue, job)) }
                        }
                    }
                }
            }
        }
    }
}

fn dead_job(queue: QueueName, job: &DeadJob) -> Markup {
    let payload = job.job.as_ref();
    let name = payload
        .and_then(|json| json["job"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    let args = payload
        .map(|json| shorten(&json["args"].to_string(), 300))
        .unwrap_or_default();
    html! {
        tr.dead-job data-job-id=(job.id) {
            td { b { (name) } br; code { (args) } br; span.muted { "id " (job.id) } }
            td.error { (job.error.as_deref().unwrap_or("")) }
            td.num { (job.attempts) }
            td { (time_ms(job.died_at_ms)) }
            td {
                form.inline method="post" action=(urls::one(queue, &job.id, "retry")) { button { "Retry" } }
                " "
                form.inline method="post" action=(urls::one(queue, &job.id, "delete")) { button { "Delete" } }
            }
        }
    }
}

fn broadcasts(recent: &[BroadcastSummary]) -> Markup {
    html! {
        section #broadcasts {
            h2 { "Recent broadcasts" }
            @if recent.is_empty() {
                p.muted { "None yet." }
            } @else {
                table {
                    thead { tr {
                        th { "finished at" } th.num { "message" } th { "channel" } th.num { "audience" }
                        th.num { "delivered" } th.num { "already had it" } th.num { "gone" }
                        th.num { "failed" } th.num { "to retry" } th.num { "ms" }
                    } }
                    tbody {
                        @for run in recent {
                            tr.broadcast data-message-id=(run.message_id) {
                                td { (time(run.finished_at)) }
                                td.num { (run.message_id) }
                                td { (run.channel) }
                                td.num data-count="audience" { (run.audience) }
                                td.num data-count="delivered" { (run.delivered) }
                                td.num data-count="already" { (run.already_delivered) }
                                td.num data-count="gone" { (run.gone) }
                                td.num data-count="failed" { (run.failed) }
                                td.num data-count="retrying" { (run.retrying) }
                                td.num { (run.duration_ms) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn time_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(time)
        .unwrap_or_else(|| ms.to_string())
}

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
