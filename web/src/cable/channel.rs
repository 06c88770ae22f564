//! `MessageChannel`, the one channel served: its actions run the chat core, as `$default`
//! methods do, and its replies are what `$default` would answer.

use serde_json::{Map, Value};
use shared::domain::Peer;

use super::frames;
use crate::chat::{self, Frame};
use crate::state::AppState;

pub const NAME: &str = "MessageChannel";

/// The actions of `MessageChannel`; anything else is ignored, as Rails ignores an action its
/// channel does not define.
const ACTIONS: [&str; 3] = ["auth_request", "get_messages", "send_message"];

/// Whether `identifier` (a JSON object encoded as a string) names `MessageChannel`.
pub fn is_message_channel(identifier: &str) -> bool {
    serde_json::from_str::<Map<String, Value>>(identifier)
        .is_ok_and(|fields| fields.get("channel").and_then(Value::as_str) == Some(NAME))
}

/// What a `message` command led to.
#[derive(Debug)]
pub enum Performed {
    /// Not run; why, for the log.
    Ignored(&'static str),
    Replied {
        /// `{"identifier":..,"message":<what $default would answer>}`.
        frame: String,
        /// The token was refused: the connection closes after `DISCONNECT_DELAY_SECS`.
        refused: bool,
        /// On successful authentication: the streams the subscription follows from now on.
        streams: Option<Vec<String>>,
    },
}

/// Runs the `data` of a `message` command (a JSON object encoded as a string) for `peer`.
pub async fn perform(state: &AppState, peer: &Peer, identifier: &str, data: &str) -> Performed {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(data) else {
        return Performed::Ignored("data is not a JSON object");
    };
    let known = fields
        .get("action")
        .and_then(Value::as_str)
        .is_some_and(|action| ACTIONS.contains(&action));
    if !known {
        return Performed::Ignored("unknown action");
    }
    let outcome = chat::apply(state, peer, &Frame::from_object(fields), "action").await;
    Performed::Replied {
        frame: frames::message(identifier, &outcome.body.to_string()),
        refused: outcome.refused.is_some(),
        streams: outcome.reader.as_ref().map(|reader| {
            chat::streams(reader)
                .iter()
                .map(|channel| channel.real_name())
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_message_channel_is_served() {
        assert!(is_message_channel(r#"{"channel":"MessageChannel"}"#));
        assert!(is_message_channel(
            r#"{"room":1, "channel": "MessageChannel"}"#
        ));
        assert!(!is_message_channel(r#"{"channel":"ChatChannel"}"#));
        assert!(!is_message_channel(r#"{"channel":null}"#));
        assert!(!is_message_channel("MessageChannel"));
        assert!(!is_message_channel(r#""{\"channel\":\"MessageChannel\"}""#));
    }
}
