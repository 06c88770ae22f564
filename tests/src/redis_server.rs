//! A `redis-server` of one test, on a port of its own, that the test can stop and restart
//! while the shared Redis keeps serving the tests beside it.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::wait_until;

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Set for a server that keeps an append-only file here, fsynced on every write.
    aof_dir: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// A server that keeps nothing: a restart comes back empty.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A server with `appendonly yes` and `appendfsync always`, as production should run
    /// the queue: a restart, even after SIGKILL, comes back with every acknowledged write.
    pub async fn start_persistent() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wsgw-redis-aof-")
            .tempdir()
            .expect("a directory for the AOF");
        Self::start_with(Some(dir)).await
    }

    async fn start_with(aof_dir: Option<tempfile::TempDir>) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            child: None,
            aof_dir,
        };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server outright (no save, no goodbye to clients).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port: empty, or from its AOF when persistent.
    pub async fn restart(&mut self) {
        self.kill().await;
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""]);
        match &self.aof_dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always"])
                .arg("--dir")
                .arg(dir.path()),
            None => command
                .args(["--appendonly", "no", "--dir"])
                .arg(std::env::temp_dir()),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        let url = self.url();
        wait_until(Duration::from_secs(10), || {
            let url = url.clone();
            async move {
                match redis::Client::open(url) {
                    Ok(client) => answers_ping(&client).await,
                    Err(_) => false,
                }
            }
        })
        .await
        .expect("redis-server answers");
    }
}

/// Whether a fresh connection of `client` gets an answer to PING.
pub async fn answers_ping(client: &redis::Client) -> bool {
    match client.get_multiplexed_async_connection().await {
        Ok(mut connection) => redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok(),
        Err(_) => false,
    }
}

/// A port of 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
