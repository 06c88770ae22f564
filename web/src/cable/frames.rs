//! The JSON of Action Cable's protocol (`actioncable-v1-json`), both directions.

use serde::{Deserialize, Serialize};

/// The subprotocol `@rails/actioncable` asks for (it also offers `actioncable-unsupported`,
/// which a server that speaks v1 never picks).
pub const PROTOCOL: &str = "actioncable-v1-json";

/// A client's frame: `{"command":"subscribe"|"unsubscribe"|"message","identifier":"<json>",
/// "data":"<json>"}`. The identifier is kept as the exact string the client sent: replies
/// echo it byte for byte, and the client looks its subscription up by it.
#[derive(Debug, Deserialize)]
pub struct ClientFrame {
    pub command: String,
    pub identifier: String,
    /// `message` only: the action and its fields, JSON encoded into a string.
    #[serde(default)]
    pub data: Option<String>,
}

/// Why the server ends a connection, as Rails names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectReason {
    /// A refused token (the client must not retry).
    Unauthorized,
    /// SIGTERM: the client reconnects, to another replica.
    ServerRestart,
    /// Asked for through Redis (`<prefix>:action_cable/<id>`), e.g. by DeleteConnectionJob.
    Remote,
}

/// Every frame of the server but stream messages and replies ([`message`]).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Welcome,
    /// Unix seconds; the client counts a connection stale after 6 s without a frame.
    Ping {
        message: i64,
    },
    ConfirmSubscription {
        identifier: &'a str,
    },
    RejectSubscription {
        identifier: &'a str,
    },
    Disconnect {
        reason: DisconnectReason,
        reconnect: bool,
    },
}

impl ServerFrame<'_> {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a server frame serializes")
    }
}

/// `{"identifier":<identifier>,"message":<message_json>}`: a reply, or a stream message.
/// `message_json` must be valid JSON (the fan-in re-encodes what Redis carried), so a stream
/// message is encoded once, not once per socket.
pub fn message(identifier: &str, message_json: &str) -> String {
    let identifier = serde_json::to_string(identifier).expect("a string serializes");
    format!(r#"{{"identifier":{identifier},"message":{message_json}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn server_frames_are_rails_json() {
        assert_eq!(
            parsed(&ServerFrame::Welcome.to_text()),
            json!({"type": "welcome"})
        );
        assert_eq!(
            parsed(&ServerFrame::Ping { message: 17 }.to_text()),
            json!({"type": "ping", "message": 17})
        );
        let identifier = r#"{"channel":"MessageChannel"}"#;
        assert_eq!(
            parsed(&ServerFrame::ConfirmSubscription { identifier }.to_text()),
            json!({"type": "confirm_subscription", "identifier": identifier})
        );
        assert_eq!(
            parsed(&ServerFrame::RejectSubscription { identifier }.to_text()),
            json!({"type": "reject_subscription", "identifier": identifier})
        );
        let disconnect = ServerFrame::Disconnect {
            reason: DisconnectReason::ServerRestart,
            reconnect: true,
        };
        assert_eq!(
            parsed(&disconnect.to_text()),
            json!({"type": "disconnect", "reason": "server_restart", "reconnect": true})
        );
    }

    #[test]
    fn a_message_embeds_its_json_and_echoes_the_identifier() {
        let identifier = "{\"channel\": \"MessageChannel\",\"x\":\"\u{e9}\"}";
        let text = message(identifier, r#"{"a":[1,2]}"#);
        assert_eq!(
            parsed(&text),
            json!({"identifier": identifier, "message": {"a": [1, 2]}})
        );
    }

    #[test]
    fn a_client_frame_keeps_its_identifier_string() {
        let frame: ClientFrame = serde_json::from_str(
            r#"{"command":"message","identifier":"{\"channel\":\"MessageChannel\"}","data":"{}"}"#,
        )
        .unwrap();
        assert_eq!(frame.command, "message");
        assert_eq!(frame.identifier, r#"{"channel":"MessageChannel"}"#);
        assert_eq!(frame.data.as_deref(), Some("{}"));
    }
}
