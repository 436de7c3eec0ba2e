//! Schema changes that keep a busy table writable, each one line in a
//! migration's `up` or `down` (the guide: `docs/lock-safe-migrations.md`).
//!
//! - [`create_index_concurrently`], [`create_unique_index_concurrently`] and
//!   [`drop_index_concurrently`]: on PostgreSQL `CREATE` / `DROP INDEX
//!   CONCURRENTLY`, which let inserts, updates and deletes go on while the
//!   index is built; on SQLite, which has no such thing, the plain statement.
//! - [`backfill_in_batches`]: an `UPDATE` of a whole table as many short
//!   statements, each its own transaction, so no row stays locked for long.
//!
//! **The migration that calls them must run outside a transaction**: its
//! `use_transaction()` returns `Some(false)`. PostgreSQL refuses `CREATE
//! INDEX CONCURRENTLY` inside a transaction block (`CREATE INDEX
//! CONCURRENTLY cannot run inside a transaction block`), and a backfill inside
//! one would hold every row it updated until the end. Give each such change
//! a migration of its own: a failure part way through leaves what it did so
//! far and records nothing, so the next `up` runs the migration again, and
//! each helper is written to be run again (a leftover INVALID index is
//! dropped first, a backfill picks up the rows still pending).
//!
//! ```ignore
//! #[async_trait::async_trait]
//! impl MigrationTrait for Migration {
//!     fn use_transaction(&self) -> Option<bool> {
//!         Some(false)
//!     }
//!
//!     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         lock_safe::create_index_concurrently(manager, "ix_jobs_user_created", "jobs", &["user_id", "created_at"]).await
//!     }
//!
//!     async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         lock_safe::drop_index_concurrently(manager, "ix_jobs_user_created").await
//!     }
//! }
//! ```
//!
//! Every statement is sent with `execute_unprepared` (the simple query
//! protocol, values inline), so the helpers work behind a transaction-pooling
//! proxy such as PgBouncer. Names are quoted as PostgreSQL's `quote_ident`
//! quotes them ([`crate::pure::catalog::quote_if_needed`]).

use sea_orm::{ConnectionTrait, DatabaseExecutor, DbBackend, DbErr, Statement};
use sea_orm_migration::SchemaManager;

use crate::pure::catalog::quote_if_needed;

/// Builds the index `index` on `table (columns…)` without blocking writes to
/// `table`: on PostgreSQL `DROP INDEX CONCURRENTLY IF EXISTS` (an interrupted
/// earlier build leaves an INVALID index under that name) then `CREATE INDEX
/// CONCURRENTLY`; on SQLite `CREATE INDEX IF NOT EXISTS`.
///
/// Call it from a migration whose `use_transaction()` is `Some(false)`.
pub async fn create_index_concurrently(
    manager: &SchemaManager<'_>,
    index: &str,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    create(manager, false, index, table, columns).await
}

/// [`create_index_concurrently`] for a unique index. When `table` holds
/// duplicates PostgreSQL fails the build and leaves an INVALID index; once
/// the duplicates are gone, running the migration again drops it and builds
/// the index.
///
/// Call it from a migration whose `use_transaction()` is `Some(false)`.
pub async fn create_unique_index_concurrently(
    manager: &SchemaManager<'_>,
    index: &str,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    create(manager, true, index, table, columns).await
}

/// Drops the index `index` if it exists: `DROP INDEX CONCURRENTLY IF
/// EXISTS` on PostgreSQL (writes to its table go on meanwhile), `DROP INDEX
/// IF EXISTS` on SQLite.
///
/// Call it from a migration whose `use_transaction()` is `Some(false)`.
pub async fn drop_index_concurrently(
    manager: &SchemaManager<'_>,
    index: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(&drop_statement(manager.get_database_backend(), index))
        .await
        .map(|_| ())
}

/// Sets `set` on the rows of `table` where `pending` holds, `batch_size`
/// rows per statement, until a statement updates no row; returns how many
/// rows were updated. Each statement is
///
/// ```sql
/// UPDATE table SET <set> WHERE key_column IN
///     (SELECT key_column FROM table WHERE <pending> LIMIT <batch_size>)
/// ```
///
/// `set` and `pending` are SQL, written by the migration's author:
/// `set` must make `pending` false for every row it updates (`set: "priority =
/// 0"`, `pending: "priority IS NULL"`), otherwise the backfill never ends;
/// so must the rows written while it runs (give them the value first, with a
/// column default), otherwise it keeps chasing them. `key_column` should be
/// indexed (the primary key).
///
/// Call it from a migration whose `use_transaction()` is `Some(false)`, of
/// its own, after the one that added the column: each statement then commits
/// by itself, so a row is locked only for its batch, and a backfill cut short
/// resumes where it stopped when the migration runs again.
///
/// How many statements a backfill takes depends on the data, so it cannot
/// be sent as recorded in advance: when the migration is recorded without a
/// database (the runner's batching, dry runs, checksums), the backfill reads
/// the number of pending rows (a query the recording does not answer), and
/// the runner then runs the migration statement by statement against the
/// database, where that count is never sent. A dry run shows that count and
/// one batch's `UPDATE`.
pub async fn backfill_in_batches(
    manager: &SchemaManager<'_>,
    table: &str,
    key_column: &str,
    set: &str,
    pending: &str,
    batch_size: u32,
) -> Result<u64, DbErr> {
    if batch_size == 0 {
        return Err(DbErr::Custom(format!(
            "backfill of {table}: the batch size must be at least 1"
        )));
    }
    let (table, key) = (quote_if_needed(table), quote_if_needed(key_column));
    let batch = format!(
        "UPDATE {table} SET {set} WHERE {key} IN \
         (SELECT {key} FROM {table} WHERE {pending} LIMIT {batch_size})"
    );
    let db = manager.get_connection();
    if recording(manager) {
        let count = format!("SELECT count(*) FROM {table} WHERE {pending}");
        db.query_one_raw(Statement::from_string(
            manager.get_database_backend(),
            count,
        ))
        .await?;
        db.execute_unprepared(&batch).await?;
        return Ok(0);
    }
    let mut updated = 0;
    loop {
        let rows = db.execute_unprepared(&batch).await?.rows_affected();
        if rows == 0 {
            return Ok(updated);
        }
        updated += rows;
    }
}

/// Whether `manager` is a recording connection (sea-orm's mock), not a
/// database.
fn recording(manager: &SchemaManager<'_>) -> bool {
    match manager.get_connection() {
        DatabaseExecutor::Connection(db) => db.is_mock_connection(),
        _ => false,
    }
}

async fn create(
    manager: &SchemaManager<'_>,
    unique: bool,
    index: &str,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let db = manager.get_connection();
    for sql in create_statements(backend, unique, index, table, columns)? {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

fn drop_statement(backend: DbBackend, index: &str) -> String {
    crate::backend::of(backend).drop_index(&quote_if_needed(index))
}

fn create_statements(
    backend: DbBackend,
    unique: bool,
    index: &str,
    table: &str,
    columns: &[&str],
) -> Result<Vec<String>, DbErr> {
    if columns.is_empty() {
        return Err(DbErr::Custom(format!(
            "index {index} on {table}: no column given"
        )));
    }
    let unique = if unique { "UNIQUE " } else { "" };
    let on = format!(
        "{} ({})",
        quote_if_needed(table),
        columns
            .iter()
            .map(|c| quote_if_needed(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let index = quote_if_needed(index);
    Ok(crate::backend::of(backend).create_index(unique, &index, &on))
}

#[cfg(test)]
mod tests {
    use super::{create_statements, drop_statement};
    use sea_orm::DbBackend;

    #[test]
    fn index_statements_quote_names_and_differ_by_backend() {
        assert_eq!(
            create_statements(
                DbBackend::Postgres,
                false,
                "ix_jobs_user_created",
                "jobs",
                &["user_id", "created_at"]
            )
            .ok(),
            Some(vec![
                "DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_user_created".to_owned(),
                "CREATE INDEX CONCURRENTLY ix_jobs_user_created ON jobs (user_id, created_at)"
                    .to_owned(),
            ])
        );
        assert_eq!(
            create_statements(DbBackend::Sqlite, true, "Ix Code", "user", &["code"]).ok(),
            Some(vec![
                r#"CREATE UNIQUE INDEX IF NOT EXISTS "Ix Code" ON "user" (code)"#.to_owned()
            ])
        );
        assert_eq!(
            create_statements(DbBackend::Postgres, false, "ix", "jobs", &[])
                .map_err(|e| e.to_string()),
            Err("Custom Error: index ix on jobs: no column given".to_owned())
        );
        assert_eq!(
            drop_statement(DbBackend::Postgres, "ix_jobs_user_created"),
            "DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_user_created"
        );
        assert_eq!(
            drop_statement(DbBackend::Sqlite, "ix_jobs_user_created"),
            "DROP INDEX IF EXISTS ix_jobs_user_created"
        );
    }
}
