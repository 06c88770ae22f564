//! Settings of web's browser pages: the `/admin` dashboard and the `/demo` chat page.

use std::time::Duration;

use super::{ConfigError, Env};

#[derive(Debug, Clone)]
pub struct PagesSettings {
    /// `DEMO_PAGE`: serve `/demo` and its token endpoint (off by default: the endpoint
    /// creates users and issues tokens for anyone who asks).
    pub demo_page: bool,
    /// `DEMO_GATEWAY_URL`: where the demo page's `API Gateway` path connects.
    pub demo_gateway_url: String,
    /// `ADMIN_SAMPLE_SECS`: how often the dashboard samples the queue depths.
    pub sample_interval: Duration,
    /// `ADMIN_SAMPLES`: how many samples the dashboard keeps (its history).
    pub samples_kept: usize,
}

impl PagesSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let demo_gateway_url = env.string("DEMO_GATEWAY_URL", "ws://127.0.0.1:4000/local");
        let parsed = url::Url::parse(&demo_gateway_url)
            .map_err(|error| ConfigError::new("DEMO_GATEWAY_URL", error.to_string()))?;
        if !matches!(parsed.scheme(), "ws" | "wss") {
            return Err(ConfigError::new(
                "DEMO_GATEWAY_URL",
                format!("{demo_gateway_url:?} is not a ws:// or wss:// URL"),
            ));
        }
        Ok(Self {
            demo_page: env.flag("DEMO_PAGE", false)?,
            demo_gateway_url,
            sample_interval: Duration::from_secs(env.ranged("ADMIN_SAMPLE_SECS", 5, 1, 3_600)?),
            samples_kept: env.ranged("ADMIN_SAMPLES", 120, 2, 10_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_the_demo_off() {
        let settings = PagesSettings::from_env(&Env::from_pairs(&[])).unwrap();
        assert!(!settings.demo_page);
        assert_eq!(settings.demo_gateway_url, "ws://127.0.0.1:4000/local");
        assert_eq!(settings.sample_interval, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("DEMO_PAGE", "maybe"),
            ("DEMO_GATEWAY_URL", "http://127.0.0.1:4000/local"),
            ("DEMO_GATEWAY_URL", "not a url"),
            ("ADMIN_SAMPLE_SECS", "0"),
            ("ADMIN_SAMPLES", "1"),
        ] {
            let error =
                PagesSettings::from_env(&Env::from_pairs(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
