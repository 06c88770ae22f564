//! Fault injection for Management API POSTs: latency, throttling (429) and errors (500).
//!
//! The settings live in atomics so every POST reads them without a lock and
//! `PUT /_emulator/faults` changes them while the emulator runs.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A fraction between 0.0 and 1.0 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Rate(f64);

impl Rate {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Rate {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("{value} is not between 0.0 and 1.0"))
        }
    }
}

impl From<Rate> for f64 {
    fn from(rate: Rate) -> f64 {
        rate.0
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not a number"))?;
        Self::try_from(value)
    }
}

/// The fault settings as `GET /_emulator/faults` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaultSettings {
    pub post_latency_ms: u64,
    pub throttle_rate: Rate,
    pub error_rate: Rate,
}

/// A `PUT /_emulator/faults` body: fields left out keep their current value.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultUpdate {
    pub post_latency_ms: Option<u64>,
    pub throttle_rate: Option<Rate>,
    pub error_rate: Option<Rate>,
}

/// What an injected fault does to one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    Nothing,
    Throttle,
    Error,
}

#[derive(Debug)]
pub struct Faults {
    post_latency_ms: AtomicU64,
    // f64 bit patterns: there is no AtomicF64, and these are only ever loaded and stored whole.
    throttle_rate: AtomicU64,
    error_rate: AtomicU64,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Self {
        Self {
            post_latency_ms: AtomicU64::new(settings.post_latency_ms),
            throttle_rate: AtomicU64::new(settings.throttle_rate.0.to_bits()),
            error_rate: AtomicU64::new(settings.error_rate.0.to_bits()),
        }
    }

    pub fn settings(&self) -> FaultSettings {
        FaultSettings {
            post_latency_ms: self.post_latency_ms.load(Ordering::Relaxed),
            throttle_rate: Rate(f64::from_bits(self.throttle_rate.load(Ordering::Relaxed))),
            error_rate: Rate(f64::from_bits(self.error_rate.load(Ordering::Relaxed))),
        }
    }

    pub fn update(&self, update: FaultUpdate) -> FaultSettings {
        if let Some(ms) = update.post_latency_ms {
            self.post_latency_ms.store(ms, Ordering::Relaxed);
        }
        if let Some(rate) = update.throttle_rate {
            self.throttle_rate
                .store(rate.0.to_bits(), Ordering::Relaxed);
        }
        if let Some(rate) = update.error_rate {
            self.error_rate.store(rate.0.to_bits(), Ordering::Relaxed);
        }
        self.settings()
    }

    /// The delay to apply before delivering a POST, if any.
    pub fn post_latency(&self) -> Option<Duration> {
        match self.post_latency_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    /// Decides whether this POST is throttled, fails, or goes through. One draw serves both
    /// rates, so with throttle 0.2 and error 0.3 exactly those fractions fail (on average).
    pub fn roll(&self) -> Injected {
        let throttle = f64::from_bits(self.throttle_rate.load(Ordering::Relaxed));
        let error = f64::from_bits(self.error_rate.load(Ordering::Relaxed));
        // The common case, no faults configured, costs no random number.
        if throttle <= 0.0 && error <= 0.0 {
            return Injected::Nothing;
        }
        let draw: f64 = rand::rng().random();
        if draw < throttle {
            Injected::Throttle
        } else if draw < throttle + error {
            Injected::Error
        } else {
            Injected::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_rejects_values_outside_zero_to_one() {
        assert!("1.5".parse::<Rate>().is_err());
        assert!("-0.1".parse::<Rate>().is_err());
        assert!("abc".parse::<Rate>().is_err());
        assert_eq!("0.25".parse::<Rate>(), Ok(Rate(0.25)));
    }

    #[test]
    fn full_rates_always_inject() {
        let faults = Faults::new(FaultSettings {
            post_latency_ms: 0,
            throttle_rate: Rate(1.0),
            error_rate: Rate(0.0),
        });
        assert_eq!(faults.roll(), Injected::Throttle);
        faults.update(FaultUpdate {
            throttle_rate: Some(Rate(0.0)),
            error_rate: Some(Rate(1.0)),
            ..FaultUpdate::default()
        });
        assert_eq!(faults.roll(), Injected::Error);
    }
}
