//! The three API Gateway callbacks, each also under a `.json` twin (the original's URLs).
//!
//! # Layout
//! - `gateway`: the checks every callback shares (secret, connection id, origin).
//! - `connect`, `disconnect`: the connection's life.
//! - `default`: a client's frame, run by the chat core (`crate::chat`).

mod connect;
mod default;
mod disconnect;
mod gateway;

use poem::{Endpoint, EndpointExt, IntoResponse, Route, post};

pub fn routes() -> Route {
    Route::new()
        .at("/connect", counted("connect", post(connect::connect)))
        .at("/connect.json", counted("connect", post(connect::connect)))
        .at(
            "/disconnect",
            counted("disconnect", post(disconnect::disconnect)),
        )
        .at(
            "/disconnect.json",
            counted("disconnect", post(disconnect::disconnect)),
        )
        .at("/default", counted("default", post(default::default_route)))
        .at(
            "/default.json",
            counted("default", post(default::default_route)),
        )
}

/// `web_callbacks_total{route, status}`: `route` is API Gateway's route key without its
/// `$`, the `.json` twin counted with its route.
fn counted(route: &'static str, endpoint: impl Endpoint + 'static) -> impl Endpoint {
    endpoint.around(move |endpoint, request| async move {
        let response = endpoint
            .call(request)
            .await
            .map(IntoResponse::into_response);
        let status = match &response {
            Ok(response) => response.status(),
            Err(error) => error.status(),
        };
        metrics::counter!(
            "web_callbacks_total",
            "route" => route,
            "status" => status.as_str().to_owned()
        )
        .increment(1);
        response
    })
}
