//! A Redis Cluster of one test: 3 masters and 3 replicas, each a `redis-server` on free
//! ports of 127.0.0.1 (the cluster bus on port + 10000), created with `redis-cli --cluster
//! create`, and planned failovers (`CLUSTER FAILOVER` sent to each replica).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::redis_server::free_port;
use crate::wait_until;

const MASTERS: usize = 3;
/// Forming, syncing and failing over, on a loaded machine.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct RedisCluster {
    ports: Vec<u16>,
    _children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts six nodes, creates the cluster with one replica per master, and waits until
    /// every slot is served and every replica is in sync.
    pub async fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wsgw-redis-cluster-")
            .tempdir()
            .expect("a directory for the nodes");
        let ports = cluster_ports(MASTERS * 2);
        let mut children = Vec::new();
        for port in &ports {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("redis-server is installed");
            children.push(child);
        }
        let cluster = Self {
            ports,
            _children: children,
            _dir: dir,
        };
        for port in cluster.ports.clone() {
            wait_until(SETTLE_TIMEOUT, || async move {
                node_info(port, "server").await.is_some()
            })
            .await
            .unwrap_or_else(|_| panic!("the node on {port} answers"));
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .await
            .expect("redis-cli is installed");
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&created.stdout),
            String::from_utf8_lossy(&created.stderr)
        );
        cluster.wait_until_settled().await;
        cluster
    }

    /// `REDIS_URL` for the product: the first three nodes as seeds.
    pub fn seed_urls(&self) -> String {
        self.ports[..MASTERS]
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of the nodes that are replicas now.
    pub async fn replicas(&self) -> Vec<u16> {
        let mut replicas = Vec::new();
        for &port in &self.ports {
            if node_info(port, "replication")
                .await
                .is_some_and(|info| info.contains("role:slave"))
            {
                replicas.push(port);
            }
        }
        replicas
    }

    /// Sends `CLUSTER FAILOVER` to every replica, one after the other: each takes over from
    /// its master (which becomes its replica) before the next is asked. Returns the ports
    /// promoted.
    pub async fn fail_over(&self) -> Vec<u16> {
        let replicas = self.replicas().await;
        assert_eq!(replicas.len(), MASTERS, "one replica per master");
        for &port in &replicas {
            let mut connection = node(port).await.expect("the replica answers");
            let answer: String = redis::cmd("CLUSTER")
                .arg("FAILOVER")
                .query_async(&mut connection)
                .await
                .unwrap_or_else(|error| panic!("CLUSTER FAILOVER on {port}: {error}"));
            assert_eq!(answer, "OK");
            self.wait_for_masters(&[port]).await;
        }
        replicas
    }

    /// Whether every node of `ports` is a master now.
    pub async fn are_masters(&self, ports: &[u16]) -> bool {
        for &port in ports {
            let master = node_info(port, "replication")
                .await
                .is_some_and(|info| info.contains("role:master"));
            if !master {
                return false;
            }
        }
        true
    }

    /// Waits until every node of `ports` is a master and the cluster is settled again.
    pub async fn wait_for_masters(&self, ports: &[u16]) {
        for &port in ports {
            wait_until(SETTLE_TIMEOUT, || async move {
                node_info(port, "replication")
                    .await
                    .is_some_and(|info| info.contains("role:master"))
            })
            .await
            .unwrap_or_else(|_| panic!("the node on {port} became a master"));
        }
        self.wait_until_settled().await;
    }

    /// Every node sees a healthy cluster of six, and every replica is in sync.
    async fn wait_until_settled(&self) {
        let ports = self.ports.clone();
        wait_until(SETTLE_TIMEOUT, || {
            let ports = ports.clone();
            async move {
                for port in ports {
                    let Some(cluster) = cluster_info(port).await else {
                        return false;
                    };
                    let Some(replication) = node_info(port, "replication").await else {
                        return false;
                    };
                    let synced = replication.contains("role:master")
                        || replication.contains("master_link_status:up");
                    if !(cluster.contains("cluster_state:ok")
                        && cluster.contains("cluster_known_nodes:6")
                        && cluster.contains("cluster_slots_ok:16384")
                        && synced)
                    {
                        return false;
                    }
                }
                true
            }
        })
        .await
        .expect("the cluster settles: every slot served, every replica in sync");
    }
}

/// `count` ports that are free, each with its cluster bus port (+ 10000) free too.
fn cluster_ports(count: usize) -> Vec<u16> {
    let mut ports = Vec::new();
    while ports.len() < count {
        let port = free_port();
        let bus_free =
            port < 55_535 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok();
        let clash = ports
            .iter()
            .any(|&taken| taken == port || taken + 10_000 == port || taken == port + 10_000);
        if bus_free && !clash {
            ports.push(port);
        }
    }
    ports
}

async fn node(port: u16) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting"))?
}

/// `INFO <section>` of one node, or `None` when it does not answer.
async fn node_info(port: u16, section: &str) -> Option<String> {
    let mut connection = node(port).await.ok()?;
    redis::cmd("INFO")
        .arg(section)
        .query_async(&mut connection)
        .await
        .ok()
}

async fn cluster_info(port: u16) -> Option<String> {
    let mut connection = node(port).await.ok()?;
    redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async(&mut connection)
        .await
        .ok()
}
