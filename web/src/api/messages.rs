//! `POST /api/messages` `{"user_code", "channel", "body"}`: posts as a user, with the rules
//! and the broadcast of `send_message`, and answers the stored `<message>`.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use shared::domain::{Channel, MessageBody, UserCode};
use shared::i18n::Alert;
use shared::message_view::MessageView;
use shared::queries::users;

use super::ApiTags;
use super::auth::AdminKey;
use super::json_body::JsonBody;
use super::problem::{Problem, problem};
use crate::chat;
use crate::error::ApiError;
use crate::state::AppState;

/// Where a message goes, as clients name it.
#[derive(Debug, Clone, Copy, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    /// Everyone's channel.
    AllChannel,
    /// The user's own channel (`user_channel_<user code>`).
    UserChannel,
}

#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The sender: an existing user.
    #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    user_code: String,
    channel: ChannelName,
    /// Not blank, at most `MAX_MESSAGE_BODY_CHARS` characters, no NUL.
    body: String,
}

/// The `<message>` clients render (the same JSON as in `get_messages` and broadcasts).
#[derive(Debug, Object)]
pub struct Message {
    id: i64,
    /// The real channel: `all_channel` or `user_channel_<user code>`.
    channel: String,
    channel_i18n: String,
    body: String,
    user: MessageUser,
    /// RFC 3339 with the `TIME_ZONE_OFFSET`.
    created_at: String,
    created_at_i18n: String,
}

#[derive(Debug, Object)]
pub struct MessageUser {
    code: String,
    name: String,
    image_url: ImageUrls,
}

/// Absolute image URLs per size.
#[derive(Debug, Object)]
pub struct ImageUrls {
    mini: String,
    small: String,
    medium: String,
    large: String,
    xlarge: String,
}

impl From<MessageView> for Message {
    fn from(view: MessageView) -> Self {
        let urls = view.user.image_url;
        Self {
            id: view.id,
            channel: view.channel,
            channel_i18n: view.channel_i18n.to_owned(),
            body: view.body,
            user: MessageUser {
                code: view.user.code,
                name: view.user.name,
                image_url: ImageUrls {
                    mini: urls.mini,
                    small: urls.small,
                    medium: urls.medium,
                    large: urls.large,
                    xlarge: urls.xlarge,
                },
            },
            created_at: view.created_at,
            created_at_i18n: view.created_at_i18n,
        }
    }
}

#[derive(Debug, ApiResponse)]
pub enum PostMessageResponse {
    /// Stored; its broadcast is enqueued (or owed by the outbox while Redis is away).
    #[oai(status = 201)]
    Created(Json<Message>),
}

pub struct MessagesApi;

#[OpenApi(tag = "ApiTags::Messages")]
impl MessagesApi {
    /// Post a message as a user
    ///
    /// The rules of a client's `send_message`, and the same broadcast to both transports.
    #[oai(path = "/messages", method = "post", operation_id = "post_message")]
    async fn post_message(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        JsonBody(input): JsonBody<MessageInput>,
    ) -> Result<PostMessageResponse, Problem> {
        let fail = problem::<ApiError>(state.common.locale);
        let code = UserCode::parse(&input.user_code)
            .map_err(|_| fail(Alert::RequestInvalidField.into()))?;
        let user = users::find_by_code(&state.db, &code)
            .await
            .map_err(|error| fail(error.into()))?
            .ok_or_else(|| fail(Alert::UserNotFound.into()))?;
        // PostgreSQL text cannot hold NUL: refused at the edge, as in a client's frame.
        if input.body.contains('\0') {
            return Err(fail(Alert::RequestNulCharacter.into()));
        }
        let body = MessageBody::parse(&input.body, state.web.max_message_body_chars)
            .map_err(|error| fail(ApiError::Client(error.into())))?;
        let channel = match input.channel {
            ChannelName::AllChannel => Channel::All,
            ChannelName::UserChannel => Channel::User(code),
        };
        let message = chat::post_message(state, &user, channel, &body)
            .await
            .map_err(&fail)?;
        let view = state.renderer.render(&message, &user);
        Ok(PostMessageResponse::Created(Json(view.into())))
    }
}
