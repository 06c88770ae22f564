//! Operator commands: queue counts, one job's JSON, retrying dead jobs, the outbox.

use clap::{Parser, Subcommand};
use shared::config::CommonSettings;
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
    /// List dead job ids of a queue, oldest first.
    Dead {
        queue: QueueName,
        #[arg(long, default_value_t = 100)]
        limit: isize,
    },
    /// Print how many broadcasts the outbox still owes (stored messages whose broadcast has
    /// not finished), as JSON.
    Outbox,
    /// Move a dead job (or, with --all, every dead job) back to waiting.
    RetryDead {
        queue: QueueName,
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
            for id in queues.get(queue).dead_ids(limit).await? {
                println!("{id}");
            }
        }
        Command::RetryDead { queue, id, all } => {
            let ids = match (id, all) {
                (Some(id), false) => vec![id],
                (None, true) => queues.get(queue).dead_ids(isize::MAX).await?,
                _ => anyhow::bail!("give a job id or --all"),
            };
            let mut moved = 0;
            for id in &ids {
                moved += usize::from(queues.get(queue).retry_dead(id).await?);
            }
            println!("{{\"retried\":{moved}}}");
            if moved == 0 {
                anyhow::bail!("no such dead job");
            }
        }
    }
    Ok(())
}
