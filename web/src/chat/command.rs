//! A frame parsed into what it asks for (mini-redis' `Command::from_frame`).
//!
//! The method name is read before authentication and the rest after it, so a refused token
//! is reported before anything else is looked at (SPEC §1).

use shared::domain::{ChannelKind, MessageBody};
use shared::i18n::Alert;

use super::Frame;
use crate::error::ApiError;
use crate::reply::Action;

/// What a frame asks for, by its method (`method` on `$default`, `action` on Action Cable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    AuthRequest,
    GetMessages,
    SendMessage,
}

impl Method {
    /// `None` for an unknown or missing name.
    pub fn parse(name: Option<&str>) -> Option<Self> {
        match name? {
            "auth_request" => Some(Self::AuthRequest),
            "get_messages" => Some(Self::GetMessages),
            "send_message" => Some(Self::SendMessage),
            _ => None,
        }
    }

    /// The action its replies carry.
    pub fn reply_action(self) -> Action {
        match self {
            Self::AuthRequest => Action::AuthResult,
            Self::GetMessages => Action::GetMessages,
            Self::SendMessage => Action::SendResult,
        }
    }
}

/// Which page of history `get_messages` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Messages after this id (> 0).
    Since(i64),
    /// The newest ones; `None` (absent or ≤ 0) means `DEFAULT_MESSAGES_LIMIT`.
    Latest(Option<u64>),
}

/// A parsed command with its arguments.
#[derive(Debug)]
pub enum Command {
    AuthRequest,
    GetMessages(History),
    SendMessage {
        /// `None` for any name but the two channels.
        channel: Option<ChannelKind>,
        /// Checked only once the channel is known to be allowed, so kept with its verdict.
        body: Result<MessageBody, ApiError>,
    },
}

impl Command {
    pub fn parse(method: Method, frame: &Frame, max_body_chars: usize) -> Result<Self, ApiError> {
        match method {
            Method::AuthRequest => Ok(Self::AuthRequest),
            Method::GetMessages => history(frame).map(Self::GetMessages),
            Method::SendMessage => Ok(Self::SendMessage {
                channel: frame
                    .data
                    .get("channel")
                    .and_then(|value| value.as_str())
                    .and_then(ChannelKind::parse),
                body: frame.string("body").and_then(|body| {
                    MessageBody::parse(body.unwrap_or(""), max_body_chars)
                        .map_err(|error| ApiError::Client(error.into()))
                }),
            }),
        }
    }
}

fn history(frame: &Frame) -> Result<History, ApiError> {
    match frame.integer("last_id") {
        Err(_) | Ok(Some(..=0)) => Err(ApiError::Client(Alert::LastIdInvalid)),
        Ok(Some(last_id)) => Ok(History::Since(last_id)),
        Ok(None) => match frame.integer("limit") {
            Err(_) => Err(ApiError::Client(Alert::LimitInvalid)),
            Ok(None | Some(..=0)) => Ok(History::Latest(None)),
            Ok(Some(limit)) => Ok(History::Latest(Some(limit as u64))),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn frame(value: serde_json::Value) -> Frame {
        Frame::parse(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn history_reads_last_id_first_then_limit() {
        let parse = |value| history(&frame(value)).map_err(|error| error.alert());
        assert_eq!(
            parse(json!({"last_id": 7, "limit": "x"})),
            Ok(History::Since(7))
        );
        assert_eq!(parse(json!({"last_id": 0})), Err(Alert::LastIdInvalid));
        assert_eq!(parse(json!({"last_id": "a"})), Err(Alert::LastIdInvalid));
        assert_eq!(parse(json!({"limit": 5})), Ok(History::Latest(Some(5))));
        assert_eq!(parse(json!({"limit": -5})), Ok(History::Latest(None)));
        assert_eq!(parse(json!({})), Ok(History::Latest(None)));
        assert_eq!(parse(json!({"limit": 1.5})), Err(Alert::LimitInvalid));
    }

    #[test]
    fn send_message_keeps_a_bad_body_for_after_the_channel_check() {
        let parsed = Command::parse(
            Method::SendMessage,
            &frame(json!({"channel": "elsewhere", "body": " "})),
            10,
        );
        let Ok(Command::SendMessage { channel, body }) = parsed else {
            panic!("send_message always parses: {parsed:?}");
        };
        assert_eq!(channel, None);
        assert_eq!(body.map_err(|error| error.alert()), Err(Alert::BodyBlank));
    }

    #[test]
    fn methods_are_the_three_names() {
        assert_eq!(
            Method::parse(Some("get_messages")),
            Some(Method::GetMessages)
        );
        assert_eq!(Method::parse(Some("GET_MESSAGES")), None);
        assert_eq!(Method::parse(None), None);
    }
}
