//! The highest rate the stack holds: short steps of the latency benchmark's steady stream,
//! doubling from a low rate until p99 passes the target (or a delivery goes missing), then
//! bisecting between the highest rate that held and the lowest that did not. Every step
//! starts on a quiet stack: a stream waits for web's answer to each of its frames, and the
//! next one for an empty queue. The step budget bounds the time: an overloaded step can
//! leave at most about its own length of backlog, since the rate only doubles past a rate
//! that held.

use std::time::Duration;

use crate::fanout::Stage;
use crate::latency::{self, Stream, TARGET_P99_MS};
use crate::options::Settings;
use crate::report::{Report, Row};
use crate::stats::figure;

/// The search stops once the bracket is narrower than 1/PRECISION of the rate that held.
const PRECISION: u64 = 16;

/// The steps a search may take.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Messages/s of the first step.
    pub start: u64,
    pub step: Duration,
    /// How long deliveries may trail a step's last send before the step counts as failed.
    pub drain: Duration,
    pub max_steps: usize,
    /// No step goes above this rate.
    pub ceiling: u64,
}

impl Plan {
    /// From an eighth of the benchmark's rate up to eight times it, in 3 s steps; with
    /// `--tiny`, a few 1 s steps.
    pub fn for_settings(settings: &Settings) -> Self {
        let rate = settings.rate;
        if settings.tiny {
            Self {
                start: (rate / 4).max(1),
                step: Duration::from_secs(1),
                drain: Duration::from_secs(2),
                max_steps: 3,
                ceiling: rate * 4,
            }
        } else {
            Self {
                start: (rate / 8).max(1),
                step: Duration::from_secs(3),
                drain: Duration::from_secs(3),
                max_steps: 10,
                ceiling: rate * 8,
            }
        }
    }
}

/// One step: a stream at `rate` and whether it held.
#[derive(Debug, Clone)]
pub struct Step {
    pub rate: u64,
    pub held: bool,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub received: u64,
    pub expected: u64,
}

impl Step {
    fn of(rate: u64, stream: &Stream) -> Self {
        let p99_ms = stream.latencies.quantile_ms(0.99);
        Self {
            rate,
            held: stream.received == stream.expected
                && stream.refused == 0
                && p99_ms <= TARGET_P99_MS,
            p50_ms: stream.latencies.quantile_ms(0.5),
            p99_ms,
            received: stream.received,
            expected: stream.expected,
        }
    }
}

pub struct Search {
    pub plan: Plan,
    pub steps: Vec<Step>,
}

impl Search {
    /// The highest rate that held.
    pub fn best(&self) -> Option<&Step> {
        self.steps
            .iter()
            .filter(|step| step.held)
            .max_by_key(|step| step.rate)
    }
}

pub async fn highest_rate(stage: &mut Stage, plan: &Plan) -> anyhow::Result<Search> {
    let label = stage.stack.build().label;
    let mut steps: Vec<Step> = Vec::new();
    let mut rate = plan.start;
    while steps.len() < plan.max_steps {
        let stream = latency::stream(stage, rate, plan.step, plan.drain).await?;
        let step = Step::of(rate, &stream);
        eprintln!(
            "[bench] latency search ({label}): {rate} msg/s {}: p50 {} ms, p99 {} ms, {} of {} \
             delivered",
            if step.held { "held" } else { "did not hold" },
            figure(step.p50_ms),
            figure(step.p99_ms),
            step.received,
            step.expected
        );
        steps.push(step);
        let held = steps.iter().filter(|s| s.held).map(|s| s.rate).max();
        let failed = steps.iter().filter(|s| !s.held).map(|s| s.rate).min();
        let Some(next) = next_rate(held, failed, plan.ceiling) else {
            break;
        };
        rate = next;
    }
    Ok(Search {
        plan: plan.clone(),
        steps,
    })
}

/// The next rate to try, or `None` when the answer is narrow enough (or the ceiling held, or
/// even 1 msg/s did not).
fn next_rate(held: Option<u64>, failed: Option<u64>, ceiling: u64) -> Option<u64> {
    match (held, failed) {
        (Some(held), None) => (held < ceiling).then(|| (held * 2).min(ceiling)),
        (None, Some(failed)) => (failed > 1).then_some(failed / 2),
        (Some(held), Some(failed)) => {
            let gap = failed.saturating_sub(held);
            (gap > (held / PRECISION).max(1)).then_some(held + gap / 2)
        }
        (None, None) => None,
    }
}

/// The search's rows (the highest rate that held, p50 and p99 at it) and its steps as a note.
pub fn describe(search: &Search, report: &mut Report) {
    let setting = format!("highest rate with p99 ≤ {TARGET_P99_MS:.0} ms");
    let best = search.best();
    let value = |pick: fn(&Step) -> f64| vec![best.map_or(f64::NAN, pick)];
    report.row(Row::new(&setting, "msg/s", value(|s| s.rate as f64)));
    report.row(Row::new(
        &setting,
        "send → delivered p50 at that rate (ms)",
        value(|s| s.p50_ms),
    ));
    report.row(Row::new(
        &setting,
        "send → delivered p99 at that rate (ms)",
        value(|s| s.p99_ms),
    ));
    let steps: Vec<String> = search
        .steps
        .iter()
        .map(|step| {
            format!(
                "{} msg/s {} (p99 {} ms, {} of {} delivered)",
                step.rate,
                if step.held { "held" } else { "did not hold" },
                figure(step.p99_ms),
                step.received,
                step.expected
            )
        })
        .collect();
    let ceiling = match best {
        Some(step) if step.rate >= search.plan.ceiling => {
            " The search's ceiling held: the stack holds at least that."
        }
        None => " No step held.",
        _ => "",
    };
    report.note(format!(
        "Search for the highest rate: steps of {} s on the same clients, doubling from {} msg/s \
         until a step does not hold (p99 above {TARGET_P99_MS:.0} ms, or a delivery missing {} s \
         after the last send), then bisecting; each step starts once the previous one's frames \
         are answered and the queue is empty. Steps: {}.{ceiling}",
        search.plan.step.as_secs(),
        search.plan.start,
        search.plan.drain.as_secs(),
        steps.join("; ")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_bisects() {
        assert_eq!(next_rate(Some(100), None, 8000), Some(200));
        assert_eq!(next_rate(Some(6000), None, 8000), Some(8000));
        assert_eq!(next_rate(Some(8000), None, 8000), None);
        assert_eq!(next_rate(None, Some(100), 8000), Some(50));
        assert_eq!(next_rate(None, Some(1), 8000), None);
        assert_eq!(next_rate(Some(400), Some(800), 8000), Some(600));
        assert_eq!(next_rate(Some(600), Some(630), 8000), None);
        // A noisy machine: a rate held above one that did not; stop there.
        assert_eq!(next_rate(Some(800), Some(600), 8000), None);
    }
}
