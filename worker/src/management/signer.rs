//! SigV4 for `PostToConnection`, on AWS's own primitives (`aws-sigv4`'s signing key and
//! signature): the key is derived once per UTC day for one set of credentials and one
//! region, and the canonical request is written straight from the few parts that change
//! from one POST to the next (the path, the body's length and hash, the time).
//!
//! It signs what the SDK signs for the same request, which the parity test proves: the
//! SDK's settings for this service are the defaults (path normalized and encoded twice, no
//! `x-amz-content-sha256`, the session token signed as `x-amz-security-token`), and of its
//! headers the lean request sends `content-length`, `content-type`, `host` and the
//! signature's own. The SDK's telemetry (`x-amz-user-agent`, and the unsigned invocation id
//! and attempt count) is left out.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use aws_smithy_http::label::{EncodingStrategy, fmt_string};
use chrono::{DateTime, Utc};
use http::HeaderValue;
use sha2::{Digest, Sha256};

/// The signing name of the Management API (`execute-api`), whatever its endpoint.
const SERVICE: &str = "execute-api";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// What the SDK sends a `PostToConnection` body as.
pub(super) const CONTENT_TYPE: &str = "application/octet-stream";
const SIGNED_HEADERS: &str = "content-length;content-type;host;x-amz-date";
const SIGNED_HEADERS_WITH_TOKEN: &str =
    "content-length;content-type;host;x-amz-date;x-amz-security-token";

/// Signs for one region.
#[derive(Debug, Clone)]
pub(super) struct Signer {
    region: String,
}

/// One set of credentials, ready to sign with, and its signing key of the day.
pub(super) struct SigningIdentity {
    credentials: Credentials,
    /// The session token as sent (`x-amz-security-token`), marked sensitive.
    session_token: Option<HeaderValue>,
    /// For the region of the one [`Signer`] this identity is used with.
    day_key: Mutex<Option<DayKey>>,
}

struct DayKey {
    /// `YYYYMMDD`, UTC.
    date: String,
    key: [u8; 32],
}

/// The parts of one POST that its signature covers.
#[derive(Debug, Clone, Copy)]
pub(super) struct PostToSign<'a> {
    /// The `host` header: the endpoint's host, and its port unless the scheme's default.
    pub host: &'a str,
    /// The path as sent, the connection id already encoded.
    pub path: &'a str,
    pub content_length: usize,
    /// Lowercase hex SHA-256 of the body.
    pub body_sha256: &'a str,
}

/// The headers a signature adds to the request.
#[derive(Debug)]
pub(super) struct Signature {
    pub amz_date: HeaderValue,
    pub authorization: HeaderValue,
}

#[derive(Debug, thiserror::Error)]
#[error("the access key id or session token cannot be sent as a header")]
pub(super) struct UnsendableCredentials;

impl Signer {
    pub fn new(region: &str) -> Self {
        Self {
            region: region.to_owned(),
        }
    }

    pub fn sign(
        &self,
        identity: &SigningIdentity,
        post: PostToSign<'_>,
        time: SystemTime,
    ) -> Signature {
        let stamp = DateTime::<Utc>::from(time);
        let amz_date = stamp.format("%Y%m%dT%H%M%SZ").to_string();
        let date = &amz_date[..8];
        let (signed_headers, token) = match &identity.session_token {
            Some(token) => (SIGNED_HEADERS_WITH_TOKEN, Some(token)),
            None => (SIGNED_HEADERS, None),
        };

        let mut canonical = String::with_capacity(512);
        canonical.push_str("POST\n");
        canonical.push_str(&canonical_path(post.path));
        // An empty query string.
        canonical.push_str("\n\n");
        let _ = writeln!(canonical, "content-length:{}", post.content_length);
        let _ = writeln!(canonical, "content-type:{CONTENT_TYPE}");
        let _ = writeln!(canonical, "host:{}", post.host);
        let _ = writeln!(canonical, "x-amz-date:{amz_date}");
        if let Some(token) = token {
            canonical.push_str("x-amz-security-token:");
            // Checked to be text when the identity was made.
            canonical.push_str(token.to_str().unwrap_or_default());
            canonical.push('\n');
        }
        canonical.push('\n');
        canonical.push_str(signed_headers);
        canonical.push('\n');
        canonical.push_str(post.body_sha256);

        let scope = format!("{date}/{}/{SERVICE}/aws4_request", self.region);
        let string_to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let key = identity.key_for(date, time, &self.region);
        let signature = calculate_signature(key, string_to_sign.as_bytes());
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            identity.credentials.access_key_id()
        );
        let mut authorization = HeaderValue::try_from(authorization)
            .expect("an access key id is header text (checked when the identity was made)");
        authorization.set_sensitive(true);
        Signature {
            amz_date: HeaderValue::try_from(amz_date).expect("a date is header text"),
            authorization,
        }
    }
}

impl std::fmt::Debug for SigningIdentity {
    /// The access key id only: neither the secret, the token nor the key is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity")
            .field("access_key_id", &self.credentials.access_key_id())
            .finish_non_exhaustive()
    }
}

impl SigningIdentity {
    pub fn new(credentials: Credentials) -> Result<Self, UnsendableCredentials> {
        if HeaderValue::from_str(credentials.access_key_id()).is_err() {
            return Err(UnsendableCredentials);
        }
        let session_token = match credentials.session_token() {
            Some(token) => {
                // Signed and sent as it is, as the SDK's signer does.
                let mut value = HeaderValue::from_str(token).map_err(|_| UnsendableCredentials)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            credentials,
            session_token,
            day_key: Mutex::new(None),
        })
    }

    pub fn session_token(&self) -> Option<&HeaderValue> {
        self.session_token.as_ref()
    }

    /// The signing key of `date`'s UTC day, derived on the first signature of the day.
    fn key_for(&self, date: &str, time: SystemTime, region: &str) -> [u8; 32] {
        let mut cached = self.day_key.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(day) = cached.as_ref().filter(|day| day.date == date) {
            return day.key;
        }
        let derived =
            generate_signing_key(self.credentials.secret_access_key(), time, region, SERVICE);
        let key: [u8; 32] = derived
            .as_ref()
            .try_into()
            .expect("an HMAC-SHA256 tag is 32 bytes");
        *cached = Some(DayKey {
            date: date.to_owned(),
            key,
        });
        key
    }
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical URI: the path normalized (RFC 3986 dot segments, no empty segments), then
/// encoded once more, as the SDK does for every service but S3.
fn canonical_path(path: &str) -> String {
    fmt_string(normalize_path(path), EncodingStrategy::Greedy)
}

fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let absolute = if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("/{path}"))
    };
    if !(absolute.contains('.') || absolute.contains("//")) {
        return absolute;
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
    }
    let mut normalized = String::with_capacity(absolute.len());
    for segment in &kept {
        normalized.push('/');
        normalized.push_str(segment);
    }
    let ends_in_directory = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|tail| absolute.ends_with(tail));
    if normalized.is_empty() || (ends_in_directory && !normalized.ends_with('/')) {
        normalized.push('/');
    }
    Cow::Owned(normalized)
}

#[cfg(test)]
mod tests;
