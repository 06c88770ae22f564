//! Where Redis is and how to reach it (SPEC section 9): `REDIS_URL` (one node, or a
//! comma-separated list of seed nodes), `REDIS_CLUSTER` and `REDIS_CA_FILE`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{ConfigError, Env};

/// One Redis deployment: a single node or a cluster, over TCP or TLS.
#[derive(Clone)]
pub struct RedisSettings {
    /// Node URLs as given: one for a single node, the seeds for a cluster. They may carry
    /// a password, so they are never printed (see the `Debug` impl).
    pub nodes: Vec<String>,
    /// `REDIS_CLUSTER=true`: a Redis Cluster client seeded by `nodes`.
    pub cluster: bool,
    /// `REDIS_CA_FILE`: a private CA trusted beside the public roots for `rediss://`.
    pub ca: Option<PrivateCa>,
}

/// The PEM of a private CA, read once at start-up.
#[derive(Clone)]
pub struct PrivateCa {
    pub path: PathBuf,
    pub pem: Arc<[u8]>,
}

impl RedisSettings {
    /// `REDIS_URL`, `REDIS_CLUSTER` and `REDIS_CA_FILE`.
    pub fn from_env(env: &Env, default_url: &str) -> Result<Self, ConfigError> {
        let cluster = env.flag("REDIS_CLUSTER", false)?;
        let ca = PrivateCa::from_env(env)?;
        let raw = env.string("REDIS_URL", default_url);
        let nodes = parse_nodes("REDIS_URL", &raw)?;
        if nodes.len() > 1 && !cluster {
            return Err(ConfigError::new(
                "REDIS_URL",
                "a list of nodes needs REDIS_CLUSTER=true",
            ));
        }
        Ok(Self { nodes, cluster, ca })
    }

    /// `INTEROP_REDIS_URL`, when set: a single node (Rails' adapter is no cluster client)
    /// trusting `REDIS_CA_FILE` too.
    pub fn interop_from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(url) = env.optional("INTEROP_REDIS_URL") else {
            return Ok(None);
        };
        let nodes = parse_nodes("INTEROP_REDIS_URL", &url)?;
        if nodes.len() > 1 {
            return Err(ConfigError::new("INTEROP_REDIS_URL", "expected one URL"));
        }
        Ok(Some(Self {
            nodes,
            cluster: false,
            ca: PrivateCa::from_env(env)?,
        }))
    }

    /// Whether the nodes are reached over TLS (`rediss://`).
    pub fn tls(&self) -> bool {
        self.nodes.iter().any(|node| node.starts_with("rediss://"))
    }
}

/// Never prints the URLs (passwords) nor the certificate.
impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("nodes", &self.nodes.len())
            .field("cluster", &self.cluster)
            .field("tls", &self.tls())
            .field(
                "ca",
                &self.ca.as_ref().map(|ca| ca.path.display().to_string()),
            )
            .finish()
    }
}

impl PrivateCa {
    fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(path) = env.optional("REDIS_CA_FILE") else {
            return Ok(None);
        };
        let pem = std::fs::read(&path).map_err(|error| {
            ConfigError::new("REDIS_CA_FILE", format!("cannot read {path:?}: {error}"))
        })?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(ConfigError::new(
                "REDIS_CA_FILE",
                format!("{path:?} holds no PEM certificate"),
            ));
        }
        Ok(Some(Self {
            path: PathBuf::from(path),
            pem: pem.into(),
        }))
    }
}

/// Comma-separated `redis://` or `rediss://` URLs, all of one scheme.
fn parse_nodes(variable: &'static str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let nodes: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|node| !node.is_empty())
        .map(str::to_owned)
        .collect();
    if nodes.is_empty() {
        return Err(ConfigError::new(variable, "no Redis URL"));
    }
    for (index, node) in nodes.iter().enumerate() {
        if !(node.starts_with("redis://") || node.starts_with("rediss://")) {
            // The value may hold a password: only its position is named.
            return Err(ConfigError::new(
                variable,
                format!("node {} is not a redis:// or rediss:// URL", index + 1),
            ));
        }
        redis::Client::open(node.as_str())
            .map_err(|error| ConfigError::new(variable, format!("node {}: {error}", index + 1)))?;
    }
    let tls = nodes[0].starts_with("rediss://");
    if nodes
        .iter()
        .any(|node| node.starts_with("rediss://") != tls)
    {
        return Err(ConfigError::new(
            variable,
            "mixes redis:// and rediss:// nodes",
        ));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<RedisSettings, ConfigError> {
        RedisSettings::from_env(&Env::from_pairs(pairs), "redis://127.0.0.1:6379")
    }

    #[test]
    fn one_node_by_default() {
        let settings = parse(&[]).unwrap();
        assert_eq!(settings.nodes, ["redis://127.0.0.1:6379"]);
        assert!(!settings.cluster && !settings.tls() && settings.ca.is_none());
    }

    #[test]
    fn a_cluster_is_seeded_by_a_list() {
        let settings = parse(&[
            ("REDIS_CLUSTER", "true"),
            ("REDIS_URL", "rediss://a:7000, rediss://b:7001"),
        ])
        .unwrap();
        assert_eq!(settings.nodes, ["rediss://a:7000", "rediss://b:7001"]);
        assert!(settings.cluster && settings.tls());
    }

    #[test]
    fn the_private_ca_is_read_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let settings = parse(&[("REDIS_CA_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(settings.ca.unwrap().path, path);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("key.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        for (pairs, variable) in [
            (vec![("REDIS_CLUSTER", "maybe")], "REDIS_CLUSTER"),
            (
                vec![("REDIS_CA_FILE", "/nonexistent/ca.pem")],
                "REDIS_CA_FILE",
            ),
            (
                vec![("REDIS_CA_FILE", not_pem.to_str().unwrap())],
                "REDIS_CA_FILE",
            ),
            (vec![("REDIS_URL", "redis://a:1,redis://b:2")], "REDIS_URL"),
            (
                vec![
                    ("REDIS_URL", "redis://a:1,rediss://b:2"),
                    ("REDIS_CLUSTER", "1"),
                ],
                "REDIS_URL",
            ),
            (vec![("REDIS_URL", "http://a:1")], "REDIS_URL"),
            (vec![("REDIS_URL", " , ")], "REDIS_URL"),
        ] {
            let error = parse(&pairs).unwrap_err();
            assert_eq!(error.variable, variable, "{pairs:?}: {error}");
        }
    }

    #[test]
    fn a_password_is_never_printed() {
        let settings = parse(&[("REDIS_URL", "redis://:hunter2@host:1")]).unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
        let error = parse(&[("REDIS_URL", "http://:hunter2@host:1")]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
