//! The text of a chat message, as `send_message` accepts it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageBodyError {
    #[error("the message body is blank")]
    Blank,
    #[error("the message body is longer than the configured maximum")]
    TooLong,
}

/// Not blank, at most `max_chars` characters (`MAX_MESSAGE_BODY_CHARS`: it must still fit
/// API Gateway's 128 KB frame once wrapped). Kept as sent, surrounding spaces included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, MessageBodyError> {
        if raw.trim().is_empty() {
            return Err(MessageBodyError::Blank);
        }
        if raw.chars().count() > max_chars {
            return Err(MessageBodyError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_overlong_bodies_are_refused() {
        assert_eq!(MessageBody::parse(" hi ", 4).unwrap().as_str(), " hi ");
        assert_eq!(MessageBody::parse("あいう", 3).unwrap().as_str(), "あいう");
        assert_eq!(MessageBody::parse(" \n\t", 9), Err(MessageBodyError::Blank));
        assert_eq!(MessageBody::parse("", 9), Err(MessageBodyError::Blank));
        assert_eq!(
            MessageBody::parse("あいうえ", 3),
            Err(MessageBodyError::TooLong)
        );
    }
}
