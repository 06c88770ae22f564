//! Live connections by id, shared by the sessions and the Management API.
//!
//! A sharded [`DashMap`] instead of a `Mutex<HashMap>`: tens of thousands of POSTs per second
//! look connections up while sessions come and go, and shards keep them off each other's lock.

use std::borrow::Borrow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use chrono::{DateTime, SecondsFormat, Utc};
use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

/// A connection id in API Gateway's shape: 11 random bytes in URL-safe base64 with padding,
/// e.g. `JC1dgf9yoAMCK-g=`. The trailing `=` is deliberate: clients must percent-encode it in
/// Management API paths, as they must against AWS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionId(Box<str>);

impl ConnectionId {
    fn random() -> Self {
        Self(random_aws_id().into_boxed_str())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request id for error frames, in the same shape API Gateway uses for connection ids.
pub fn random_request_id() -> String {
    random_aws_id()
}

fn random_aws_id() -> String {
    let bytes: [u8; 11] = rand::random();
    URL_SAFE.encode(bytes)
}

impl Borrow<str> for ConnectionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a frame could not be queued for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverError {
    /// The client is not reading fast enough: AWS answers this with 429.
    Full,
    /// The connection's writer has finished: the client is gone.
    Closed,
}

/// One client connection as the rest of the emulator sees it.
#[derive(Debug)]
pub struct Connection {
    pub id: ConnectionId,
    outbound: mpsc::Sender<Message>,
    close_requested: Notify,
    connected_at_ms: i64,
    last_active_ms: AtomicI64,
    source_ip: IpAddr,
    user_agent: Box<str>,
}

/// `GetConnection`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo<'a> {
    connected_at: String,
    identity: Identity<'a>,
    last_active_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    source_ip: String,
    user_agent: &'a str,
}

impl Connection {
    pub fn new(
        id: ConnectionId,
        outbound: mpsc::Sender<Message>,
        source_ip: IpAddr,
        user_agent: &str,
    ) -> Self {
        let now = now_ms();
        Self {
            id,
            outbound,
            close_requested: Notify::new(),
            connected_at_ms: now,
            last_active_ms: AtomicI64::new(now),
            source_ip,
            user_agent: user_agent.into(),
        }
    }

    /// Queues a frame for the client without waiting: a full queue is the caller's 429.
    pub fn deliver(&self, message: Message) -> Result<(), DeliverError> {
        self.outbound.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => DeliverError::Full,
            mpsc::error::TrySendError::Closed(_) => DeliverError::Closed,
        })?;
        // Traffic in either direction counts as activity for the idle timeout, as on AWS
        // (server-sent keep-alive messages keep a connection open there).
        self.touch();
        Ok(())
    }

    /// Queues a frame, waiting for room: for the session's own replies, which must not be
    /// dropped. Returns `false` once the writer has finished.
    pub async fn send(&self, message: Message) -> bool {
        let sent = self.outbound.send(message).await.is_ok();
        if sent {
            self.touch();
        }
        sent
    }

    /// Records activity now.
    pub fn touch(&self) {
        self.last_active_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// How long the connection may still stay idle, or `None` once the idle timeout has passed.
    pub fn idle_remaining(&self, idle_timeout: Duration) -> Option<Duration> {
        let idle_for = now_ms().saturating_sub(self.last_active_ms.load(Ordering::Relaxed));
        let idle_for = Duration::from_millis(u64::try_from(idle_for).unwrap_or(0));
        idle_timeout
            .checked_sub(idle_for)
            .filter(|rest| !rest.is_zero())
    }

    /// Asks the session to close the connection (Management API `DELETE`). Stores a permit, so
    /// the request is not lost if the session is busy at this instant.
    pub fn request_close(&self) {
        self.close_requested.notify_one();
    }

    /// Resolves once [`Connection::request_close`] has been called.
    pub async fn close_requested(&self) {
        self.close_requested.notified().await;
    }

    pub fn info(&self) -> ConnectionInfo<'_> {
        ConnectionInfo {
            connected_at: iso8601(self.connected_at_ms),
            identity: Identity {
                source_ip: self.source_ip.to_string(),
                user_agent: &self.user_agent,
            },
            last_active_at: iso8601(self.last_active_ms.load(Ordering::Relaxed)),
        }
    }
}

#[derive(Debug, Default)]
pub struct Registry {
    connections: DashMap<ConnectionId, Arc<Connection>>,
}

impl Registry {
    /// A fresh id that no live connection uses.
    pub fn new_id(&self) -> ConnectionId {
        loop {
            let id = ConnectionId::random();
            if !self.connections.contains_key(id.as_str()) {
                return id;
            }
        }
    }

    pub fn insert(&self, connection: Arc<Connection>) {
        self.connections.insert(connection.id.clone(), connection);
    }

    /// Runs `f` on the connection while holding only its shard's read lock, which spares the
    /// hot POST path an `Arc` clone.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        self.connections.get(id).map(|entry| f(entry.value()))
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.connections
            .remove(id)
            .map(|(_, connection)| connection)
    }

    pub fn len(&self) -> usize {
        self.connections.len()
    }

    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso8601(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_api_gateway_shape() {
        let id = ConnectionId::random();
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().ends_with('='));
        assert_eq!(id.as_str().matches('=').count(), 1);
    }

    #[test]
    fn timestamps_are_iso8601_with_millis() {
        assert_eq!(iso8601(1_587_578_297_539), "2020-04-22T17:58:17.539Z");
    }
}
