//! Operator commands: queue counts, one job's JSON, dead jobs (list, retry, delete), the
//! outbox. They call the same code as the admin API's `/api/queues`.

use clap::{Parser, Subcommand};
use shared::config::CommonSettings;
use shared::dead_jobs;
use shared::queue::{QueueName, Queues, RedisConnection};

#[derive(Parser)]
#[command(about = "Runs BroadcastJob and DeleteConnectionJob from the Redis queues")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run jobs (the default).
    Run,
    /// Print waiting, scheduled, running, failed and dead counts per queue, as JSON.
    Queues,
    /// Print one job's stored JSON.
    Show { queue: QueueName, id: String },
    /// Print the dead jobs of a queue, oldest first, as a JSON array (`[]` when none), with
    /// each one's job, last error and attempts.
    Dead {
        queue: QueueName,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Print how many broadcasts the outbox still owes (stored messages whose broadcast has
    /// not finished), as JSON.
    Outbox,
    /// Move a dead job (or, with --all, every dead job) back to waiting; prints
    /// `{"retried":N}`. A job id that is not dead is an error; `--all` with none is not.
    RetryDead {
        queue: QueueName,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Delete a dead job (or, with --all, every dead job) for good; prints `{"deleted":N}`.
    /// Deleting the last dead job of a broadcast gives that broadcast up.
    DeleteDead {
        queue: QueueName,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(command: Command, common: &CommonSettings) -> anyhow::Result<()> {
    let redis = RedisConnection::open(&common.redis, std::time::Duration::from_secs(5))?;
    if !matches!(command, Command::Outbox) {
        // One clear line (a refused certificate, a refused port) instead of a timeout.
        redis
            .reachable()
            .await
            .map_err(|reason| anyhow::anyhow!("Redis is unreachable: {reason}"))?;
    }
    let queues = Queues::new(redis, &common.queue_prefix);
    match command {
        Command::Run => unreachable!("run is handled by main"),
        Command::Queues => {
            let mut report = serde_json::Map::new();
            for name in QueueName::ALL {
                let counts = queues.get(name).counts().await?;
                report.insert(name.as_str().to_owned(), serde_json::to_value(counts)?);
            }
            println!("{}", serde_json::Value::Object(report));
        }
        Command::Outbox => {
            let db = shared::db::connect(&common.database_url).await?;
            let pending = shared::queries::outbox::pending_count(&db).await?;
            println!("{}", serde_json::json!({ "pending_broadcasts": pending }));
        }
        Command::Show { queue, id } => match queues.get(queue).show(&id).await? {
            Some(json) => println!("{json}"),
            None => anyhow::bail!("no job {id} in {}", queue.as_str()),
        },
        Command::Dead { queue, limit } => {
            let jobs = queues.get(queue).dead_jobs(limit).await?;
            println!("{}", serde_json::to_string(&jobs)?);
        }
        Command::RetryDead { queue, id, all } => {
            let queue = queues.get(queue);
            let retried = match id {
                None if all => queue.retry_all_dead().await?,
                None => unreachable!("clap requires an id or --all"),
                Some(id) => {
                    if !queue.retry_dead(&id).await? {
                        anyhow::bail!("no dead job {id} in {}", queue.name().as_str());
                    }
                    1
                }
            };
            println!("{}", serde_json::json!({ "retried": retried }));
        }
        Command::DeleteDead { queue, id, all } => {
            let db = shared::db::connect(&common.database_url).await?;
            let queue = queues.get(queue);
            let deleted = match id {
                None if all => dead_jobs::delete_all(&db, queue).await?,
                None => unreachable!("clap requires an id or --all"),
                Some(id) => {
                    if !dead_jobs::delete(&db, queue, &id).await? {
                        anyhow::bail!("no dead job {id} in {}", queue.name().as_str());
                    }
                    1
                }
            };
            println!("{}", serde_json::json!({ "deleted": deleted }));
        }
    }
    Ok(())
}
