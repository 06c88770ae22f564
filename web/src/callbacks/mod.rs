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
