//! pgbench, driven: custom scripts ([`crate::pgbench_script`]) at a fixed client count for a
//! fixed time over the prepared protocol; its summary, the latency quantiles from its
//! per-transaction log, and whether its connections were encrypted (`pg_stat_ssl`, read
//! while it runs).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::process::Command;

use crate::pgbench_script::Script;
use crate::stats::Latencies;
use crate::tools;

/// pgbench refuses more `-f` scripts than this (its `MAX_SCRIPTS`).
pub const MAX_SCRIPTS: usize = 128;
/// pgbench's `application_name`, by which its connections are found in `pg_stat_activity`.
const APPLICATION_NAME: &str = "pgbench";

/// One pgbench setting: where, how many clients and threads, for how long.
#[derive(Debug, Clone)]
pub struct Pgbench {
    /// A libpq connection URI.
    pub url: String,
    pub clients: usize,
    pub threads: usize,
    pub duration: Duration,
}

/// What one measured pgbench run reported.
pub struct PgbenchRun {
    /// Transactions per second, without the initial connection time.
    pub per_sec: f64,
    pub failed: u64,
    /// pgbench's own `latency average`.
    pub latency_average_ms: f64,
    /// Every transaction's latency, from the per-transaction log.
    pub latencies: Latencies,
    /// pgbench's connections, and how many of them used TLS, seen while it ran.
    pub tls: Encrypted,
}

/// Connections seen in `pg_stat_ssl`, and how many of them were encrypted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encrypted {
    pub encrypted: i64,
    pub total: i64,
}

impl Encrypted {
    pub fn describe(&self) -> String {
        format!("{} of {} over TLS", self.encrypted, self.total)
    }
}

/// `pgbench` on `PATH` (Debian's postgresql-client puts it in /usr/bin).
fn binary() -> anyhow::Result<PathBuf> {
    tools::require("pgbench", "postgresql-client")
}

/// `url` with `sslmode=prefer` unless it names a mode: libpq's default, and the default of
/// sqlx, which web connects with.
pub fn with_prefer_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&sslmode=prefer")
    } else {
        format!("{url}?sslmode=prefer")
    }
}

impl Pgbench {
    /// Runs `scripts` (picked at random, equal weights) once; `db` is a connection to the
    /// same database, for `pg_stat_ssl`.
    pub async fn run(
        &self,
        scripts: &[Script],
        db: &DatabaseConnection,
    ) -> anyhow::Result<PgbenchRun> {
        anyhow::ensure!(
            !scripts.is_empty() && scripts.len() <= MAX_SCRIPTS,
            "pgbench takes 1 to {MAX_SCRIPTS} scripts, not {}",
            scripts.len()
        );
        let dir = tempfile::Builder::new().prefix("wsgw-pgbench-").tempdir()?;
        let mut command = Command::new(binary()?);
        command
            .args(["--no-vacuum", "--protocol=prepared"])
            .arg(format!("--client={}", self.clients))
            .arg(format!("--jobs={}", self.threads.min(self.clients)))
            .arg(format!("--time={}", self.duration.as_secs().max(1)))
            .arg("--log")
            .arg(format!("--log-prefix={}", dir.path().join("tx").display()));
        for (index, script) in scripts.iter().enumerate() {
            let path = dir.path().join(format!("frame-{index}.sql"));
            std::fs::write(&path, &script.text)?;
            command.arg(format!("--file={}@1", path.display()));
            for (name, value) in &script.definitions {
                command.arg(format!("--define={name}={value}"));
            }
        }
        command
            .arg(&self.url)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().context("starting pgbench")?;
        let tls = watch_tls(db, self.clients, self.duration).await?;
        let output = child.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || stderr.contains("aborted") {
            bail!(
                "pgbench failed ({}):\n{stderr}\n{stdout}\nthe first script:\n{}",
                output.status,
                scripts[0].text
            );
        }
        let summary = |label: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(label))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse::<f64>().ok())
                .with_context(|| format!("pgbench printed no `{label}`:\n{stdout}"))
        };
        Ok(PgbenchRun {
            per_sec: summary("tps = ")?,
            failed: summary("number of failed transactions: ").unwrap_or(0.0) as u64,
            latency_average_ms: summary("latency average = ")?,
            latencies: logged_latencies(dir.path())?,
            tls,
        })
    }
}

/// Waits until all of pgbench's connections are open (or a while), then counts how many
/// are encrypted.
async fn watch_tls(
    db: &DatabaseConnection,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Encrypted> {
    let deadline = tokio::time::Instant::now() + duration.min(Duration::from_secs(5));
    loop {
        let seen = encrypted(db, true).await?;
        if seen.total >= clients as i64 || tokio::time::Instant::now() >= deadline {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Client connections to this database, pgbench's or everyone else's (this tool's pool,
/// opened by `shared::db` as web opens its own), and how many of them are encrypted.
pub async fn encrypted(db: &DatabaseConnection, pgbench: bool) -> anyhow::Result<Encrypted> {
    let sql = format!(
        "SELECT count(*) FILTER (WHERE s.ssl) AS encrypted, count(*) AS total \
         FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
         WHERE a.datname = current_database() AND a.backend_type = 'client backend' \
         AND (a.application_name = '{APPLICATION_NAME}') = {pgbench}"
    );
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .context("pg_stat_ssl answered no row")?;
    Ok(Encrypted {
        encrypted: row.try_get("", "encrypted")?,
        total: row.try_get("", "total")?,
    })
}

/// The latencies of every transaction in pgbench's per-transaction logs (`tx.<pid>` and
/// `tx.<pid>.<thread>`): the third field, in microseconds.
fn logged_latencies(dir: &Path) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("tx."));
        if !is_log {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            if let Some(micros) = line
                .split_whitespace()
                .nth(2)
                .and_then(|field| field.parse::<u64>().ok())
            {
                latencies.record(Duration::from_micros(micros));
            }
        }
    }
    Ok(latencies)
}
