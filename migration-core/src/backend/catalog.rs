//! Reading a database's catalog into a [`Catalog`], each backend its own way.

use sea_orm::{DbBackend, DbErr};

use crate::backend::transport::Reader;
use crate::pure::catalog::Catalog;

impl Catalog {
    /// Reads the catalog of the connected database, leaving out the tables
    /// named in `exclude` (bookkeeping tables) and everything that hangs off them.
    /// `db` is a connection (reads go through its pool) or a
    /// [`crate::backend::transport::Transaction`]; on PostgreSQL every read is a simple query.
    pub async fn read<C: Reader + ?Sized>(db: &C, exclude: &[&str]) -> Result<Catalog, DbErr> {
        Catalog::read_in(db, "current_schema()", exclude).await
    }

    /// [`Catalog::read`] of PostgreSQL schema `schema`, named rather than
    /// taken from the search path (SQLite has one schema).
    pub async fn read_schema<C: Reader + ?Sized>(
        db: &C,
        schema: &str,
        exclude: &[&str],
    ) -> Result<Catalog, DbErr> {
        Catalog::read_in(db, &crate::backend::transport::literal(schema), exclude).await
    }

    /// `schema` is an SQL expression: a literal or `current_schema()`.
    async fn read_in<C: Reader + ?Sized>(
        db: &C,
        schema: &str,
        exclude: &[&str],
    ) -> Result<Catalog, DbErr> {
        let mut catalog = match db.backend() {
            DbBackend::Postgres => super::postgres::catalog::read(db, schema).await?,
            DbBackend::Sqlite => super::sqlite::catalog::read(db).await?,
            other => {
                return Err(DbErr::Custom(format!(
                    "reading the catalog of {other:?} is not supported"
                )));
            }
        };
        catalog
            .tables
            .retain(|name, _| !exclude.contains(&name.as_str()));
        catalog.sequences.retain(|_, seq| {
            seq.owned_by
                .as_deref()
                .and_then(|owner| owner.split_once('.'))
                .is_none_or(|(table, _)| !exclude.contains(&table))
        });
        Ok(catalog)
    }
}
