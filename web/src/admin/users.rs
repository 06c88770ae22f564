//! `PUT /api/users/{code}` `{"name": .., "image": ..}`: creates (201) or updates (200) a user.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, handler};
use serde::Deserialize;
use serde_json::json;
use shared::domain::NewUser;
use shared::i18n::Alert;
use shared::queries::users;

use super::{MAX_ADMIN_BODY_BYTES, bearer};
use crate::edge;
use crate::error::{ApiError, Failure};
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserInput {
    name: String,
    #[serde(default)]
    image: Option<String>,
}

#[handler]
pub async fn put_user(
    request: &Request,
    Path(code): Path<String>,
    body: Body,
    Data(state): Data<&AppState>,
) -> Result<Reply, Failure> {
    bearer::check(request, state)?;
    let bytes = edge::read_body(body, MAX_ADMIN_BODY_BYTES).await?;
    let input: UserInput =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Client(Alert::RequestInvalidJson))?;
    let user = NewUser::parse(&code, &input.name, input.image.as_deref())
        .map_err(|error| ApiError::Client(error.into()))?;
    let (user, created) = users::upsert(&state.db, &user)
        .await
        .map_err(ApiError::from)?;
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
