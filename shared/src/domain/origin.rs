//! Origins and the allowlist they are checked against.
//!
//! The incoming origin is parsed as data and compared field by field; it is never used
//! as a pattern (the original's `allowed.match?(origin)` let `h` or `.` through).

/// A parsed `scheme://host[:port]` with the port made explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses an incoming `Origin` header. `None` for anything that is not an origin.
    pub fn parse(raw: &str) -> Option<Self> {
        let (scheme, host, port) = split(raw)?;
        valid_host(&host).then_some(Self { scheme, host, port })
    }
}

/// One allowlist entry: exact, or `*.` standing for exactly one DNS label.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AllowedOrigin {
    Exact(Origin),
    AnyLabelUnder {
        scheme: String,
        parent: String,
        port: u16,
    },
}

#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<AllowedOrigin>);

/// An entry of `ALLOWED_ORIGINS` that is not an origin pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowedOriginError {
    #[error("{0:?} is not scheme://host[:port]")]
    NotAnOrigin(String),
    #[error("{0:?}: a wildcard needs a parent domain")]
    WildcardWithoutParent(String),
    #[error("{0:?} has an invalid host")]
    InvalidHost(String),
}

impl AllowedOrigins {
    /// Parses the comma-separated `ALLOWED_ORIGINS`.
    pub fn parse(list: &str) -> Result<Self, AllowedOriginError> {
        let mut entries = Vec::new();
        for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (scheme, host, port) =
                split(raw).ok_or_else(|| AllowedOriginError::NotAnOrigin(raw.to_owned()))?;
            let entry = match host.strip_prefix("*.") {
                Some(parent) if valid_host(parent) && parent.contains('.') => {
                    AllowedOrigin::AnyLabelUnder {
                        scheme,
                        parent: parent.to_owned(),
                        port,
                    }
                }
                Some(_) => return Err(AllowedOriginError::WildcardWithoutParent(raw.to_owned())),
                None if valid_host(&host) => AllowedOrigin::Exact(Origin { scheme, host, port }),
                None => return Err(AllowedOriginError::InvalidHost(raw.to_owned())),
            };
            entries.push(entry);
        }
        Ok(Self(entries))
    }

    pub fn allows(&self, origin: &Origin) -> bool {
        self.0.iter().any(|allowed| match allowed {
            AllowedOrigin::Exact(exact) => exact == origin,
            AllowedOrigin::AnyLabelUnder {
                scheme,
                parent,
                port,
            } => {
                *scheme == origin.scheme
                    && *port == origin.port
                    && origin
                        .host
                        .strip_suffix(parent.as_str())
                        .and_then(|rest| rest.strip_suffix('.'))
                        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            }
        })
    }
}

/// Splits `scheme://host[:port]` (an optional trailing `/` is tolerated), lower-cased.
fn split(raw: &str) -> Option<(String, String, u16)> {
    let raw = raw.trim().strip_suffix('/').unwrap_or(raw.trim());
    let (scheme, authority) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
            if host.contains(':') && !host.starts_with('[') {
                return None;
            }
            (host, port.parse::<u16>().ok()?)
        }
        _ => (authority, default_port),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(list: &str, origin: &str) -> bool {
        let allowed = AllowedOrigins::parse(list).unwrap();
        Origin::parse(origin).is_some_and(|origin| allowed.allows(&origin))
    }

    #[test]
    fn exact_match_compares_scheme_host_and_port() {
        let list = "https://allowed.example";
        assert!(allows(list, "https://allowed.example"));
        assert!(allows(list, "https://ALLOWED.example:443"));
        assert!(!allows(list, "http://allowed.example"));
        assert!(!allows(list, "https://allowed.example:8443"));
        assert!(!allows(list, "https://allowed.example.evil.com"));
        assert!(!allows(list, "https://evilallowed.example"));
    }

    #[test]
    fn incoming_origin_is_never_a_pattern() {
        let list = "http://allowed.example,https://*.example.com";
        for origin in [
            "h",
            ".",
            ".*",
            "*",
            "http://*.example.com",
            "https://*.example.com",
            "null",
            "",
        ] {
            assert!(!allows(list, origin), "{origin} must be refused");
        }
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let list = "https://*.example.com";
        assert!(allows(list, "https://app.example.com"));
        assert!(!allows(list, "https://example.com"));
        assert!(!allows(list, "https://a.b.example.com"));
        assert!(!allows(list, "https://app.example.com.evil.com"));
        assert!(!allows(list, "https://appexample.com"));
    }

    #[test]
    fn bad_allowlist_entries_are_refused() {
        for list in [
            "example.com",
            "https://*",
            "https://*.com",
            "ftp://a.example",
            "https://a b",
        ] {
            assert!(AllowedOrigins::parse(list).is_err(), "{list}");
        }
    }
}
