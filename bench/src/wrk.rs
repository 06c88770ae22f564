//! wrk, driven: POSTs of one small JSON body at a fixed number of connections, each with
//! one request in flight, for a fixed time; its requests/s and latency quantiles.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::Command;

use crate::tools;

/// One wrk setting.
#[derive(Debug, Clone)]
pub struct Wrk {
    pub url: String,
    pub connections: usize,
    pub threads: usize,
    pub duration: Duration,
    pub body: String,
}

/// What one wrk run reported.
#[derive(Debug, Clone, Copy)]
pub struct WrkRun {
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Wrk {
    /// `wrk -v`'s first line, without its copyright.
    pub async fn version() -> String {
        let Ok(binary) = tools::require("wrk", "wrk") else {
            return String::new();
        };
        let out = Command::new(binary).arg("-v").output().await;
        out.map(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            let first = text.lines().next().unwrap_or_default();
            first
                .split(" Copyright")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
    }

    pub async fn run(&self) -> anyhow::Result<WrkRun> {
        let binary = tools::require("wrk", "wrk")?;
        let dir = tempfile::Builder::new().prefix("wsgw-wrk-").tempdir()?;
        let script = dir.path().join("post.lua");
        std::fs::write(
            &script,
            format!(
                "wrk.method = \"POST\"\nwrk.body = [==[{}]==]\n\
                 wrk.headers[\"Content-Type\"] = \"application/json\"\n",
                self.body
            ),
        )?;
        let output = Command::new(binary)
            .arg(format!("--threads={}", self.threads.min(self.connections)))
            .arg(format!("--connections={}", self.connections))
            .arg(format!("--duration={}s", self.duration.as_secs().max(1)))
            .arg("--latency")
            .arg(format!("--script={}", script.display()))
            .arg(&self.url)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed ({}):\n{}\n{stdout}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        parse(&stdout)
    }
}

/// wrk's report; a run with errors or non-2xx answers did not measure the ceiling.
fn parse(stdout: &str) -> anyhow::Result<WrkRun> {
    if let Some(line) = stdout
        .lines()
        .find(|line| line.contains("Non-2xx") || line.contains("Socket errors"))
    {
        bail!("wrk saw failures ({}):\n{stdout}", line.trim());
    }
    let per_sec = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.trim().parse::<f64>().ok())
        .with_context(|| format!("wrk printed no Requests/sec:\n{stdout}"))?;
    let quantile = |label: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .and_then(|rest| milliseconds(rest.trim()))
            .with_context(|| format!("wrk printed no {label} latency:\n{stdout}"))
    };
    Ok(WrkRun {
        per_sec,
        p50_ms: quantile("50%")?,
        p99_ms: quantile("99%")?,
    })
}

/// wrk's `850.00us`, `21.53ms`, `1.02s`, `2.00m`, in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let units = [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)];
    units.iter().find_map(|(unit, factor)| {
        text.strip_suffix(unit)
            .and_then(|number| number.parse::<f64>().ok())
            .map(|number| number * factor)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 3s test @ http://127.0.0.1:18099/bench/@connections/wrk-0
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.95ms    1.66ms  38.92ms   81.46%
    Req/Sec     5.75k   454.32     6.46k    60.00%
  Latency Distribution
     50%   21.53ms
     75%   22.59ms
     90%   23.84ms
     99%   1.02s
  34424 requests in 3.05s, 5.29MB read
Requests/sec:  11286.81
Transfer/sec:      1.73MB
";

    #[test]
    fn reports_are_read() {
        let run = parse(REPORT).unwrap();
        assert_eq!(run.per_sec, 11286.81);
        assert!((run.p50_ms - 21.53).abs() < 1e-9);
        assert!((run.p99_ms - 1020.0).abs() < 1e-9);
    }

    #[test]
    fn failures_are_not_a_ceiling() {
        let failed = REPORT.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 12\nRequests/sec",
        );
        assert!(parse(&failed).is_err());
    }

    #[test]
    fn units() {
        assert_eq!(milliseconds("850.00us"), Some(0.85));
        assert_eq!(milliseconds("2.00m"), Some(120_000.0));
        assert_eq!(milliseconds("soon"), None);
    }
}
