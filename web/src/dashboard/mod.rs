//! `/admin`: the operator dashboard in the browser, in the spirit of Sidekiq's web UI.
//! Server-rendered HTML behind `ADMIN_API_KEY` (bearer, or basic auth with the key as the
//! password); no script.
//!
//! # Layout
//! - `access`: the key check, and the same-origin rule for the buttons.
//! - `history`: queue depths sampled every few seconds into a ring buffer.
//! - `overview`: `GET /admin`, reading what the page shows; `view`, `sparkline`: the HTML.
//! - `dead_jobs`: the Retry and Delete buttons (one job, or all of a queue).
//! - `urls`: the form targets; `failure`: error pages.

mod access;
mod dead_jobs;
mod failure;
mod history;
mod overview;
mod sparkline;
mod urls;
mod view;

use poem::{Endpoint, EndpointExt, Route, get, post};

use self::history::QueueHistory;
use crate::state::AppState;

/// The dashboard's routes, to be nested at `/admin`. With an admin key set, starts sampling
/// the queues until web drains.
pub fn routes(state: &AppState) -> impl Endpoint + 'static {
    let pages = &state.web.pages;
    let history = QueueHistory::new(pages.samples_kept);
    if state.web.admin_api_key.is_some() {
        tokio::spawn(history.clone().sample_every(
            state.queues.clone(),
            pages.sample_interval,
            state.draining.token(),
        ));
    }
    Route::new()
        .at("/", get(overview::show))
        .at("/queues/:queue/dead/retry-all", post(dead_jobs::retry_all))
        .at(
            "/queues/:queue/dead/delete-all",
            post(dead_jobs::delete_all),
        )
        .at("/queues/:queue/dead/:id/retry", post(dead_jobs::retry))
        .at("/queues/:queue/dead/:id/delete", post(dead_jobs::delete))
        .data(history)
}
