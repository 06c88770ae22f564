//! Queue depths over time: web samples every queue every `ADMIN_SAMPLE_SECS` into a ring
//! buffer of `ADMIN_SAMPLES` entries, which the dashboard draws. Each replica keeps its own
//! (the queues are shared, so every replica sees the same depths).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use shared::queue::{QueueCounts, QueueName, Queues};
use tokio_util::sync::CancellationToken;

/// Every queue's counts at one moment.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// In the order of [`QueueName::ALL`].
    pub queues: Vec<(QueueName, QueueCounts)>,
}

/// The newest samples, oldest first. Cheap to clone.
#[derive(Clone)]
pub struct QueueHistory {
    samples: Arc<Mutex<VecDeque<Sample>>>,
    capacity: usize,
}

impl QueueHistory {
    pub fn new(capacity: usize) -> Self {
        Self {
            samples: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity,
        }
    }

    pub fn push(&self, sample: Sample) {
        let mut samples = self.lock();
        if samples.len() == self.capacity {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Sample>> {
        self.samples
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Samples until `stop`; a sample Redis cannot give is skipped (a gap in the chart).
    pub async fn sample_every(self, queues: Queues, every: Duration, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match take_sample(&queues).await {
                Ok(sample) => self.push(sample),
                Err(error) => tracing::debug!(%error, "queue sample skipped"),
            }
        }
    }
}

pub async fn take_sample(queues: &Queues) -> Result<Sample, shared::queue::QueueError> {
    let mut counts = Vec::with_capacity(QueueName::ALL.len());
    for name in QueueName::ALL {
        counts.push((name, queues.get(name).counts().await?));
    }
    Ok(Sample {
        at: Utc::now(),
        queues: counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(waiting: u64) -> Sample {
        let counts = QueueCounts {
            waiting,
            ..QueueCounts::default()
        };
        Sample {
            at: Utc::now(),
            queues: vec![(QueueName::Default, counts)],
        }
    }

    #[test]
    fn keeps_only_the_newest_samples() {
        let history = QueueHistory::new(3);
        for waiting in 1..=5 {
            history.push(sample(waiting));
        }
        let kept: Vec<u64> = history
            .samples()
            .iter()
            .map(|sample| sample.queues[0].1.waiting)
            .collect();
        assert_eq!(kept, [3, 4, 5]);
    }
}
