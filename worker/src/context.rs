//! What every job handler can reach, built once per process.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use shared::config::{CommonSettings, WorkerSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{ClaimPolicy, Queues, RedisConnection};
use tokio_util::sync::CancellationToken;

use crate::delivery_log::DeliveryLog;
use crate::interop::Interop;
use crate::leases::Leases;
use crate::management::ManagementApi;

pub struct JobContext {
    pub db: DatabaseConnection,
    pub queues: Queues,
    pub common: CommonSettings,
    pub settings: WorkerSettings,
    pub management: ManagementApi,
    pub deliveries: DeliveryLog,
    pub interop: Interop,
    pub renderer: MessageRenderer,
    pub leases: Leases,
    pub redis: RedisConnection,
    /// Cancelled when the shutdown grace period ends: fan-outs start no new POST.
    pub stopping: CancellationToken,
    /// Unique per process and start: `<host>-<pid>-<random>`.
    pub worker_id: String,
}

pub type SharedContext = Arc<JobContext>;

impl JobContext {
    pub fn claim_policy(&self) -> ClaimPolicy {
        ClaimPolicy {
            lease: self.settings.job_lease,
            max_attempts: self.settings.job_max_attempts,
            dead_retention: self.settings.dead_retention,
        }
    }
}
