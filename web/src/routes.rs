//! Which listener answers what (SPEC §11). API Gateway calls the callbacks over the
//! internet, so the public listener (`WEB_ADDR`) needs only them, `/cable` and the probes;
//! everything for operators is on [`admin`], which is served on `ADMIN_ADDR` when that is
//! set, and beside the public routes otherwise.

use poem::{Route, get};
use shared::config::WebSettings;

use crate::state::AppState;
use crate::{api, cable, callbacks, dashboard, demo, health};

/// The callbacks, `/cable`, `/healthz` and `/readyz`.
pub fn public(route: Route, web: &WebSettings) -> Route {
    cable::route(route, web)
        .nest("/ws_apigateway", callbacks::routes())
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
}

/// What only operators reach: `/metrics`, `/api/*`, the `/admin` dashboard and `/demo`.
pub fn admin(route: Route, state: &AppState) -> Route {
    let route = route
        .at("/metrics", get(health::metrics))
        .nest("/admin", dashboard::routes(state))
        .nest("/demo", demo::routes(state));
    match api::routes(&state.web) {
        Some(api) => route.nest("/api", api),
        None => route,
    }
}
