//! What the bookkeeping statements need to know of a database's SQL,
//! implemented by each backend (`crate::backend`), so that the statements
//! themselves are built here, once.

use sea_orm::DbBackend;

pub(crate) trait Dialect: Sync {
    /// The sea-query backend that renders statements.
    fn backend(&self) -> DbBackend;

    /// The `n`th (1-based) bind parameter: `$1`, `?`.
    fn placeholder(&self, n: usize) -> String;

    /// Whether tables live in schemas (and are named with theirs).
    fn has_schemas(&self) -> bool;

    /// The DDL adding the checksum `column` to `table` (both quoted).
    fn add_checksum_sql(&self, table: &str, column: &str) -> String;
}
