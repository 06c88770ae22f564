//! Typed reads of environment variables: every failure names its variable.

use std::collections::HashMap;
use std::str::FromStr;

/// A configuration value that could not be used; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

/// Where variables come from: the process environment, or a map in tests.
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// Reads `.env` (when present, without overriding real variables) and the environment.
    pub fn from_process() -> Self {
        let _ = dotenvy::dotenv();
        Self::from_map(std::env::vars().collect())
    }

    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars }
    }

    /// An environment of just these variables, for tests.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_map(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn optional(&self, variable: &str) -> Option<String> {
        self.vars
            .get(variable)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// Whether the variable is present at all, even blank (`X=` can mean "off").
    pub fn is_present(&self, variable: &str) -> bool {
        self.vars.contains_key(variable)
    }

    pub fn string(&self, variable: &str, default: &str) -> String {
        self.optional(variable)
            .unwrap_or_else(|| default.to_owned())
    }

    /// Parses the value with `FromStr`, or returns `default` when unset.
    pub fn parse<T>(&self, variable: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(variable) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|error| ConfigError::new(variable, format!("{raw:?}: {error}"))),
        }
    }

    /// Like `parse`, then checks the value lies in `min..=max`.
    pub fn ranged<T>(
        &self,
        variable: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
        T::Err: std::fmt::Display,
    {
        let value = self.parse(variable, default)?;
        if value < min || value > max {
            return Err(ConfigError::new(
                variable,
                format!("{value} is outside {min}..={max}"),
            ));
        }
        Ok(value)
    }

    pub fn flag(&self, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(variable).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::new(
                variable,
                format!("{v:?} is not true or false"),
            )),
        }
    }
}
