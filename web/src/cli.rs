//! Operator commands: the admin API's operations without HTTP.

use clap::{Parser, Subcommand};
use shared::config::{CommonSettings, WebSettings};
use shared::domain::NewUser;
use shared::queries::users;

#[derive(Parser)]
#[command(about = "API Gateway WebSocket backend: callbacks and admin API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the callbacks (the default).
    Serve,
    /// Create or update a user.
    User {
        code: String,
        #[arg(long)]
        name: String,
        /// Image path, e.g. /uploads/user/image/1/face.png
        #[arg(long)]
        image: Option<String>,
    },
    /// Issue a token, for a user or (without --user) a guest.
    Token {
        #[arg(long)]
        user: Option<String>,
    },
}

/// Runs one operator command and prints its result as JSON.
pub async fn run(
    command: Command,
    common: &CommonSettings,
    web: &WebSettings,
) -> anyhow::Result<()> {
    let db = shared::db::connect(&common.database_url).await?;
    shared::db::ensure_schema(&db, &common.database_url).await?;
    let output = match command {
        Command::Serve => unreachable!("serve is handled by main"),
        Command::User { code, name, image } => {
            let user = NewUser::parse(&code, &name, image.as_deref())?;
            let (user, _) = users::upsert(&db, &user).await?;
            serde_json::json!({"code": user.code, "name": user.name, "image": user.image_path})
                .to_string()
        }
        Command::Token { user } => {
            let issued = crate::api::tokens_issue(
                &db,
                user.as_deref(),
                web.token_expired_start_minutes,
                web.token_expired_hours,
            )
            .await
            .map_err(|error| anyhow::anyhow!(common.locale.alert(error.alert())))?;
            // `token` first: the struct's field order (a `Value` would sort the keys).
            serde_json::to_string(&issued)?
        }
    };
    println!("{output}");
    Ok(())
}
