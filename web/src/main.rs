use std::process::ExitCode;

use clap::Parser;
use shared::config::{CommonSettings, Env, WebSettings};
use web::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    let settings = CommonSettings::from_env(&env)
        .and_then(|common| Ok((common, WebSettings::from_env(&env)?)));
    let (common, web) = match settings {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("web: {error}");
            return ExitCode::from(2);
        }
    };
    shared::telemetry::init(common.log_format);
    let log_format = common.log_format;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(common, web).await,
        command => web::cli::run(command, &common, &web).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line for a person; JSON logs get the event too.
            if log_format == shared::telemetry::LogFormat::Json {
                tracing::error!(error = format!("{error:#}"), "web stopped");
            }
            eprintln!("web: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(common: CommonSettings, web: WebSettings) -> anyhow::Result<()> {
    let metrics = shared::telemetry::prometheus::install().ok();
    let log_format = common.log_format;
    let app = web::Application::build(common, web, metrics).await?;
    let addr = app.local_addr()?;
    // Handlers first: a SIGTERM right after the "listening" line must drain, not kill.
    let stop = shared::shutdown::listen();
    // Before the "listening" line, which tells a supervisor that web is up.
    if let Some(admin) = app.admin_addr().transpose()? {
        shared::telemetry::announce_ready(
            log_format,
            &format!("web admin listening on http://{admin}"),
        );
    }
    shared::telemetry::announce_ready(log_format, &format!("web listening on http://{addr}"));
    app.run_until(async {
        stop.await;
        tracing::info!("shutdown requested");
    })
    .await?;
    tracing::info!("web stopped");
    Ok(())
}
