//! End-to-end tests of the `gateway-emulator` binary: real WebSocket clients, a real backend
//! over HTTP, and the unmodified AWS SDK against its Management API.

mod harness;

mod faults;
mod lifecycle;
mod management;
mod quota;
mod websocket;
