//! What one worker holds between draws from the shared bucket: a few permits drawn ahead,
//! and its own pacing for when Redis cannot be asked.

use std::time::Duration;

use tokio::time::Instant;

/// Permits drawn ahead are dropped after this: used later, they would add to a burst the
/// shared bucket no longer accounts for.
const PERMITS_KEEP: Duration = Duration::from_secs(1);

/// Permits drawn from the shared bucket and not used yet.
#[derive(Debug)]
pub struct Pool {
    permits: u32,
    until: Instant,
}

impl Pool {
    pub fn new() -> Self {
        Self {
            permits: 0,
            until: Instant::now(),
        }
    }

    pub fn take(&mut self) -> bool {
        if self.permits == 0 || Instant::now() >= self.until {
            self.permits = 0;
            return false;
        }
        self.permits -= 1;
        true
    }

    pub fn fill(&mut self, permits: u32) {
        self.fill_until(permits, Instant::now() + PERMITS_KEEP);
    }

    fn fill_until(&mut self, permits: u32, until: Instant) {
        self.permits = permits;
        self.until = until;
    }

    pub fn clear(&mut self) {
        self.permits = 0;
    }
}

/// One worker's pacing at its share of the rate, while Redis cannot be asked: calls are
/// spaced evenly, never bunched.
#[derive(Debug)]
pub struct Pacer {
    next: Instant,
}

impl Pacer {
    pub fn new() -> Self {
        Self {
            next: Instant::now(),
        }
    }

    /// The instant the next call may start at `per_second`, booked for it.
    pub fn book(&mut self, per_second: f64) -> Instant {
        let now = Instant::now();
        let slot = self.next.max(now);
        self.next = slot + Duration::from_secs_f64(1.0 / per_second.max(1.0));
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_hands_out_what_it_was_filled_with() {
        let mut pool = Pool::new();
        assert!(!pool.take());
        pool.fill(2);
        assert!(pool.take());
        assert!(pool.take());
        assert!(!pool.take());
    }

    #[test]
    fn permits_drawn_ahead_expire() {
        let mut pool = Pool::new();
        pool.fill_until(5, Instant::now());
        assert!(!pool.take());
    }

    #[test]
    fn the_pacer_spaces_calls_at_the_rate() {
        let mut pacer = Pacer::new();
        let first = pacer.book(10.0);
        let later: Vec<Duration> = (0..3).map(|_| pacer.book(10.0) - first).collect();
        assert_eq!(later, [100, 200, 300].map(Duration::from_millis).to_vec());
    }
}
