//! The Redis a process talks to, as clients: one per seed node (TLS set up on each), and a
//! cluster client when `REDIS_CLUSTER=true`. Building one checks URLs and certificates but
//! connects to nothing.

use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::{RedisError, RedisResult};

use super::trust;
use crate::config::RedisSettings;

pub struct RedisTarget {
    /// One client per node URL given, in the order given.
    nodes: Vec<redis::Client>,
    cluster: Option<ClusterClient>,
}

impl RedisTarget {
    /// Clients for `settings`; commands through the cluster client give up after
    /// `response_timeout` (MOVED/ASK and retries included).
    pub fn new(settings: &RedisSettings, response_timeout: Duration) -> RedisResult<Self> {
        trust::install_crypto_provider();
        let certificates = settings
            .tls()
            .then(|| trust::certificates(settings.ca.as_ref()))
            .flatten();
        let nodes = settings
            .nodes
            .iter()
            .map(|url| match &certificates {
                Some(certificates) => {
                    redis::Client::build_with_tls(url.as_str(), certificates.clone())
                }
                None => redis::Client::open(url.as_str()),
            })
            .collect::<RedisResult<Vec<_>>>()?;
        let cluster = if settings.cluster {
            let mut builder = ClusterClientBuilder::new(settings.nodes.iter().map(String::as_str))
                .connection_timeout(super::connection::CONNECT_TIMEOUT)
                .response_timeout(response_timeout);
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            Some(builder.build()?)
        } else {
            None
        };
        Ok(Self { nodes, cluster })
    }

    /// One node from a URL (public roots for `rediss://`).
    pub fn single(url: &str) -> RedisResult<Self> {
        trust::install_crypto_provider();
        Ok(Self {
            nodes: vec![redis::Client::open(url)?],
            cluster: None,
        })
    }

    pub fn cluster(&self) -> Option<&ClusterClient> {
        self.cluster.as_ref()
    }

    /// The node clients, in the order given; never empty.
    pub fn nodes(&self) -> &[redis::Client] {
        &self.nodes
    }

    /// `host:port` of the first node, `(cluster)` appended for a cluster (never a password).
    pub fn addr(&self) -> String {
        let first = self.nodes[0].get_connection_info().addr().to_string();
        match (&self.cluster, self.nodes.len()) {
            (None, _) => first,
            (Some(_), 1) => format!("{first} (cluster)"),
            (Some(_), n) => format!("{first} and {} more (cluster)", n - 1),
        }
    }

    /// Why a fresh connection fails, node by node until one fails: a certificate refused
    /// or a wrong password reads differently from a refused port, where a waiting command
    /// only times out.
    pub async fn why_unreachable(&self) -> String {
        for node in &self.nodes {
            let attempt = node.get_multiplexed_async_connection();
            match tokio::time::timeout(super::connection::CONNECT_TIMEOUT, attempt).await {
                Ok(Ok(_)) => continue,
                Ok(Err(error)) => return describe(node, &error),
                Err(_) => {
                    return format!(
                        "{}: no connection within {:?}",
                        node.get_connection_info().addr(),
                        super::connection::CONNECT_TIMEOUT
                    );
                }
            }
        }
        "the connection was lost".to_owned()
    }
}

fn describe(node: &redis::Client, error: &RedisError) -> String {
    format!(
        "{}: {}",
        node.get_connection_info().addr(),
        trust::describe_failure(error)
    )
}
