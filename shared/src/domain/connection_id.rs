//! The API Gateway connection id a callback is about.
//!
//! API Gateway's ids are base64-like (`L0SM9cOFvHcCIhw=`). We accept any printable ASCII
//! without whitespace: `/`, `?`, `#` or `%` are safe because the Management API client
//! percent-encodes the id into the `@connections/{id}` path. Whitespace, control characters
//! and non-ASCII text never come from API Gateway; they would end up in logs, the database
//! and that path, so they are refused.

/// Longest id we store (`ws_tokens.connection_id` is a 255-character column).
pub const MAX_CONNECTION_ID_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ConnectionId(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionIdError {
    #[error("connection id is missing or blank")]
    Blank,
    #[error("connection id is longer than {MAX_CONNECTION_ID_CHARS} characters")]
    TooLong,
    #[error("connection id contains whitespace, a control character or non-ASCII text")]
    BadCharacter,
}

impl ConnectionId {
    /// Surrounding whitespace is not part of a header value (RFC 9110 §5.5) and is dropped;
    /// anything else outside printable ASCII is refused.
    pub fn parse(raw: &str) -> Result<Self, ConnectionIdError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ConnectionIdError::Blank);
        }
        if trimmed.chars().count() > MAX_CONNECTION_ID_CHARS {
            return Err(ConnectionIdError::TooLong);
        }
        if !trimmed.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ConnectionIdError::BadCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_overlong_are_refused() {
        assert_eq!(ConnectionId::parse("  "), Err(ConnectionIdError::Blank));
        assert_eq!(ConnectionId::parse("\t"), Err(ConnectionIdError::Blank));
        assert_eq!(
            ConnectionId::parse(&"a".repeat(256)),
            Err(ConnectionIdError::TooLong)
        );
        assert_eq!(
            ConnectionId::parse(&"a".repeat(255))
                .unwrap()
                .as_str()
                .len(),
            255
        );
        assert_eq!(
            ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap().as_str(),
            "L0SM9cOFvHcCIhw="
        );
    }

    #[test]
    fn whitespace_control_characters_and_non_ascii_inside_are_refused() {
        for raw in [
            "a\tb", "a b", "a\nb", "a\rb", "a\0b", "a\x7fb", "a\x1bb", "aあb", "a\u{a0}b",
        ] {
            assert_eq!(
                ConnectionId::parse(raw),
                Err(ConnectionIdError::BadCharacter),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn path_characters_and_surrounding_whitespace_are_fine() {
        for raw in ["a/b", "a?b", "a#b", "a%2Fb", "ab+/cd==", "x-y_z.~!"] {
            assert_eq!(ConnectionId::parse(raw).unwrap().as_str(), raw);
        }
        assert_eq!(ConnectionId::parse(" abc= \t").unwrap().as_str(), "abc=");
    }
}
