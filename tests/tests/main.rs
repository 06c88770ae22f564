//! The one integration test binary: each module is a file of tests of one area.
//!
//! Run with `cargo test -p e2e` (the harness builds the workspace's binaries itself).
//! PostgreSQL (`TEST_POSTGRES_URL`) and Redis (`TEST_REDIS_URL`) must be running.

mod admin_api;
mod api_fuzz;
mod browser_admin;
mod browser_demo;
mod cable_chat;
mod cable_protocol;
mod cable_streams;
mod common;
mod delivery_faults;
mod e2e_chat;
mod e2e_management_sdk;
mod logs_secrets;
mod metrics;
mod redis_cluster;
mod redis_tls;
mod web_admin;
mod web_auth;
mod web_bad_headers;
mod web_bad_input;
mod web_callbacks;
mod web_drain;
mod web_history;
mod web_listeners;
mod web_ops;
mod web_outages;
mod web_pages;
mod web_races;
mod web_send;
mod web_slow_clients;
mod web_sqlite;
mod worker_delivery;
mod worker_interop;
mod worker_outages;
mod worker_rate_limit;
mod worker_recovery;
mod worker_redis_restart;
mod worker_region;
mod worker_relay;
