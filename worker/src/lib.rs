//! The `worker` binary: runs BroadcastJob and DeleteConnectionJob from the Redis queues
//! and pushes to clients through the API Gateway Management API.
//!
//! # Layout
//! - [`runtime`]: the apalis monitor, one worker per queue, shutdown.
//! - `fetch`: the apalis backend that claims from our Redis queue.
//! - `leases`: renewing claims while jobs run; handing them back on shutdown.
//! - `jobs`: one file per job, and the dispatch on the stored job name.
//! - `outcome`: done, retry later, or dead — settled in the queue.
//! - `fanout`: bounded, retried, recorded delivery to many connections.
//! - `management`: the Management API client and how its errors are read.
//! - `delivery_log`: which connections already got a message.
//! - `outbox_sweeper`: re-enqueues owed broadcasts that have no live job.
//! - `interop`: Action Cable / AnyCable pub/sub.
//! - [`cli`]: operator commands.

pub mod cli;
mod context;
mod delivery_log;
mod fanout;
mod fetch;
mod interop;
mod jobs;
mod leases;
mod management;
mod outbox_sweeper;
mod outcome;
pub mod runtime;
