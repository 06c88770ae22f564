//! The callbacks' physical ceiling: PostgreSQL running exactly the statements one `$default`
//! frame sends, driven by pgbench at the callbacks' client count, next to the callbacks'
//! own requests/s from the same run.
//!
//! `auth_request` (a token already bound to its connection) is one SELECT,
//! `tokens::bound_or_by_code`; its `last_auth_successed_at` write is batched across frames,
//! so it is left out. `send_message` is that SELECT, then `outbox::store_message`'s one
//! statement. Each statement is built by the product's own query functions and turned into
//! a pgbench script by [`crate::pgbench_script`].

use anyhow::Context;
use chrono::Utc;
use e2e::TestEnv;
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryTrait};
use shared::domain::{Channel, ConnectionId, MessageBody, Peer};
use shared::entities::ws_tokens;
use shared::queries::{outbox, tokens};

use crate::identities;
use crate::options::Settings;
use crate::pgbench::{self, Encrypted, Pgbench, PgbenchRun};
use crate::pgbench_script::{Script, ScriptBuilder};
use crate::report::Report;
use crate::stack::Database;

mod report;

/// What the callbacks' send_message load sends.
const MESSAGE_BODY: &str = "benchmark message";
/// pgbench's threads: this machine's two cores, as in the issue.
const THREADS: usize = 2;
/// A token bound to its own connection, as the callbacks' load connections hold them.
struct BoundToken {
    connection_id: String,
    code: String,
    user_id: i64,
}

/// One frame's statements and the runs that measured them.
pub struct Workload {
    pub name: &'static str,
    pub scripts: Vec<Script>,
    pub runs: Vec<PgbenchRun>,
}

pub async fn run(settings: &Settings, callbacks: &Report) -> anyhow::Result<Report> {
    if settings.database != Database::Postgres {
        return Ok(report::skipped(
            "pgbench measures PostgreSQL; this run used SQLite",
        ));
    }
    let env = TestEnv::postgres().await;
    let db = env.db.connect().await;
    let bound = bind_tokens(&db, settings.concurrency.min(pgbench::MAX_SCRIPTS)).await?;
    let mut workloads = [
        Workload {
            name: "auth_request",
            scripts: scripts(&bound, auth_request)?,
            runs: Vec::new(),
        },
        Workload {
            name: "send_message",
            scripts: scripts(&bound, send_message)?,
            runs: Vec::new(),
        },
    ];
    let mut pgbench = Pgbench {
        url: pgbench::with_prefer_tls(env.db.url()),
        clients: settings.concurrency,
        threads: THREADS,
        duration: settings.warmup,
    };
    for workload in &workloads {
        pgbench.run(&workload.scripts, &db).await?;
    }
    pgbench.duration = settings.callbacks_duration;
    // Interleaved, as the callbacks' loads are. No CPU split here: pgbench and its backends
    // exit before a window could read their time.
    for run in 1..=settings.runs {
        for workload in &mut workloads {
            let measured = pgbench.run(&workload.scripts, &db).await?;
            eprintln!(
                "[bench] pgbench, {}, run {run}: {:.0} transactions/s, average {:.2} ms, \
                 p99 {:.2} ms, {}",
                workload.name,
                measured.per_sec,
                measured.latency_average_ms,
                measured.latencies.quantile_ms(0.99),
                measured.tls.describe()
            );
            workload.runs.push(measured);
        }
    }
    let driver_tls: Encrypted = pgbench::encrypted(&db, false).await?;
    Ok(report::render(
        settings, &pgbench, &workloads, callbacks, driver_tls,
    ))
}

/// `count` users with a token each, bound to its own connection by `record_auth_success`,
/// as a first `auth_request` binds it.
async fn bind_tokens(db: &DatabaseConnection, count: usize) -> anyhow::Result<Vec<BoundToken>> {
    let codes = identities::create(db, "pgbench", count).await?;
    let stored = ws_tokens::Entity::find()
        .filter(ws_tokens::Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await?;
    let now = Utc::now();
    let mut bound = Vec::with_capacity(count);
    for (index, code) in codes.into_iter().enumerate() {
        let token = stored
            .iter()
            .find(|token| token.code == code)
            .cloned()
            .context("a bench token was not stored")?;
        let connection_id = format!("bench-pgbench-{index}=");
        let peer = Peer::Gateway(ConnectionId::parse(&connection_id)?);
        let token = tokens::record_auth_success(db, token, now, Some(&peer)).await?;
        bound.push(BoundToken {
            connection_id,
            code,
            user_id: token.user_id.context("a bench token without its user")?,
        });
    }
    Ok(bound)
}

/// One script per bound token: pgbench picks one at random for each transaction, so the
/// values vary over the tokens as the callbacks' load connections do.
fn scripts(
    bound: &[BoundToken],
    frame: fn(&mut ScriptBuilder, &BoundToken) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Script>> {
    bound
        .iter()
        .enumerate()
        .map(|(index, token)| {
            let mut builder = ScriptBuilder::new(format!("t{index}"));
            frame(&mut builder, token)?;
            Ok(builder.finish())
        })
        .collect()
}

/// The one statement of `auth_request` on a bound token.
fn auth_request(script: &mut ScriptBuilder, token: &BoundToken) -> anyhow::Result<()> {
    let peer = Peer::Gateway(ConnectionId::parse(&token.connection_id)?);
    let select = tokens::bound_or_by_code(&peer, &token.code).build(DbBackend::Postgres);
    script.statement(&select, &[])?;
    Ok(())
}

/// `send_message`'s statements: the frame's SELECT, then `outbox::store_message`'s one
/// statement (the message and its outbox entry, one implicit transaction).
fn send_message(script: &mut ScriptBuilder, token: &BoundToken) -> anyhow::Result<()> {
    auth_request(script, token)?;
    let body = MessageBody::parse(MESSAGE_BODY, usize::MAX)?;
    let store = outbox::store_message_statement(&Channel::All, &body, token.user_id);
    script.statement(&store, &[])?;
    Ok(())
}
