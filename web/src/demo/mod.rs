//! `/demo` (`DEMO_PAGE=true`): a chat page for trying the system in a browser, over either
//! transport. Off by default: its token endpoint creates users and issues tokens for anyone.
//!
//! # Layout
//! - `page`: `GET /demo`, the HTML; its script is `demo.js`, served inline.
//! - `join`: `POST /demo/join` `{"name": ..}`, a user for that name and a token for it.

mod join;
mod page;

use poem::{Route, get, post};

use crate::state::AppState;

/// The demo's routes, to be nested at `/demo`; none while `DEMO_PAGE` is off (404).
pub fn routes(state: &AppState) -> Route {
    if !state.web.pages.demo_page {
        return Route::new();
    }
    Route::new()
        .at("/", get(page::show))
        .at("/join", post(join::join))
}
