//! PostgreSQL: how a step's transaction opens and what it sets, the
//! migration lock, lock waits, catalog reads, adoption's default evaluation
//! and the SQLSTATEs the migrator acts on.

pub(crate) mod adoption;
pub(crate) mod catalog;
pub(crate) mod default_expr;
pub(crate) mod errors;
#[cfg(feature = "tooling")]
pub(crate) mod expected;
pub(crate) mod lock;
pub(crate) mod lock_wait;
pub(crate) mod outside;

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};
use std::time::Duration;

use crate::Error;
use crate::backend::migrate::Migrate;
use crate::model::run::RunOptions;
use crate::pure::dialect::Dialect;
use crate::pure::quote::{literal, quote_ident};
use errors::sqlstate;

/// PostgreSQL.
pub(crate) struct Postgres;

impl Dialect for Postgres {
    fn backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn has_schemas(&self) -> bool {
        true
    }

    /// A no-op when the table or the column is missing or there already.
    fn add_checksum_sql(&self, table: &str, column: &str) -> String {
        format!("ALTER TABLE IF EXISTS {table} ADD COLUMN IF NOT EXISTS {column} varchar")
    }
}

impl Migrate for Postgres {
    fn column_names(&self, schema: &str, tables: &[&str]) -> String {
        format!(
            "SELECT table_name::text AS t, column_name::text AS c \
             FROM information_schema.columns \
             WHERE table_schema = {} AND table_name IN ({})",
            literal(schema),
            tables
                .iter()
                .map(|t| literal(t))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn columns_of(&self, _: &str, _: &str) -> Option<String> {
        None
    }

    fn column_types(&self, qualified: &str) -> Option<String> {
        Some(format!(
            "SELECT a.attname::text AS name, t.typname::text AS base, \
                    format_type(a.atttypid, a.atttypmod) AS shown \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attrelid = to_regclass({}) AND a.attnum > 0 AND NOT a.attisdropped",
            literal(qualified)
        ))
    }

    fn create_index(&self, unique: &str, index: &str, on: &str) -> Vec<String> {
        vec![
            format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"),
            format!("CREATE {unique}INDEX CONCURRENTLY {index} ON {on}"),
        ]
    }

    fn drop_index(&self, index: &str) -> String {
        format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")
    }

    #[cfg(feature = "tooling")]
    fn dumps_schema(&self) -> bool {
        true
    }

    fn is_undefined_table(&self, e: &DbErr) -> bool {
        sqlstate(e).as_deref() == Some("42P01")
    }

    /// duplicate_table, duplicate_object, duplicate_column, duplicate_schema.
    fn already_exists(&self, e: &DbErr) -> bool {
        matches!(
            sqlstate(e).as_deref(),
            Some("42P07" | "42710" | "42701" | "42P06")
        )
    }

    #[cfg(feature = "tooling")]
    fn begin_sql(&self) -> &'static str {
        "BEGIN"
    }

    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        _: &'a RunOptions,
    ) -> BoxFuture<'a, Result<DatabaseTransaction, Error>> {
        Box::pin(async move {
            db.begin()
                .await
                .map_err(Error::db("starting a transaction"))
        })
    }

    /// Its schema alone on its search path (whatever the database or role
    /// sets), its lock wait and the name it goes by while it runs; all but
    /// the run's last step commit without waiting for the disk (commits
    /// replay in order after a crash, so a crash loses at most a suffix of
    /// steps, each whole).
    fn prologue(
        &self,
        schema: &str,
        name: &str,
        lock_wait: Option<Duration>,
        flush: bool,
    ) -> Vec<String> {
        let mut setup = vec![format!("SET LOCAL search_path TO {}", quote_ident(schema))];
        setup.extend(lock_wait::prologue(name, lock_wait));
        if !flush {
            setup.push("SET LOCAL synchronous_commit = off".to_owned());
        }
        setup
    }

    fn batches(&self) -> bool {
        true
    }

    fn rechecks_step(&self) -> bool {
        false
    }

    fn runs_outside_transactions(&self) -> bool {
        true
    }

    fn locks_runs(&self) -> bool {
        true
    }

    fn table_names(&self, schema: &str) -> String {
        format!(
            "SELECT tablename::text AS name FROM pg_catalog.pg_tables WHERE schemaname = {}",
            literal(schema)
        )
    }

    fn drop_tables(&self, schema: &str, tables: &[String]) -> Vec<String> {
        tables
            .iter()
            .map(|t| {
                format!(
                    "DROP TABLE IF EXISTS {}.{} CASCADE",
                    quote_ident(schema),
                    quote_ident(t)
                )
            })
            .collect()
    }
}
