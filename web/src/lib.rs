//! The `web` binary: API Gateway's HTTP callbacks, the admin API, health and metrics.
//!
//! # Layout
//! - [`startup`]: `Application::build` binds and wires; `run_until` serves until shutdown.
//! - `shutdown`: the drain on SIGTERM; `listener`: the acceptor and connections it stops.
//! - `callbacks`: `$connect`, `$disconnect`, `$default` and its methods.
//! - `admin`: issuing users and tokens.
//! - `edge`: reading bodies, and the limits every connection and request is held to.
//! - `health`: `/healthz`, `/readyz`, `/metrics`.
//! - [`cli`]: the operator commands.
//! - `error`, `reply`, `state`: the shared plumbing of handlers.

mod admin;
mod callbacks;
pub mod cli;
mod edge;
mod error;
mod health;
mod listener;
mod reply;
mod shutdown;
pub mod startup;
mod state;

pub use startup::Application;
