//! The `web` binary: API Gateway's HTTP callbacks, the admin API, health and metrics.
//!
//! # Layout
//! - [`startup`]: `Application::build` binds and wires; `run_until` serves until shutdown.
//! - `shutdown`: the drain on SIGTERM; `listener`: the acceptor and connections it stops.
//! - `chat`: the transport-neutral core: a frame's authentication, methods and replies.
//! - `callbacks`: `$connect`, `$disconnect`, and `$default`, the HTTP adapter of `chat`.
//! - `cable`: the Action Cable server at `/cable` for `@rails/actioncable` clients, the
//!   other adapter of `chat`.
//! - `api`: the admin API at `/api`, described by OpenAPI (users, tokens, messages,
//!   connections, queues).
//! - `routes`: which listener answers what: the public one, and `ADMIN_ADDR`'s.
//! - `dashboard`: `/admin`, the operator dashboard; `demo`: `/demo`, the chat page.
//! - `edge`: reading bodies, and the limits every connection and request is held to.
//! - `health`: `/healthz`, `/readyz`, `/metrics`; `request_metrics`: what `/metrics` counts.
//! - [`cli`]: the operator commands.
//! - `error`: every error's status and localized body; `reply`, `state`: handlers' plumbing.

mod api;
mod cable;
mod callbacks;
mod chat;
pub mod cli;
mod dashboard;
mod demo;
mod edge;
mod error;
mod health;
mod listener;
mod reply;
mod request_metrics;
mod routes;
mod shutdown;
pub mod startup;
mod state;

pub use startup::Application;
