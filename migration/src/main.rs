//! `migration up|down|status|fresh` against `DATABASE_URL` (or `.env`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::Database;

/// The embedded default, shared with web and worker: a SQLite file created on first use.
const DEFAULT_DATABASE_URL: &str = "sqlite://wsgw-dev.sqlite3?mode=rwc";

#[derive(Parser)]
#[command(about = "Applies or rolls back the schema in DATABASE_URL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (all, or the first N).
    Up {
        #[arg(short)]
        n: Option<u32>,
    },
    /// Roll back the last migration (or the last N).
    Down {
        #[arg(short, default_value_t = 1)]
        n: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table, then apply all migrations.
    Fresh,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    match run(cli.command, &url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("migration failed (DATABASE_URL): {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, url: &str) -> Result<(), sea_orm_migration::DbErr> {
    let db = Database::connect(url).await?;
    match command {
        Command::Up { n } => {
            let pending = Migrator::get_pending_migrations(&db).await?;
            let applying: Vec<String> = pending
                .iter()
                .take(n.map_or(usize::MAX, |n| n as usize))
                .map(|migration| migration.name().to_owned())
                .collect();
            Migrator::up(&db, n).await?;
            if applying.is_empty() {
                println!("the schema is up to date");
            }
            for name in applying {
                println!("applied {name}");
            }
        }
        Command::Down { n } => Migrator::down(&db, Some(n)).await?,
        Command::Fresh => Migrator::fresh(&db).await?,
        Command::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{}\t{}", migration.status(), migration.name());
            }
        }
    }
    Ok(())
}
