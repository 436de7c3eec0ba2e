//! SQLite: how a step's transaction takes the file's write lock, catalog
//! reads and the driver's errors the migrator acts on.

pub(crate) mod adoption;
pub(crate) mod catalog;

use futures_util::future::BoxFuture;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::time::Duration;

use crate::Error;
use crate::backend::migrate::Migrate;
use crate::model::run::RunOptions;
use crate::pure::dialect::Dialect;
use crate::pure::quote::{literal, quote_ident};

/// SQLite.
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    fn placeholder(&self, _: usize) -> String {
        "?".to_owned()
    }

    fn has_schemas(&self) -> bool {
        false
    }

    fn add_checksum_sql(&self, table: &str, column: &str) -> String {
        format!("ALTER TABLE {table} ADD COLUMN {column} varchar")
    }
}

/// SQLite's driver errors carry its generic result code, not which failure
/// it was; its message is what says so.
fn message_says(e: &DbErr, what: &str) -> bool {
    e.to_string().contains(what)
}

impl Migrate for Sqlite {
    fn column_names(&self, _: &str, tables: &[&str]) -> String {
        format!(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name IN ({})",
            tables
                .iter()
                .map(|t| literal(t))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn columns_of(&self, _: &str, table: &str) -> Option<String> {
        Some(format!(
            "SELECT name FROM pragma_table_info({})",
            literal(table)
        ))
    }

    /// SQLite keeps what it is given whatever a column's declared type.
    fn column_types(&self, _: &str) -> Option<String> {
        None
    }

    fn create_index(&self, unique: &str, index: &str, on: &str) -> Vec<String> {
        vec![format!(
            "CREATE {unique}INDEX IF NOT EXISTS {index} ON {on}"
        )]
    }

    fn drop_index(&self, index: &str) -> String {
        format!("DROP INDEX IF EXISTS {index}")
    }

    #[cfg(feature = "tooling")]
    fn dumps_schema(&self) -> bool {
        false
    }

    fn is_undefined_table(&self, e: &DbErr) -> bool {
        message_says(e, "no such table")
    }

    fn already_exists(&self, e: &DbErr) -> bool {
        message_says(e, "already exists")
    }

    #[cfg(feature = "tooling")]
    fn begin_sql(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    /// `BEGIN IMMEDIATE`: takes the file's write lock, waiting up to the
    /// connection's busy timeout, and says so when it has to wait.
    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<DatabaseTransaction, Error>> {
        Box::pin(async move {
            let begin = db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            });
            let result = crate::backend::rt::announce_if_slow(
                begin,
                Duration::from_millis(500),
                "waiting for the SQLite write lock: another run is migrating this database",
            )
            .await;
            result.map_err(|e| {
                if e.to_string().contains("database is locked") {
                    Error::LockTimeout {
                        seconds: options.lock_timeout.as_secs(),
                    }
                } else {
                    Error::Database {
                        action: "starting a transaction".into(),
                        source: e,
                    }
                }
            })
        })
    }

    fn prologue(&self, _: &str, _: &str, _: Option<Duration>, _: bool) -> Vec<String> {
        Vec::new()
    }

    fn batches(&self) -> bool {
        false
    }

    fn rechecks_step(&self) -> bool {
        true
    }

    /// SQLite has no statement that refuses a transaction the way `CREATE
    /// INDEX CONCURRENTLY` does, and no lock spanning a run: the step's
    /// write lock (`BEGIN IMMEDIATE`) is what keeps two runs from both
    /// applying it, so it runs in one like any other, whole.
    fn runs_outside_transactions(&self) -> bool {
        false
    }

    fn locks_runs(&self) -> bool {
        false
    }

    fn table_names(&self, _: &str) -> String {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            .to_owned()
    }

    /// In any order: the foreign keys are checked at commit.
    fn drop_tables(&self, _: &str, tables: &[String]) -> Vec<String> {
        std::iter::once("PRAGMA defer_foreign_keys = ON".to_owned())
            .chain(
                tables
                    .iter()
                    .map(|t| format!("DROP TABLE IF EXISTS {}", quote_ident(t))),
            )
            .collect()
    }
}
