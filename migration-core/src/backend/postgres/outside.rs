//! PostgreSQL's side of a migration run outside a transaction: the session
//! settings it starts and ends with, its own connection, and the query
//! naming the INVALID indexes a failed concurrent build leaves.

use sea_orm::{DatabaseConnection, DbErr};
use std::time::Duration;

use crate::Error;
use crate::pure::quote::literal;

/// The session settings a step outside a transaction starts with: its lock
/// wait and the name it goes by (as a dry run shows them).
pub(crate) fn prologue(migration: &str, wait: Option<Duration>) -> Vec<String> {
    super::lock_wait::prologue(migration, wait)
        .into_iter()
        .map(|s| s.replacen("SET LOCAL ", "SET ", 1))
        .collect()
}

/// What ends such a step, whatever its outcome.
pub(crate) const EPILOGUE: &str = "RESET lock_timeout; RESET application_name";

/// A connection of the run's own for one step: the pool's options, one
/// connection, closed after the step.
pub(crate) async fn own_connection(
    db: &DatabaseConnection,
) -> Result<Option<DatabaseConnection>, Error> {
    let Some(pool) = crate::backend::transport::postgres_pool(db) else {
        return Ok(None);
    };
    let own = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(pool.options().get_acquire_timeout())
        .connect_with((*pool.connect_options()).clone())
        .await
        .map_err(|e| Error::Database {
            action: "opening a connection for a migration outside a transaction".into(),
            source: DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))),
        })?;
    Ok(Some(
        sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(own),
    ))
}

/// The INVALID indexes of `schema`, as `name`.
pub(crate) fn invalid_indexes(schema: &str) -> String {
    format!(
        "SELECT quote_ident(c.relname) AS name FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND n.nspname = {} ORDER BY 1",
        literal(schema)
    )
}
