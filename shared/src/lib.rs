//! What web and worker share: configuration, telemetry, the data model and its queries,
//! the message JSON, the job definitions and the Redis queues they travel on.
//!
//! # Layout
//! - [`config`]: settings from the environment, one section per binary.
//! - [`telemetry`]: tracing set-up.
//! - [`domain`]: values parsed at the edge (connection ids, peers, origins, channels, token
//!   codes and statuses, users, message bodies).
//! - [`entities`]: sea-orm entities of the `migration` crate's tables.
//! - [`db`]: connection pool for PostgreSQL or SQLite.
//! - [`queries`]: every database query.
//! - [`i18n`]: localized alerts, channel names and dates.
//! - [`message_view`]: the `<message>` JSON clients render.
//! - [`jobs`]: `BroadcastJob` and `DeleteConnectionJob`.
//! - [`dead_jobs`]: deleting dead jobs, giving up their broadcasts.
//! - [`recent_broadcasts`]: what each broadcast run achieved, for the `/admin` dashboard.
//! - [`queue`]: the prioritized Redis queues, the stored job envelope, and the clock they read.
//! - [`shutdown`]: the SIGTERM/SIGINT every binary stops on.

pub mod config;
pub mod db;
pub mod dead_jobs;
pub mod domain;
pub mod entities;
pub mod i18n;
pub mod jobs;
pub mod message_view;
pub mod queries;
pub mod queue;
pub mod recent_broadcasts;
pub mod shutdown;
pub mod telemetry;
