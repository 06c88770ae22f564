//! The admin API the login application calls to issue identities (bearer `ADMIN_API_KEY`;
//! off when no key is set).
//!
//! # Layout
//! - `bearer`: the key check.
//! - `users`: `PUT /api/users/{code}`.
//! - `tokens`: `POST /api/ws_tokens`.

mod bearer;
mod tokens;
mod users;

pub use tokens::issue as tokens_issue;

/// Admin request bodies are a few small fields.
const MAX_ADMIN_BODY_BYTES: usize = 16 * 1024;

use poem::{Route, post, put};

pub fn routes() -> Route {
    Route::new()
        .at("/users/:code", put(users::put_user))
        .at("/ws_tokens", post(tokens::post_token))
}
