//! Database connection pool for PostgreSQL or the embedded SQLite file, waiting for
//! PostgreSQL at start-up, and telling an unreachable database from a failed query.

use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr};

/// How long the operator commands and tests wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pauses between attempts while waiting for PostgreSQL: doubling from the first to the last.
const WAIT_PAUSES: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(2));
/// How long the connection that finds out why the database is unreachable may take.
const DIAGNOSIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects now, or fails: for the operator commands and tests.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, ACQUIRE_TIMEOUT)).await
}

/// A pool that opens its PostgreSQL connections when they are needed, so a process starts
/// while PostgreSQL is down; a request then fails after `acquire_timeout` with an error
/// that [`is_unavailable`] recognizes. SQLite is opened at once: a file that cannot be
/// opened is a configuration error, not an outage.
pub async fn connect_lazy(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url, acquire_timeout);
    options.connect_lazy(!is_sqlite(url));
    Database::connect(options).await
}

/// Settings that suit both engines. SQLite gets WAL and a busy timeout, so web and worker
/// processes can share one file.
fn options(url: &str, acquire_timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        .max_connections(if is_sqlite(url) { 8 } else { 20 })
        .min_connections(1)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    options
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The database answers but holds none of our tables: nobody ran the migrations against it
/// (a relative SQLite path opened from another directory is a new, empty file).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the database {database} has no tables: apply the schema with `migration up` \
         and the same DATABASE_URL (scripts/stack does it for the repository root's SQLite file)"
    )]
    Missing { database: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Fails with [`SchemaError::Missing`] when the migrations were never applied, so an
/// operator command says what to do instead of `no such table: users`.
pub async fn ensure_schema(db: &DatabaseConnection, url: &str) -> Result<(), SchemaError> {
    match db.execute_unprepared("SELECT 1 FROM users LIMIT 1").await {
        Ok(_) => Ok(()),
        Err(error) if is_missing_table(&error) => Err(SchemaError::Missing {
            database: database_shown(url),
        }),
        Err(error) => Err(error.into()),
    }
}

fn is_missing_table(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return false;
    };
    match error.as_ref() {
        // PostgreSQL's undefined_table; SQLite has no code of its own for it.
        sqlx::Error::Database(error) => {
            error.code().as_deref() == Some("42P01") || error.message().contains("no such table")
        }
        _ => false,
    }
}

/// The server and database, or for SQLite the file's absolute path: a relative path is
/// resolved against the working directory, which is what surprises.
fn database_shown(url: &str) -> String {
    let shown = server_of(url);
    let Some(path) = shown.strip_prefix("sqlite://") else {
        return shown;
    };
    let absolute = std::env::current_dir()
        .map(|dir| dir.join(path))
        .unwrap_or_else(|_| path.into());
    format!("sqlite://{}", absolute.display())
}

/// A cheap round trip, for readiness checks.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Returns once the database answers, logging every failed attempt and the pause before the
/// next one. `url` is only shown as its host, port and database (never its password).
pub async fn wait_until_reachable(db: &DatabaseConnection, url: &str) {
    let server = server_of(url);
    let mut pause = WAIT_PAUSES.0;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match ping(db).await {
            Ok(()) if attempts == 1 => return,
            Ok(()) => {
                tracing::info!(%server, attempts, "the database is reachable");
                return;
            }
            Err(error) => {
                let reason = why_unreachable(url)
                    .await
                    .unwrap_or_else(|| error.to_string());
                tracing::warn!(%server, attempt = attempts, retry_in = ?pause, %reason,
                    "the database is unreachable; waiting for it");
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(WAIT_PAUSES.1);
    }
}

/// What a connection of its own to a PostgreSQL `url` fails with: the pool only says that
/// it timed out, this says why (refused, unknown host, wrong password).
async fn why_unreachable(url: &str) -> Option<String> {
    use sqlx::Connection;
    if is_sqlite(url) {
        return None;
    }
    let attempt = sqlx::postgres::PgConnection::connect(url);
    match tokio::time::timeout(DIAGNOSIS_TIMEOUT, attempt).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            None
        }
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("no connection within {DIAGNOSIS_TIMEOUT:?}")),
    }
}

/// `host:port/database` of a PostgreSQL URL, the path of a SQLite one.
fn server_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if !is_sqlite(url) => format!(
            "{}:{}{}",
            parsed.host_str().unwrap_or(""),
            parsed.port().unwrap_or(5432),
            parsed.path()
        ),
        _ => url.split('?').next().unwrap_or("").to_owned(),
    }
}

/// Whether `error` means the database cannot be reached right now (no connection within the
/// acquire timeout, a connection lost, the server shutting down or refusing connections), as
/// opposed to a statement that failed (a constraint, a type, a bug). The first is worth a 503
/// and a retry; the second is not.
pub fn is_unavailable(error: &DbErr) -> bool {
    let runtime = match error {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(error) = runtime else {
        return false;
    };
    match error.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's class 08 (connection exception), and 57P01..57P03: the server is
        // shutting down or not accepting connections yet.
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || ["57P01", "57P02", "57P03"].contains(&code.as_ref())
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_shown_without_credentials() {
        assert_eq!(
            server_of("postgres://app:secret@db.internal:6432/wsgw?sslmode=require"),
            "db.internal:6432/wsgw"
        );
        assert_eq!(server_of("postgres://db/wsgw"), "db:5432/wsgw");
        assert_eq!(
            server_of("sqlite://wsgw-dev.sqlite3?mode=rwc"),
            "sqlite://wsgw-dev.sqlite3"
        );
    }

    #[tokio::test]
    async fn an_empty_database_is_told_from_a_failing_one() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("empty.sqlite3").display()
        );
        let db = connect(&url).await.unwrap();
        let error = ensure_schema(&db, &url).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, SchemaError::Missing { .. }), "{message}");
        assert!(
            message.contains("empty.sqlite3") && message.contains("migration up"),
            "{message}"
        );

        db.execute_unprepared("CREATE TABLE users (id INTEGER)")
            .await
            .unwrap();
        ensure_schema(&db, &url).await.unwrap();
    }

    #[test]
    fn outages_are_told_from_failed_statements() {
        use sea_orm::ConnAcquireErr;
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused = RuntimeErr::SqlxError(sqlx::Error::Io(refused).into());
        assert!(is_unavailable(&DbErr::Conn(refused)));
        let missing = RuntimeErr::SqlxError(sqlx::Error::RowNotFound.into());
        assert!(!is_unavailable(&DbErr::Query(missing)));
        assert!(!is_unavailable(&DbErr::RecordNotFound("user".into())));
    }
}
