//! The three API Gateway callbacks, each also under a `.json` twin (the original's URLs).
//!
//! # Layout
//! - `gateway`: the checks every callback shares (secret, connection id, origin).
//! - `frame`: parsing a `$default` body into a JSON object.
//! - `auth`: token authentication, run on every `$default` frame.
//! - `connect`, `disconnect`, `default`: the route handlers.
//! - `get_messages`, `send_message`: the `$default` methods.

mod auth;
mod connect;
mod default;
mod disconnect;
mod frame;
mod gateway;
mod get_messages;
mod send_message;

use poem::{Route, post};

pub fn routes() -> Route {
    Route::new()
        .at("/connect", post(connect::connect))
        .at("/connect.json", post(connect::connect))
        .at("/disconnect", post(disconnect::disconnect))
        .at("/disconnect.json", post(disconnect::disconnect))
        .at("/default", post(default::default_route))
        .at("/default.json", post(default::default_route))
}
