//! `POST /demo/join` `{"name": "Alice"}` → 201 `{"token", "user_code", "name"}`: creates or
//! updates the user of that name (its code is derived from the name, so the same name is the
//! same user) and issues a token, as the admin API would.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, handler};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::domain::NewUser;
use shared::i18n::Alert;
use shared::queries::users;

use crate::error::{ApiError, Failure};
use crate::reply::Reply;
use crate::state::AppState;
use crate::{api, edge};

/// A name and nothing else.
const MAX_BODY_BYTES: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinRequest {
    name: String,
}

#[handler]
pub async fn join(body: Body, Data(state): Data<&AppState>) -> Result<Reply, Failure> {
    let bytes = edge::read_body(body, MAX_BODY_BYTES).await?;
    let input: JoinRequest =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Client(Alert::RequestInvalidJson))?;
    let user = NewUser::parse(&user_code(&input.name), &input.name, None)
        .map_err(|error| ApiError::Client(error.into()))?;
    let (user, _) = users::upsert(&state.db, &user)
        .await
        .map_err(ApiError::from)?;
    let issued = api::tokens_issue(
        &state.db,
        Some(&user.code),
        state.web.token_expired_start_minutes,
        state.web.token_expired_hours,
    )
    .await?;
    Ok(Reply::with_status(
        StatusCode::CREATED,
        json!({"token": issued.token, "user_code": user.code, "name": user.name}),
    ))
}

/// `demo-<the name's letters and digits>-<8 hex digits of its hash>`: readable, within the
/// code's 64 characters, and distinct for names that differ only in other characters.
fn user_code(name: &str) -> String {
    let name = name.trim();
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    let hash = hex::encode(&Sha256::digest(name.as_bytes())[..4]);
    if slug.is_empty() {
        format!("demo-{hash}")
    } else {
        format!("demo-{slug}-{hash}")
    }
}

#[cfg(test)]
mod tests {
    use shared::domain::UserCode;

    use super::user_code;

    #[test]
    fn one_name_one_valid_code() {
        assert_eq!(user_code("Alice"), user_code(" Alice "));
        assert_ne!(user_code("Alice"), user_code("alice"));
        for name in ["Alice", "山田 太郎", "a".repeat(255).as_str(), "<script>"] {
            let code = user_code(name);
            assert!(UserCode::parse(&code).is_ok(), "{name:?} → {code:?}");
        }
        assert!(user_code("Alice").starts_with("demo-alice-"));
    }
}
