//! The API Gateway connection id a callback is about.

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
}

impl ConnectionId {
    pub fn parse(raw: &str) -> Result<Self, ConnectionIdError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ConnectionIdError::Blank);
        }
        if trimmed.chars().count() > MAX_CONNECTION_ID_CHARS {
            return Err(ConnectionIdError::TooLong);
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
}
