//! nginx as an independent stand-in for API Gateway's Management API: it answers
//! `POST /<stage>/@connections/<id>` with 200 after a fixed delay, using the echo module's
//! `echo_sleep` (a timer, so a waiting post holds no worker process), on a free port of
//! 127.0.0.1, with a configuration written to a temporary directory. Anything else gets 403
//! or 404, so a stray request cannot pass for a delivery. `stub_status` counts the
//! requests it answered.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tools;

const ECHO_MODULE: &str = "ngx_http_echo_module.so";
const STATUS_PATH: &str = "/nginx_status";
/// How long nginx gets to start, and to stop before it is killed.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The running nginx: its master process (ours) and the workers it forks.
pub struct StandIn {
    master: Child,
    port: u16,
    stage: String,
    /// `nginx/1.22.1`, from `nginx -v`.
    pub version: String,
    dir: tempfile::TempDir,
}

impl StandIn {
    /// Starts nginx answering posts to `/<stage>/@connections/<id>` after `delay`.
    pub async fn start(stage: &str, delay: Duration) -> anyhow::Result<Self> {
        let binary = tools::require("nginx", "nginx libnginx-mod-http-echo")?;
        let module = echo_module(&binary)?;
        let dir = tempfile::Builder::new().prefix("wsgw-nginx-").tempdir()?;
        let port = free_port()?;
        let config = dir.path().join("nginx.conf");
        std::fs::write(
            &config,
            configuration(dir.path(), &module, port, stage, delay),
        )?;
        let master = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let version = Command::new(&binary)
            .arg("-v")
            .output()
            .map(|out| {
                let printed = String::from_utf8_lossy(&out.stderr);
                let printed = printed.trim();
                printed
                    .strip_prefix("nginx version: ")
                    .unwrap_or(printed)
                    .to_owned()
            })
            .unwrap_or_default();
        let mut stand_in = Self {
            master,
            port,
            stage: stage.to_owned(),
            version,
            dir,
        };
        stand_in.wait_ready().await?;
        Ok(stand_in)
    }

    /// The worker's `APIGW_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, self.stage)
    }

    /// Where a post to `connection_id` goes.
    pub fn post_url(&self, connection_id: &str) -> String {
        format!("{}/@connections/{connection_id}", self.endpoint())
    }

    /// Requests answered since nginx started (stub_status), this one included.
    pub async fn requests(&self) -> anyhow::Result<u64> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let request = format!("GET {STATUS_PATH} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        // "server accepts handled requests\n 3 3 5 \n": the third number.
        answer
            .lines()
            .skip_while(|line| !line.starts_with("server accepts handled requests"))
            .nth(1)
            .and_then(|line| line.split_whitespace().nth(2))
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("nginx's stub_status said:\n{answer}"))
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if self.requests().await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.master.try_wait()? {
                bail!("nginx exited ({status}):\n{}", self.error_log());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "nginx did not answer within {START_TIMEOUT:?}:\n{}",
                    self.error_log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for StandIn {
    /// SIGTERM to the master, which stops its workers; killing the master alone would
    /// leave them holding the port.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.master.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if !matches!(self.master.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

fn configuration(dir: &Path, module: &Path, port: u16, stage: &str, delay: Duration) -> String {
    let dir = dir.display();
    format!(
        r#"load_module {module};
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = {STATUS_PATH} {{ stub_status; }}
        location ~ ^/{stage}/@connections/[^/]+$ {{
            limit_except POST {{ deny all; }}
            echo_sleep {delay:.3};
        }}
        location / {{ return 404; }}
    }}
}}
"#,
        module = module.display(),
        delay = delay.as_secs_f64(),
    )
}

/// The echo module (Debian: libnginx-mod-http-echo), in nginx's `--modules-path`.
fn echo_module(nginx: &Path) -> anyhow::Result<PathBuf> {
    let built_with = Command::new(nginx).arg("-V").output()?;
    let built_with = String::from_utf8_lossy(&built_with.stderr);
    let modules = built_with
        .split_whitespace()
        .find_map(|flag| flag.strip_prefix("--modules-path="))
        .unwrap_or("/usr/lib/nginx/modules");
    let module = Path::new(modules).join(ECHO_MODULE);
    anyhow::ensure!(
        module.is_file(),
        "nginx's echo module {} is not installed (Debian: apt-get install \
         libnginx-mod-http-echo; scripts/bench and scripts/bench-smoke install it)",
        module.display()
    );
    Ok(module)
}

/// A port nothing listens on right now (the kernel's pick).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
