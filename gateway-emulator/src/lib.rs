//! A local stand-in for an AWS API Gateway WebSocket API with an HTTP_PROXY integration.
//!
//! One port serves everything, like the real endpoint: WebSocket clients connect at
//! `/{stage}`, the backend talks to the Management API at `/{stage}/@connections/{id}`, and
//! tests tune the emulator at `/_emulator/*`. Client events become POST callbacks to the backend
//! (`{base}/connect`, `{base}/default`, `{base}/disconnect`) with the headers a typical
//! integration maps (`connectionId`, `origin` on `$connect`, an optional static
//! `x-gateway-secret`).
//!
//! # Layout
//!
//! | module | job |
//! |---|---|
//! | [`app`] | the state shared by handlers and sessions |
//! | [`config`] | the typed configuration, parsed once from flags and `EMULATOR_*` variables |
//! | [`telemetry`] | tracing subscriber (text or JSON, to stderr so stdout stays machine-readable) |
//! | [`server`] | binds, accepts TCP connections, serves HTTP/1.1 with upgrades, drains on shutdown |
//! | [`router`] | sends each request to the handshake, the Management API or the control API |
//! | [`handshake`] | WebSocket upgrade: waits for `$connect`, then accepts or rejects |
//! | [`session`] | one client's life: reads frames, runs `$default`, closes, fires `$disconnect` |
//! | [`writer`] | the per-connection task that owns the socket's write half |
//! | [`callbacks`] | the HTTP client that calls the backend's route URLs |
//! | [`registry`] | live connections by id (a sharded map, no global lock) |
//! | [`management`] | `POST`/`GET`/`DELETE` `@connections/{id}` with AWS's status codes |
//! | [`control`] | `/_emulator/faults` and `/_emulator/stats` |
//! | [`faults`] | injected latency, throttling and errors, adjustable at runtime |
//! | [`quota`] | the account's request quota (`EMULATOR_ACCOUNT_RPS`), a token bucket |
//! | [`stats`] | lock-free counters |
//! | [`error`] | Management API errors and their `x-amzn-ErrorType` mapping; error chains for logs |
//! | [`response`] | response body type and small builders shared by the HTTP handlers |

pub mod app;
pub mod callbacks;
pub mod config;
pub mod control;
pub mod error;
pub mod faults;
pub mod handshake;
pub mod management;
pub mod quota;
pub mod registry;
pub mod response;
pub mod router;
pub mod server;
pub mod session;
pub mod stats;
pub mod telemetry;
pub mod writer;

pub use config::Config;
pub use server::Emulator;

/// API Gateway's WebSocket frame limit: a larger frame closes the connection with 1009.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;

/// API Gateway's message limit, for client messages (in up to 32 KB frames) and for
/// `PostToConnection` bodies alike.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
