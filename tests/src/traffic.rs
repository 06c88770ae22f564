//! The Management API traffic the emulator saw between two of its stats snapshots, counted
//! as the account's quota counts it: requests per wall-clock second, and how many of them
//! were refused for being over `EMULATOR_ACCOUNT_RPS`.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// Every signed request, whatever its answer.
    pub requests: u64,
    /// POSTs delivered to a client.
    pub posts_ok: u64,
    /// Requests answered 429 for being over the account quota.
    pub quota_throttled: u64,
    /// Requests per second (Unix seconds) that had any, in order.
    pub per_second: Vec<(u64, u64)>,
}

impl Traffic {
    /// What happened between the `before` and `after` answers of `GET /_emulator/stats`.
    pub fn between(before: &Value, after: &Value) -> Self {
        let count = |stats: &Value, name: &str| stats[name].as_u64().unwrap_or(0);
        let seconds = |stats: &Value| -> BTreeMap<u64, u64> {
            stats["management_per_second"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|entry| (count(entry, "second"), count(entry, "requests")))
                .collect()
        };
        let earlier = seconds(before);
        let per_second: Vec<(u64, u64)> = seconds(after)
            .into_iter()
            .map(|(second, requests)| {
                let already = earlier.get(&second).copied().unwrap_or(0);
                (second, requests - already)
            })
            .filter(|(_, requests)| *requests > 0)
            .collect();
        Self {
            requests: per_second.iter().map(|(_, requests)| requests).sum(),
            posts_ok: count(after, "posts_ok") - count(before, "posts_ok"),
            quota_throttled: count(after, "quota_throttled") - count(before, "quota_throttled"),
            per_second,
        }
    }

    /// The busiest second.
    pub fn peak_per_second(&self) -> u64 {
        self.per_second
            .iter()
            .map(|(_, requests)| *requests)
            .max()
            .unwrap_or(0)
    }

    /// Requests per second over the whole seconds between the first and the last one (the
    /// first and last are partial); over everything when there are no such seconds.
    pub fn sustained_per_second(&self) -> f64 {
        match self.per_second.as_slice() {
            [] => 0.0,
            [(first, _), .., (last, _)] if last - first >= 2 => {
                let inner: u64 = self
                    .per_second
                    .iter()
                    .filter(|(second, _)| second > first && second < last)
                    .map(|(_, requests)| requests)
                    .sum();
                inner as f64 / (last - first - 1) as f64
            }
            _ => self.requests as f64,
        }
    }

    /// Throttled requests as a share of all requests.
    pub fn throttled_share(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.quota_throttled as f64 / self.requests as f64
    }

    pub fn describe(&self) -> String {
        format!(
            "{} requests, {} posts delivered, {} throttled (429, {:.2} %), {:.0}/s sustained, \
             {}/s in the busiest second",
            self.requests,
            self.posts_ok,
            self.quota_throttled,
            self.throttled_share() * 100.0,
            self.sustained_per_second(),
            self.peak_per_second()
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn counts_only_what_happened_in_between() {
        let before = json!({"posts_ok": 10, "quota_throttled": 1, "management_per_second": [
            {"second": 100, "requests": 10}, {"second": 101, "requests": 4}]});
        let after = json!({"posts_ok": 40, "quota_throttled": 3, "management_per_second": [
            {"second": 100, "requests": 10}, {"second": 101, "requests": 6},
            {"second": 102, "requests": 12}, {"second": 103, "requests": 10},
            {"second": 104, "requests": 3}]});
        let traffic = Traffic::between(&before, &after);
        assert_eq!(
            traffic.per_second,
            [(101, 2), (102, 12), (103, 10), (104, 3)]
        );
        assert_eq!(traffic.requests, 27);
        assert_eq!((traffic.posts_ok, traffic.quota_throttled), (30, 2));
        assert_eq!(traffic.peak_per_second(), 12);
        assert_eq!(traffic.sustained_per_second(), 11.0);
    }
}
