//! `PUT /api/users/{code}` `{"name": .., "image": ..}`: creates (201) or updates (200) a user.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use shared::domain::NewUser;
use shared::queries::users;

use super::ApiTags;
use super::auth::AdminKey;
use super::json_body::JsonBody;
use super::problem::{Problem, problem};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Shown beside the user's messages; not blank, no control characters.
    #[oai(validator(max_length = 255))]
    name: String,
    /// Image path such as `/uploads/user/image/1/face.png` (or an absolute URL); no control
    /// characters.
    #[oai(nullable, validator(max_length = 1024))]
    image: Option<String>,
}

#[derive(Debug, Object)]
pub struct UserSaved {
    code: String,
    name: String,
    #[oai(nullable)]
    image: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum PutUserResponse {
    /// The user was created.
    #[oai(status = 201)]
    Created(Json<UserSaved>),
    /// The user existed and was updated.
    #[oai(status = 200)]
    Updated(Json<UserSaved>),
}

pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Create or update a user
    ///
    #[oai(path = "/users/:code", method = "put", operation_id = "put_user")]
    async fn put_user(
        &self,
        _key: AdminKey,
        Data(state): Data<&AppState>,
        /// The user's public id.
        #[oai(validator(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
        code: Path<String>,
        JsonBody(input): JsonBody<UserInput>,
    ) -> Result<PutUserResponse, Problem> {
        let fail = problem::<ApiError>(state.common.locale);
        let user = NewUser::parse(&code, &input.name, input.image.as_deref())
            .map_err(|error| fail(ApiError::Client(error.into())))?;
        let (user, created) = users::upsert(&state.db, &user)
            .await
            .map_err(|error| fail(error.into()))?;
        let saved = Json(UserSaved {
            code: user.code,
            name: user.name,
            image: user.image_path,
        });
        Ok(if created {
            PutUserResponse::Created(saved)
        } else {
            PutUserResponse::Updated(saved)
        })
    }
}
