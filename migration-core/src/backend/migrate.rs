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

    /// The query listing the columns of `table` (of `schema`) as `name`,
    /// where adding the checksum column must first look whether it is
    /// there; `None` where the DDL adding it does nothing when it is.
    fn columns_of(&self, schema: &str, table: &str) -> Option<String>;

    /// The query reading the bookkeeping table's columns (`qualified`,
    /// quoted) as `name`, `base` (the type's own name) and `shown`, to check
    /// the migrator can read them back; `None` where any column reads as
    /// any type.
    fn column_types(&self, qualified: &str) -> Option<String>;

    /// The statements building `index` (quoted) `ON table (columns)` without
    /// blocking the table's writers where the database can, replacing an
    /// INVALID one a failed build left; `unique` is `"UNIQUE "` or `""`.
    fn create_index(&self, unique: &str, index: &str, on: &str) -> Vec<String>;

    /// The statement dropping `index` (quoted), if it exists, without
    /// blocking writers where the database can.
    fn drop_index(&self, index: &str) -> String;

    /// Whether `schema dump` and `schema update` can dump this database.
    #[cfg(feature = "tooling")]
    fn dumps_schema(&self) -> bool;

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
