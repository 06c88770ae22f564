//! The one backoff policy of the worker: a ceiling that doubles with each attempt up to a
//! cap, and optionally full jitter. Every pause between two attempts is one of the constants
//! below, so the timings can be read in one place.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling at attempt 0; it doubles with each attempt.
    base: Duration,
    /// Doublings stop after this many attempts (before the cap, for `JOB`).
    max_doublings: u32,
    cap: Duration,
    /// Full jitter: a random pause between half the ceiling and the ceiling, so retries
    /// of many jobs or connections do not arrive together.
    jitter: bool,
}

impl Backoff {
    /// Between two runs of a failed job: up to 2 s, 4 s, 8 s … 256 s (capped at 5 minutes).
    pub const JOB: Backoff = Backoff {
        base: Duration::from_secs(1),
        max_doublings: 8,
        cap: Duration::from_secs(300),
        jitter: true,
    };

    /// Between two POSTs to one connection within a run: up to 100 ms, 200 ms … 2 s.
    pub const CONNECTION: Backoff = Backoff {
        base: Duration::from_millis(50),
        max_doublings: 6,
        cap: Duration::from_secs(2),
        jitter: true,
    };

    /// Between two failed claims (Redis trouble): 200 ms, 400 ms … 3.2 s. One worker per
    /// queue claims, so there is nobody to spread out from.
    pub const CLAIM: Backoff = Backoff {
        base: Duration::from_millis(100),
        max_doublings: 5,
        cap: Duration::MAX,
        jitter: false,
    };

    /// Between two attempts to subscribe again after the relay lost its Redis: up to 500 ms,
    /// 1 s … 5 s. Every worker resubscribes after an outage, so they are spread out.
    pub const RESUBSCRIBE: Backoff = Backoff {
        base: Duration::from_millis(250),
        max_doublings: 5,
        cap: Duration::from_secs(5),
        jitter: true,
    };

    /// The pause after the `attempt`-th failure.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << attempt.min(self.max_doublings))
            .min(self.cap);
        if !self.jitter {
            return ceiling;
        }
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;

    #[test]
    fn jittered_delays_lie_between_half_the_ceiling_and_the_ceiling() {
        for (backoff, attempt, ceiling_ms) in [
            (Backoff::JOB, 1, 2_000),
            (Backoff::JOB, 30, 256_000),
            (Backoff::CONNECTION, 1, 100),
            (Backoff::CONNECTION, 30, 2_000),
            (Backoff::RESUBSCRIBE, 1, 500),
            (Backoff::RESUBSCRIBE, 30, 5_000),
        ] {
            let delay = backoff.delay(attempt);
            let ceiling = Duration::from_millis(ceiling_ms);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{backoff:?} after {attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn claim_backoff_has_no_jitter() {
        assert_eq!(Backoff::CLAIM.delay(1), Duration::from_millis(200));
        assert_eq!(Backoff::CLAIM.delay(5), Duration::from_millis(3_200));
        assert_eq!(Backoff::CLAIM.delay(40), Duration::from_millis(3_200));
    }
}
