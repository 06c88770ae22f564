//! The account's request quota (`EMULATOR_ACCOUNT_RPS`): API Gateway throttles an account
//! beyond its steady rate (10,000 requests/s by default) once its burst (5,000) is spent,
//! answering 429 `LimitExceededException`. Modelled as AWS describes it, a token bucket
//! refilled at the rate and holding the burst.

use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub struct AccountQuota {
    per_second: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl AccountQuota {
    /// `None` when `per_second` is 0 (no quota). A burst of 0 is half the rate, AWS's ratio.
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        if per_second == 0 {
            return None;
        }
        let burst = if burst == 0 {
            (per_second / 2).max(1)
        } else {
            burst
        };
        Some(Self {
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(burst),
                at: Instant::now(),
            }),
        })
    }

    /// Whether one more request fits in the quota now (and counts it if so).
    pub fn admit(&self) -> bool {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_the_burst_requests_are_refused() {
        let quota = AccountQuota::new(10, 5).unwrap();
        let admitted = (0..50).filter(|_| quota.admit()).count();
        // The burst, and what the rate refilled while the loop ran (well under 1 s).
        assert!((5..=14).contains(&admitted), "{admitted}");
    }

    #[test]
    fn zero_is_no_quota_and_the_burst_defaults_to_half_the_rate() {
        assert!(AccountQuota::new(0, 0).is_none());
        let quota = AccountQuota::new(1_000, 0).unwrap();
        assert_eq!(quota.burst, 500.0);
    }
}
