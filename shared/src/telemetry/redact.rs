//! Configured secrets are replaced in every log line before it is written.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// What a redacted secret reads as.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not worth the name of a secret, and replacing them would garble
/// ordinary words in every line.
const MIN_SECRET_CHARS: usize = 6;

/// Variables that hold a secret as a whole.
const SECRET_VARIABLES: [&str; 6] = [
    "ADMIN_API_KEY",
    "GATEWAY_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "EMULATOR_GATEWAY_SECRET",
];

/// Variables holding URLs whose password is a secret.
const URL_VARIABLES: [&str; 3] = ["DATABASE_URL", "REDIS_URL", "INTEROP_REDIS_URL"];

/// The secrets of this process's environment.
pub fn configured_secrets() -> Vec<String> {
    let mut secrets: Vec<String> = SECRET_VARIABLES
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_owned())
        .collect();
    for name in URL_VARIABLES {
        if let Ok(urls) = std::env::var(name) {
            // REDIS_URL may list several cluster nodes.
            for password in urls.split(',').filter_map(url_password) {
                secrets.push(percent_decoded(&password));
                secrets.push(password);
            }
        }
    }
    secrets.retain(|secret| secret.chars().count() >= MIN_SECRET_CHARS);
    // Longest first, so that a secret containing another is replaced whole.
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    secrets
}

/// The password of `scheme://user:password@host/...`, as written.
fn url_password(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_owned())
}

/// `%40` → `@`: clients log the password they decoded from the URL.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok());
        match (
            bytes[i],
            hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Replaces every secret in `line`.
pub fn redact(line: &str, secrets: &[String]) -> String {
    secrets.iter().fold(line.to_owned(), |line, secret| {
        line.replace(secret.as_str(), REDACTED)
    })
}

/// Standard error, through [`redact`].
#[derive(Clone)]
pub struct RedactingStderr {
    secrets: std::sync::Arc<[String]>,
}

impl RedactingStderr {
    pub fn new(secrets: Vec<String>) -> Self {
        Self {
            secrets: secrets.into(),
        }
    }
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            secrets: &self.secrets,
        }
    }
}

/// Writes one formatted event, redacted; the formatter hands over a whole event per write.
pub struct RedactingWriter<'a> {
    secrets: &'a [String],
}

impl Write for RedactingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut stderr = io::stderr().lock();
        if self.secrets.is_empty() {
            stderr.write_all(buf)?;
        } else {
            let line = String::from_utf8_lossy(buf);
            stderr.write_all(redact(&line, self.secrets).as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_come_out_of_urls() {
        let password = |url| url_password(url);
        assert_eq!(
            password("postgres://app:s3cr%40t@db:5432/app").as_deref(),
            Some("s3cr%40t")
        );
        assert_eq!(
            password("rediss://:hunter22@cache:6380").as_deref(),
            Some("hunter22")
        );
        assert_eq!(password("redis://cache:6379"), None);
        assert_eq!(password("sqlite://wsgw.sqlite3?mode=rwc"), None);
        assert_eq!(password("postgres://app@db/app?x=a:b@c"), None);
        assert_eq!(percent_decoded("s3cr%40t%2"), "s3cr@t%2");
    }

    #[test]
    fn every_secret_is_replaced_longest_first() {
        let secrets = vec!["abcdefgh-long".to_owned(), "abcdefgh".to_owned()];
        assert_eq!(
            redact("key=abcdefgh-long other=abcdefgh", &secrets),
            "key=[redacted] other=[redacted]"
        );
        assert_eq!(redact("nothing here", &secrets), "nothing here");
    }
}
