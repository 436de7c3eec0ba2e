//! The platform's API service, as an example of embedding the migrators:
//! at startup it migrates both databases (unless `AUTO_RUN_MIGRATIONS=false`)
//! and only then serves, so it never runs against an unknown schema.
//!
//! - `GET /health`: per database, the current and head migration and how
//!   many are pending;
//! - `GET /jobs/{id}`: a Sketch2BIM job with its iterations, through the
//!   shared entities.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use entities::sketch2bim::{iterations, jobs};
use migration_core::runner::RunOptions;
use migration_core::startup::{StartupReport, migrate_with};
use sea_orm::{DatabaseConnection, EntityTrait, ModelTrait, QueryOrder};
use serde_json::{Value, json};

/// Both databases, connected.
#[derive(Clone, Debug)]
pub struct AppState {
    pub ask: DatabaseConnection,
    pub sketch2bim: DatabaseConnection,
}

/// Migrates both databases as startup does: applies what is pending when
/// `auto_run`, else only reports.
pub async fn migrate(
    state: &AppState,
    auto_run: bool,
) -> Result<[StartupReport; 2], migration_core::Error> {
    let options = RunOptions::default();
    let ask = migrate_with::<ask_migration::Migrator>(&state.ask, auto_run, &options).await?;
    let sketch2bim =
        migrate_with::<sketch2bim_migration::Migrator>(&state.sketch2bim, auto_run, &options)
            .await?;
    Ok([ask, sketch2bim])
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/jobs/{id}", get(job))
        .with_state(state)
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn health(State(state): State<AppState>) -> Response {
    async fn one(
        current: Result<Option<String>, migration_core::Error>,
        pending: Result<Vec<String>, migration_core::Error>,
        head: &str,
    ) -> Result<Value, migration_core::Error> {
        Ok(json!({
            "current": current?,
            "head": head,
            "pending": pending?.len(),
        }))
    }
    let ask = one(
        ask_migration::current(&state.ask).await,
        ask_migration::pending(&state.ask).await,
        ask_migration::head(),
    )
    .await;
    let sketch2bim = one(
        sketch2bim_migration::current(&state.sketch2bim).await,
        sketch2bim_migration::pending(&state.sketch2bim).await,
        sketch2bim_migration::head(),
    )
    .await;
    match (ask, sketch2bim) {
        (Ok(ask), Ok(sketch2bim)) => {
            Json(json!({ "ask": ask, "sketch2bim": sketch2bim })).into_response()
        }
        (Err(e), _) | (_, Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            migration_core::one_line(&e, &[]),
        ),
    }
}

async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let db = &state.sketch2bim;
    let found = match jobs::Entity::find_by_id(id.clone()).one(db).await {
        Ok(found) => found,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let Some(job) = found else {
        return error(StatusCode::NOT_FOUND, format!("no job {id}"));
    };
    let its = job
        .find_related(iterations::Entity)
        .order_by_asc(iterations::Column::CreatedAt)
        .order_by_asc(iterations::Column::Id)
        .into_json()
        .all(db)
        .await;
    let as_json = jobs::Entity::find_by_id(id).into_json().one(db).await;
    match (as_json, its) {
        (Ok(Some(mut job)), Ok(its)) => {
            job["iterations"] = Value::Array(its);
            Json(job).into_response()
        }
        (Ok(None), _) => error(StatusCode::NOT_FOUND, "the job was just deleted".into()),
        (Err(e), _) | (_, Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
