//! A database of one test: a fresh PostgreSQL database or SQLite file, migrated with the
//! real `migration up`, gone after the test.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::binaries::binary;
use crate::process::{clean_command, run_to_exit};

/// The server that test databases are created on (any database of it; we connect as a
/// user allowed to create and drop databases).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

enum Owned {
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A database on a server of the test's own: it goes with the server.
    OnOwnServer,
    Sqlite {
        _dir: tempfile::TempDir,
    },
}

pub struct TestDb {
    url: String,
    owned: Owned,
}

impl TestDb {
    /// Creates `wsgw_t_<uuid>` on `TEST_POSTGRES_URL` and migrates it.
    pub async fn postgres() -> Self {
        let admin_url =
            std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let (url, name) = Self::create(&admin_url).await;
        // Built before migrating, so the database is dropped even if migrating panics.
        let db = Self {
            url,
            owned: Owned::Postgres { admin_url, name },
        };
        db.migrate().await;
        db
    }

    /// A migrated database on a [`PostgresServer`](crate::postgres_server::PostgresServer)
    /// of the test's own (`admin_url`); it is not dropped, the server's directory goes.
    pub async fn postgres_on(admin_url: &str) -> Self {
        let (url, _) = Self::create(admin_url).await;
        let db = Self {
            url,
            owned: Owned::OnOwnServer,
        };
        db.migrate().await;
        db
    }

    /// Creates `wsgw_t_<uuid>` on the server of `admin_url`; its URL and name.
    async fn create(admin_url: &str) -> (String, String) {
        let name = format!("wsgw_t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url).await.unwrap_or_else(|error| {
            panic!("cannot connect to TEST_POSTGRES_URL {admin_url}: {error}")
        });
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        (url.to_string(), name)
    }

    /// A SQLite file in a temporary directory, migrated.
    pub async fn sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("wsgw-sqlite-")
            .tempdir()
            .expect("a temporary directory");
        let url = format!("sqlite://{}/test.sqlite3?mode=rwc", dir.path().display());
        let db = Self {
            url,
            owned: Owned::Sqlite { _dir: dir },
        };
        db.migrate().await;
        db
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn engine(&self) -> Engine {
        match self.owned {
            Owned::Postgres { .. } | Owned::OnOwnServer => Engine::Postgres,
            Owned::Sqlite { .. } => Engine::Sqlite,
        }
    }

    /// A connection pool for assertions and fixtures, set up like the application's.
    pub async fn connect(&self) -> DatabaseConnection {
        shared::db::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to {}: {error}", self.url))
    }

    async fn migrate(&self) {
        let scratch = std::env::temp_dir();
        let mut command = clean_command(&binary("migration"), &scratch);
        command.env("DATABASE_URL", &self.url);
        let finished = run_to_exit(command, ["up"], MIGRATION_TIMEOUT).await;
        assert!(
            finished.success,
            "`migration up` failed on {}:\n{}\n{}",
            self.url, finished.stdout, finished.stderr
        );
    }
}

impl Drop for TestDb {
    /// Best effort, never panics: a database left behind is named `wsgw_t_*`.
    fn drop(&mut self) {
        let Owned::Postgres { admin_url, name } = &self.owned else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop cannot await, and may run inside a runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let work = async {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let result = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                    result.ok()
                };
                tokio::time::timeout(Duration::from_secs(15), work)
                    .await
                    .ok()
                    .flatten()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: could not drop test database {}", self.url);
        }
    }
}
