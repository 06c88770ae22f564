//! The chat, whatever transport a frame arrived on: `$default` (HTTP, from API Gateway) and
//! Action Cable run the same checks, in the same order, with the same replies.
//!
//! # Layout
//! - `frame`: a client's frame, a JSON object.
//! - `command`: a frame parsed into a [`Method`] and its arguments.
//! - `auth`: token authentication, run on every frame, and binding to the [`Peer`].
//! - [`AuthTimes`]: `last_auth_successed_at`, written behind the answer.
//! - `get_messages`, `send_message`: the methods.
//! - [`apply`]: runs one frame and returns its [`Outcome`].

mod auth;
mod auth_times;
mod command;
mod frame;
mod get_messages;
mod send_message;

use poem::http::StatusCode;
use serde_json::{Map, Value, json};
use shared::domain::{Channel, TokenRefusal, UserCode};
use shared::queries::tokens;

pub use self::auth_times::AuthTimes;
use self::command::Command;
pub use self::command::Method;
pub use self::frame::Frame;
pub use self::send_message::post as post_message;
use crate::error::{ApiError, Failure};
use crate::reply::{Action, Reply};
use crate::state::AppState;
pub use shared::domain::Peer;

/// What running a frame produced; the transport delivers it.
#[derive(Debug)]
pub struct Outcome {
    /// What `$default` answers with; Action Cable has no status.
    pub status: StatusCode,
    /// The reply JSON (`$default`'s body, the `message` of an Action Cable reply).
    pub body: Value,
    /// The token was refused: the transport closes the connection after
    /// `DISCONNECT_DELAY_SECS` (closing at once would swallow the reply).
    pub refused: Option<TokenRefusal>,
    /// Who the frame authenticated as, when it did.
    #[allow(
        dead_code,
        reason = "read by the Action Cable adapter, which is on its way"
    )]
    pub reader: Option<Reader>,
}

/// An authenticated token's holder: what picks the streams it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub token_id: i64,
    /// `None` for a guest.
    pub user: Option<UserCode>,
}

/// The real channels a reader receives broadcasts of.
#[allow(
    dead_code,
    reason = "read by the Action Cable adapter, which is on its way"
)]
pub fn streams(reader: &Reader) -> Vec<Channel> {
    Channel::readable_by(reader.user.as_ref())
}

/// Runs one frame: authenticate, then the method named by `frame.data[method_field]`
/// (`method` on `$default`, `action` on Action Cable). Never fails: errors are outcomes.
pub async fn apply(state: &AppState, peer: &Peer, frame: &Frame, method_field: &str) -> Outcome {
    let mut reader = None;
    let result = run(state, peer, frame, method_field, &mut reader).await;
    let (reply, refused) = match result {
        Ok(reply) => (reply, None),
        Err(failure) => {
            let refused = match failure.error {
                ApiError::Refused(refusal) => Some(refusal),
                _ => None,
            };
            if let Some(refusal) = refused {
                tracing::info!(reason = refusal.status().as_str(), "token refused");
            }
            // Replies to a frame echo it, as the successes do.
            let reply = failure.echoing(&frame.data).into_reply(state.common.locale);
            (reply, refused)
        }
    };
    Outcome {
        status: reply.status,
        body: reply.body,
        refused,
        reader,
    }
}

async fn run(
    state: &AppState,
    peer: &Peer,
    frame: &Frame,
    method_field: &str,
    reader: &mut Option<Reader>,
) -> Result<Reply, Failure> {
    let name = frame.string(method_field)?;
    tracing::Span::current().record("method", name);
    let method = Method::parse(name);
    // Every frame authenticates first; what goes wrong there is an `auth_result`.
    let token = frame
        .string("token")
        .map_err(|error| Failure::new(Action::AuthResult, error))?;
    let authenticated = auth::authenticate(state, peer, token)
        .await
        .map_err(|error| Failure::new(Action::AuthResult, error))?;
    tracing::debug!(token_id = authenticated.token.id, "authenticated");
    *reader = Some(Reader {
        token_id: authenticated.token.id,
        user: authenticated.user_code(),
    });
    let Some(method) = method else {
        return Err(ApiError::Client(shared::i18n::Alert::RequestUnknownMethod).into());
    };
    let action = method.reply_action();
    let fail = |error| Failure::new(action, error);
    let command = Command::parse(method, frame, state.web.max_message_body_chars).map_err(fail)?;
    let fields = match command {
        Command::AuthRequest => Map::new(),
        Command::GetMessages(history) => get_messages::run(state, &authenticated, history)
            .await
            .map_err(fail)?,
        Command::SendMessage { channel, body } => {
            send_message::run(state, &authenticated, channel, body)
                .await
                .map_err(fail)?
        }
    };
    let mut body = json!({"action": action.as_str(), "success": true});
    body.as_object_mut()
        .expect("a JSON object literal")
        .extend(fields);
    body["data"] = Value::Object(frame.data.clone());
    Ok(Reply::ok(body))
}

/// The connection closed: the token bound to it stops receiving broadcasts. False when no
/// token was bound.
pub async fn disconnect(state: &AppState, peer: &Peer) -> Result<bool, ApiError> {
    Ok(tokens::mark_unsubscribed(&state.db, peer).await?)
}
