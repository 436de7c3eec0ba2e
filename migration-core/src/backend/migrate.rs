//! What each backend implements: how a step's transaction opens and what it
//! sets, whether a migration is sent as one batch, whether a step checks
//! again under the write lock that it is still due, whether a run holds a
//! lock of its own, how every table is listed and dropped, and which of its
//! driver's errors mean what.

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use std::time::Duration;

use crate::Error;
use crate::model::run::RunOptions;
use crate::pure::dialect::Dialect;

/// How one database migrates.
pub(crate) trait Migrate: Dialect {
    /// The query listing the columns of `tables` (of `schema`), as `t`
    /// (table) and `c` (column).
    fn column_names(&self, schema: &str, tables: &[&str]) -> String;

    /// Whether `e` says a table the statement names does not exist.
    fn is_undefined_table(&self, e: &DbErr) -> bool;

    /// Whether `e` says something the statement creates (a table, an
    /// index, a type, a column) exists already.
    fn already_exists(&self, e: &DbErr) -> bool;

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
