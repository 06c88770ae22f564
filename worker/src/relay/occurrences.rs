//! How many times this process received one published message within a window. Every
//! worker receives every publication, so they all count alike: the count names the copy
//! ("the second `{"x":1}` on all_channel this minute"), and exactly one worker claims each.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub struct Occurrences {
    window: Duration,
    /// Arrivals, oldest first, for forgetting them when they leave the window.
    arrivals: VecDeque<(Instant, String)>,
    counts: HashMap<String, u32>,
}

impl Occurrences {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            arrivals: VecDeque::new(),
            counts: HashMap::new(),
        }
    }

    /// Records an arrival of `digest` at `now`; which copy within the window it is (from 1).
    pub fn record(&mut self, digest: &str, now: Instant) -> u32 {
        self.forget_before(now);
        self.arrivals.push_back((now, digest.to_owned()));
        let count = self.counts.entry(digest.to_owned()).or_default();
        *count += 1;
        *count
    }

    fn forget_before(&mut self, now: Instant) {
        while let Some((at, _)) = self.arrivals.front() {
            if now.duration_since(*at) < self.window {
                return;
            }
            let Some((_, digest)) = self.arrivals.pop_front() else {
                return;
            };
            if let Some(count) = self.counts.get_mut(&digest) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(&digest);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_numbered_within_the_window_and_forgotten_after_it() {
        let window = Duration::from_secs(60);
        let mut seen = Occurrences::new(window);
        let start = Instant::now();
        assert_eq!(seen.record("a", start), 1);
        assert_eq!(seen.record("b", start), 1);
        assert_eq!(seen.record("a", start + Duration::from_secs(1)), 2);
        // The first "a" and the "b" left the window; the second "a" did not.
        let later = start + window;
        assert_eq!(seen.record("a", later), 2);
        assert_eq!(seen.record("b", later), 1);
        assert_eq!(seen.counts.len(), 2);
        seen.record("c", later + window * 2);
        assert_eq!(seen.counts.len(), 1, "nothing outlives the window");
    }
}
