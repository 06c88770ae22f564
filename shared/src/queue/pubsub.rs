//! Pub/sub connections (Action Cable streams, the relay) on a node of a Redis deployment.
//!
//! In a Redis Cluster, a PUBLISH reaches the subscribers of every node (the cluster bus
//! carries it), so a plain connection to any one node hears every stream. The seed nodes
//! are tried in turn, starting with the one that worked last, so a subscriber that lost
//! its node moves to another.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use redis::RedisResult;
use redis::aio::PubSub;

use super::target::RedisTarget;
use crate::config::RedisSettings;

/// Cheap to clone; clones share which node is tried first.
#[derive(Clone)]
pub struct PubsubNodes {
    target: Arc<RedisTarget>,
    next: Arc<AtomicUsize>,
}

impl PubsubNodes {
    /// The nodes of `settings`, with its TLS set-up; connects to nothing yet.
    pub fn new(settings: &RedisSettings) -> RedisResult<Self> {
        Ok(Self {
            target: Arc::new(RedisTarget::new(
                settings,
                super::connection::CONNECT_TIMEOUT,
            )?),
            next: Arc::default(),
        })
    }

    /// A pub/sub connection to the first node that accepts one; the error of the last
    /// node tried when none does.
    pub async fn open(&self) -> RedisResult<PubSub> {
        let nodes = self.target.nodes();
        let first = self.next.load(Ordering::Relaxed);
        let mut last_error = None;
        for step in 0..nodes.len() {
            let index = (first + step) % nodes.len();
            match nodes[index].get_async_pubsub().await {
                Ok(pubsub) => {
                    self.next.store(index, Ordering::Relaxed);
                    return Ok(pubsub);
                }
                Err(error) => last_error = Some(error),
            }
        }
        self.next
            .store((first + 1) % nodes.len(), Ordering::Relaxed);
        Err(last_error.expect("a target has at least one node"))
    }

    /// `host:port` of the nodes, for logs (never a password).
    pub fn addr(&self) -> String {
        self.target.addr()
    }
}
