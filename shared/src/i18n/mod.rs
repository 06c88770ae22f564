//! Localized alerts, channel names and date-times, from `locales/<locale>.yml`.
//!
//! The files are compiled in and checked by a test: every [`Alert`] has a text in
//! every locale, so a lookup at run time cannot miss.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, Utc};

use crate::domain::ChannelKind;

mod alert;

pub use alert::Alert;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Ja,
    En,
}

impl std::str::FromStr for Locale {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.to_ascii_lowercase().as_str() {
            "ja" => Ok(Self::Ja),
            "en" => Ok(Self::En),
            other => Err(format!("{other:?} is not a supported locale (ja, en)")),
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct Catalog {
    alerts: HashMap<String, String>,
    channels: HashMap<String, String>,
    time_format: String,
}

fn catalog(locale: Locale) -> &'static Catalog {
    static JA: OnceLock<Catalog> = OnceLock::new();
    static EN: OnceLock<Catalog> = OnceLock::new();
    let (cell, source) = match locale {
        Locale::Ja => (&JA, include_str!("../../locales/ja.yml")),
        Locale::En => (&EN, include_str!("../../locales/en.yml")),
    };
    // The files are part of the binary and parsed by a unit test; they cannot be malformed here.
    cell.get_or_init(|| serde_yaml::from_str(source).expect("locale file is valid YAML"))
}

impl Locale {
    pub fn alert(self, alert: Alert) -> &'static str {
        catalog(self)
            .alerts
            .get(alert.key())
            .map(String::as_str)
            .unwrap_or(alert.key())
    }

    /// The localized name of a channel's kind.
    pub fn channel_name(self, kind: ChannelKind) -> &'static str {
        let key = match kind {
            ChannelKind::All => "all_channel",
            ChannelKind::User => "user_channel",
        };
        catalog(self)
            .channels
            .get(key)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn date_time(self, at: DateTime<Utc>, zone: FixedOffset) -> String {
        at.with_timezone(&zone)
            .format(&catalog(self).time_format)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_has_a_text_in_every_locale() {
        for locale in [Locale::Ja, Locale::En] {
            for alert in Alert::ALL {
                assert!(
                    catalog(locale).alerts.contains_key(alert.key()),
                    "{locale:?} lacks {}",
                    alert.key()
                );
            }
            assert_eq!(catalog(locale).channels.len(), 2);
        }
        assert_eq!(
            Locale::Ja.alert(Alert::TokenBlank),
            "トークンが指定されていません。"
        );
    }

    #[test]
    fn date_time_uses_the_locale_format_and_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T01:02:03Z")
            .unwrap()
            .to_utc();
        let jst = FixedOffset::east_opt(9 * 3600).unwrap();
        assert_eq!(Locale::Ja.date_time(at, jst), "2026/11/25 10:02:03");
        assert_eq!(Locale::En.channel_name(ChannelKind::User), "Direct");
    }
}
