//! The table of the callbacks' PostgreSQL ceiling, with the callbacks' own requests/s of
//! the same run divided by pgbench's transactions/s.

use super::Workload;
use crate::options::Settings;
use crate::pgbench::{Encrypted, Pgbench, PgbenchRun};
use crate::report::{Report, Row};
use crate::stats::median;

const TITLE: &str = "Callbacks' ceiling: PostgreSQL running one frame's statements (pgbench)";

pub fn skipped(why: &str) -> Report {
    let mut report = Report::new(TITLE);
    report.note(format!("Not measured: {why}."));
    report
}

pub fn render(
    settings: &Settings,
    pgbench: &Pgbench,
    workloads: &[Workload],
    callbacks: &Report,
    driver_tls: Encrypted,
) -> Report {
    let mut report = Report::new(TITLE);
    let tokens = workloads.first().map_or(0, |w| w.scripts.len());
    report.setting(format!(
        "pgbench -M prepared (sqlx prepares its statements too) -c {} -j {} -T {}, one pgbench \
         transaction = one frame's statements; {} runs interleaved after a warm-up, in a fresh \
         database of this run holding what the callbacks' holds: {tokens} users, each with a \
         token bound to its own connection id by record_auth_success, as a first auth_request \
         binds it",
        pgbench.clients,
        pgbench.threads.min(pgbench.clients),
        pgbench.duration.as_secs().max(1),
        settings.runs,
    ));
    report.setting(format!(
        "one script per token, picked at random for each transaction, so the values vary \
         over the {tokens} tokens as over the callbacks' load connections; each $n placeholder \
         of the built statement is a pgbench variable defined with -D (sent as text, typed by \
         the server); a NULL value is written as the literal NULL, since a pgbench variable \
         cannot be NULL"
    ));
    report.setting(
        "auth_request: the one statement of a frame on a bound token, \
         shared::queries::tokens::bound_or_by_code built for PostgreSQL; its \
         last_auth_successed_at write is batched across frames and left out",
    );
    report.setting(
        "send_message: that SELECT, then outbox::store_message_statement, the one statement \
         that stores the message and its pending_broadcasts row (its own transaction)",
    );
    let tls = workloads
        .iter()
        .flat_map(|w| w.runs.iter())
        .map(|run| run.tls)
        .next()
        .unwrap_or_default();
    report.setting(format!(
        "connection: {}; measured in pg_stat_ssl while running: pgbench {}; this tool's own \
         pool, opened by shared::db as web opens its pool (sqlx, whose default is \
         sslmode=prefer too), {}; latency quantiles from pgbench's per-transaction log",
        redacted(&pgbench.url),
        tls.describe(),
        driver_tls.describe()
    ));
    for workload in workloads {
        let name = format!("{}'s statements", workload.name);
        let column = |value: fn(&PgbenchRun) -> f64| workload.runs.iter().map(value).collect();
        report.row(Row::new(
            &name,
            "pgbench transactions/s",
            column(|r| r.per_sec),
        ));
        report.row(Row::new(
            &name,
            "latency average (ms)",
            column(|r| r.latency_average_ms),
        ));
        report.row(Row::new(
            &name,
            "latency p50 (ms)",
            column(|r| r.latencies.quantile_ms(0.5)),
        ));
        report.row(Row::new(
            &name,
            "latency p99 (ms)",
            column(|r| r.latencies.quantile_ms(0.99)),
        ));
        let failed: Vec<f64> = column(|r| r.failed as f64);
        if failed.iter().any(|n| *n > 0.0) {
            report.row(Row::new(&name, "failed transactions", failed));
        }
        let tps: Vec<f64> = column(|r| r.per_sec);
        match callbacks_rates(callbacks, workload.name) {
            Some(rates) => report.row(Row::new(
                workload.name,
                "callbacks' requests/s ÷ pgbench transactions/s",
                ratios(&rates, &tps),
            )),
            None => report.note(format!(
                "{}: the callbacks' table has no requests/s row to divide.",
                workload.name
            )),
        }
    }
    for workload in workloads {
        if let Some(script) = workload.scripts.first() {
            report.note(format!(
                "{}'s pgbench script (the first of {}, one per token):\n\n```sql\n{}```",
                workload.name,
                workload.scripts.len(),
                script.text
            ));
        }
    }
    report
}

/// The callbacks' `requests/s` runs of `endpoint`.
fn callbacks_rates(callbacks: &Report, endpoint: &str) -> Option<Vec<f64>> {
    callbacks
        .rows
        .iter()
        .find(|row| row.setting == endpoint && row.measure == "requests/s")
        .map(|row| row.runs.clone())
}

/// Run k ÷ run k when both have as many runs (they ran in the same invocation, in that
/// order), else median ÷ median.
fn ratios(rates: &[f64], tps: &[f64]) -> Vec<f64> {
    if rates.len() == tps.len() {
        rates
            .iter()
            .zip(tps)
            .map(|(rate, tps)| rate / tps)
            .collect()
    } else {
        vec![median(rates) / median(tps)]
    }
}

/// The URL without a password, if it has one.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if scheme < at => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redacted("postgres://app:secret@db:5432/x?sslmode=prefer"),
            "postgres://app:***@db:5432/x?sslmode=prefer"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1:5432/x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
    }

    #[test]
    fn runs_are_paired_when_they_can_be() {
        assert_eq!(ratios(&[10.0, 20.0], &[20.0, 40.0]), vec![0.5, 0.5]);
        assert_eq!(ratios(&[10.0, 30.0, 20.0], &[40.0]), vec![0.5]);
    }
}
