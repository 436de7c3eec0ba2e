//! What differs between PostgreSQL and SQLite when migrating, in one place,
//! one implementation per database (as sqlx's `Migrate` trait is): how a
//! step's transaction opens and what it sets, whether a migration is sent as
//! one batch, whether a step checks again under the write lock that it is
//! still due, whether a run holds a lock of its own, and how every table is
//! listed and dropped. The runner, the steps and dry runs ask [`of`] instead
//! of matching on the backend.

pub(crate) mod catalog;
pub(crate) mod postgres;
pub(crate) mod rows;
pub(crate) mod rt;
pub(crate) mod sqlite;
pub(crate) mod transport;

use futures_util::future::BoxFuture;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use std::time::Duration;

use crate::Error;
use crate::backend::transport::quote_ident;
use crate::model::run::RunOptions;

/// How one database migrates.
pub(crate) trait Migrate: Sync {
    /// The statement that opens a step's transaction, as a dry run shows it.
    #[cfg(feature = "tooling")]
    fn begin_sql(&self) -> &'static str;

    /// Opens a step's transaction on `db`.
    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        options: &'a RunOptions,
    ) -> BoxFuture<'a, Result<DatabaseTransaction, Error>>;

    /// What a step's transaction sets first: for migration `name` in
    /// `schema`, with `lock_wait` (see [`crate::backend::postgres::lock_wait`]), the last step
    /// of its run when `flush`.
    fn prologue(
        &self,
        schema: &str,
        name: &str,
        lock_wait: Option<Duration>,
        flush: bool,
    ) -> Vec<String>;

    /// Whether a migration that reads nothing is recorded first and sent as
    /// one batch inside its transaction ([`crate::pure::capture`]).
    fn batches(&self) -> bool;

    /// Whether a step checks again, inside its write-locked transaction,
    /// that it is still due: where no lock spans the run.
    fn rechecks_step(&self) -> bool;

    /// Whether a migration whose `use_transaction()` is `Some(false)` runs
    /// outside a transaction ([`crate::ops::outside`]); where not, it runs like
    /// any other.
    fn runs_outside_transactions(&self) -> bool;

    /// Whether a run holds the migration lock ([`crate::backend::postgres::lock`]) from start
    /// to end.
    fn locks_runs(&self) -> bool;

    /// The query listing every table (of `schema`), as `name`.
    fn table_names(&self, schema: &str) -> String;

    /// The statements that drop `tables` (of `schema`), in any order.
    fn drop_tables(&self, schema: &str, tables: &[String]) -> Vec<String>;
}

struct Postgres;
struct Sqlite;

/// How `backend` migrates (MySQL, which no migrator here targets, as
/// PostgreSQL).
pub(crate) fn of(backend: DbBackend) -> &'static dyn Migrate {
    match backend {
        DbBackend::Sqlite => &Sqlite,
        _ => &Postgres,
    }
}

impl Migrate for Postgres {
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
        setup.extend(crate::backend::postgres::lock_wait::prologue(
            name, lock_wait,
        ));
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
            crate::backend::transport::literal(schema)
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

impl Migrate for Sqlite {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_steps_set_their_lock_wait_and_name_and_flush_only_last() {
        let pg = of(DbBackend::Postgres);
        assert_eq!(
            pg.prologue("tenant", "m003_x", Some(Duration::from_millis(1500)), true),
            vec![
                "SET LOCAL search_path TO \"tenant\"".to_owned(),
                "SET LOCAL lock_timeout = '1500ms'".to_owned(),
                "SET LOCAL application_name = 'migrating m003_x'".to_owned(),
            ]
        );
        assert_eq!(
            pg.prologue("public", "m003_x", None, false)
                .last()
                .map(String::as_str),
            Some("SET LOCAL synchronous_commit = off")
        );
        assert!(pg.batches() && pg.locks_runs() && !pg.rechecks_step());
        assert!(pg.runs_outside_transactions());
    }

    #[test]
    fn sqlite_steps_set_nothing_and_check_again_under_the_write_lock() {
        let sqlite = of(DbBackend::Sqlite);
        assert!(sqlite.prologue("public", "m003_x", None, false).is_empty());
        assert_eq!(sqlite.begin_sql(), "BEGIN IMMEDIATE");
        assert!(!sqlite.batches() && !sqlite.locks_runs() && sqlite.rechecks_step());
        assert!(!sqlite.runs_outside_transactions());
    }

    #[test]
    fn dropping_every_table() {
        let tables = ["jobs".to_owned(), "we\"ird".to_owned()];
        assert_eq!(
            of(DbBackend::Postgres).drop_tables("public", &tables),
            vec![
                r#"DROP TABLE IF EXISTS "public"."jobs" CASCADE"#.to_owned(),
                r#"DROP TABLE IF EXISTS "public"."we""ird" CASCADE"#.to_owned(),
            ]
        );
        assert_eq!(
            of(DbBackend::Sqlite).drop_tables("public", &tables),
            vec![
                "PRAGMA defer_foreign_keys = ON".to_owned(),
                r#"DROP TABLE IF EXISTS "jobs""#.to_owned(),
                r#"DROP TABLE IF EXISTS "we""ird""#.to_owned(),
            ]
        );
    }
}
