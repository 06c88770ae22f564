//! What every request handler can reach.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use shared::config::{CommonSettings, WebSettings};
use shared::message_view::MessageRenderer;
use shared::queue::{Queues, RedisConnection};

use crate::cable::Cable;
use crate::chat::AuthTimes;
use crate::shutdown::Draining;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub redis: RedisConnection,
    pub queues: Queues,
    pub common: CommonSettings,
    pub web: WebSettings,
    pub renderer: MessageRenderer,
    pub metrics: Option<PrometheusHandle>,
    /// Set on SIGTERM: `/readyz` answers 503 and responses close their connection.
    pub draining: Draining,
    /// The Action Cable sockets of this replica.
    pub cable: Cable,
    /// `last_auth_successed_at` of the frames answered, not yet written.
    pub auth_times: AuthTimes,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
