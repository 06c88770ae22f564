//! `PUT /api/users/{code}` `{"name": .., "image": ..}`: creates (201) or updates (200) a user.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, handler};
use serde::Deserialize;
use serde_json::json;
use shared::domain::{ImagePath, UserCode, UserInputError, UserName};
use shared::i18n::Alert;
use shared::queries::users;

use super::{MAX_ADMIN_BODY_BYTES, bearer};
use crate::edge;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
}

/// A user as the admin API and the CLI accept it, parsed by the domain types.
#[derive(Debug)]
pub struct ValidUser {
    pub code: UserCode,
    pub name: UserName,
    pub image: Option<ImagePath>,
}

pub fn validate_user(code: &str, input: &UserInput) -> Result<ValidUser, ApiError> {
    let parsed = UserCode::parse(code).and_then(|code| {
        let name = UserName::parse(&input.name)?;
        let image = input.image.as_deref().map(ImagePath::parse).transpose()?;
        Ok(ValidUser { code, name, image })
    });
    parsed.map_err(|error| {
        ApiError::Client(match error {
            UserInputError::Code => Alert::RequestInvalidField,
            UserInputError::NameBlank => Alert::UserNameBlank,
            UserInputError::Name => Alert::UserNameInvalid,
            UserInputError::Image => Alert::UserImageInvalid,
        })
    })
}

#[handler]
pub async fn put_user(
    request: &Request,
    Path(code): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Reply {
    match run(request, &code, body, state).await {
        Ok(reply) => reply,
        Err(error) => error.into_reply(state.common.locale),
    }
}

async fn run(
    request: &Request,
    code: &str,
    body: Body,
    state: &AppState,
) -> Result<Reply, ApiError> {
    bearer::check(request, state)?;
    let bytes = edge::read_body(body, MAX_ADMIN_BODY_BYTES).await?;
    let input: UserInput =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Client(Alert::RequestInvalidJson))?;
    let user = validate_user(code, &input)?;
    let image = user.image.map(ImagePath::into_string);
    let (user, created) =
        users::upsert(&state.db, user.code.as_str(), user.name.as_str(), image).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Reply::with_status(
        status,
        json!({"code": user.code, "name": user.name, "image": user.image_path}),
    ))
}
