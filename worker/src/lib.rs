//! The `worker` binary: runs BroadcastJob, RelayJob and DeleteConnectionJob from the Redis
//! queues and pushes to clients through the API Gateway Management API.
//!
//! # Layout
//! - [`startup`]: connections, and the parts below built with only what each uses.
//! - [`runtime`]: the apalis monitor, one worker per queue, shutdown.
//! - `fetch`: the apalis backend that claims from our Redis queue.
//! - `leases`: a claimed job's lease, held from claim to settle; renewing them while jobs
//!   run; handing them back on shutdown.
//! - `jobs`: one handler per job (`JobHandler`), and the registry that runs a claimed job
//!   by its stored name.
//! - `outcome`: done, retry later, or dead — settled in the queue.
//! - `backoff`: every pause between attempts (jobs, POSTs, claims).
//! - `fanout`: bounded, retried, recorded delivery to many connections; the records written
//!   in batches.
//! - `management`: the Management API: a lean signed client for `PostToConnection`, the
//!   SDK for `DeleteConnection`, and how their errors are read.
//! - `rate_limit`: `APIGW_RATE_LIMIT`, one token bucket in Redis for every worker, cut on
//!   429 and climbing back (AIMD); the post path's only pacing.
//! - `delivery_log`: which connections already got a message.
//! - `outbox_sweeper`: re-enqueues owed broadcasts that have no live job.
//! - `finished_broadcasts`: finished broadcasts leave the outbox in batches.
//! - `interop`: Action Cable / AnyCable pub/sub.
//! - `metrics`: the Prometheus families and the `WORKER_METRICS_ADDR` listener.
//! - `relay`: what Rails publishes on its Action Cable streams, relayed to API Gateway
//!   connections (`ACTION_CABLE_RELAY`) once, by one worker, as a RelayJob.
//! - [`cli`]: operator commands.

mod backoff;
pub mod cli;
mod delivery_log;
mod fanout;
mod fetch;
mod finished_broadcasts;
mod interop;
mod jobs;
mod leases;
mod management;
mod metrics;
mod outbox_sweeper;
mod outcome;
mod rate_limit;
mod relay;
pub mod runtime;
pub mod startup;
