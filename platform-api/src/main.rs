//! `platform-api`: connects to ASK (`ASK_DATABASE_URL`) and Sketch2BIM
//! (`SKETCH2BIM_DATABASE_URL`), migrates both unless `AUTO_RUN_MIGRATIONS`
//! is false, then serves on `PORT` (default 8080). A startup failure is one
//! `error:` line and exit code 1, with no password in it.

use std::process::ExitCode;

use migration_core::Database;
use migration_core::target::Target;
use platform_api::AppState;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// Connects to one database from its variable (required here).
async fn connect(
    database: &Database,
) -> Result<(sea_orm::DatabaseConnection, Vec<String>), String> {
    let url = std::env::var(database.url_env)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            format!(
                "{} is not set: the service needs the {} database's URL",
                database.url_env, database.title
            )
        })?;
    let target =
        Target::resolve(database, Some(&url)).map_err(|e| migration_core::one_line(&e, &[]))?;
    let secrets: Vec<String> = target.secrets().into_iter().map(str::to_owned).collect();
    let db = target
        .connect(None, false, std::time::Duration::from_secs(60))
        .await
        .map_err(|e| {
            migration_core::one_line(&e, &secrets.iter().map(String::as_str).collect::<Vec<_>>())
        })?;
    Ok((db, secrets))
}

async fn run() -> Result<(), String> {
    let auto_run = migration_core::startup::auto_run_from_env()
        .map_err(|e| migration_core::one_line(&e, &[]))?;
    let (ask, mut secrets) = connect(&ask_migration::DATABASE).await?;
    let (sketch2bim, more) = connect(&sketch2bim_migration::DATABASE).await?;
    secrets.extend(more);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let state = AppState { ask, sketch2bim };
    let reports = platform_api::migrate(&state, auto_run)
        .await
        .map_err(|e| migration_core::one_line(&e, &secrets))?;
    for report in &reports {
        tracing::info!("{report}");
    }
    let port = match std::env::var("PORT") {
        Ok(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid PORT={p:?}: expected a port number"))?,
        Err(_) => 8080,
    };
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    tracing::info!("listening on port {port}");
    axum::serve(listener, platform_api::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("serving failed: {e}"))
}
