//! SQLite's side of taking over a database: the schema migrations 1..N
//! build, in an in-memory database, and whether two literal defaults give
//! the same value.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::SchemaManager;

use crate::Error;
use crate::backend::postgres::default_expr::Evaluable;
use crate::pure::catalog::Catalog;
use crate::pure::history::History;

/// Whether two default expressions of a column of type `data_type` give the
/// same value. Call only with expressions that call no function
/// ([`crate::backend::postgres::default_expr`]). Anything that does not evaluate counts
/// as different.
pub(crate) async fn same_default(
    db: &DatabaseConnection,
    data_type: &str,
    a: &str,
    b: &str,
) -> bool {
    let backend = db.get_database_backend();
    let sql = format!("SELECT CAST(({a}) AS {data_type}) IS CAST(({b}) AS {data_type}) AS same");
    match db.query_one_raw(Statement::from_string(backend, sql)).await {
        Ok(Some(row)) => row.try_get::<bool>("", "same").unwrap_or(false),
        _ => false,
    }
}

/// The catalog migrations 1..`count` build, made where it leaves no trace,
/// and which of its defaults may be evaluated.
pub(crate) async fn expected(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Catalog, Evaluable), Error> {
    let _ = db;
    let failed = || Error::db("building the reference schema for adoption");
    let scratch = sea_orm::Database::connect("sqlite::memory:")
        .await
        .map_err(failed())?;
    let built = async {
        let manager = SchemaManager::new(&scratch);
        for migration in &history.migrations[..count] {
            migration.up(&manager).await?;
        }
        Catalog::read(&scratch, &[]).await
    }
    .await
    .map(|catalog| (catalog, Evaluable::new()));
    let _ = scratch.close().await;
    built.map_err(failed())
}

/// The database's schema as it is (nothing is evaluated ahead on SQLite).
pub(crate) async fn current(
    db: &DatabaseConnection,
    history: &History,
) -> Result<(Catalog, Evaluable), Error> {
    let exclude = [history.table(), crate::model::recorded::ALEMBIC_TABLE];
    Catalog::read(db, &exclude)
        .await
        .map(|catalog| (catalog, Evaluable::new()))
        .map_err(Error::db("reading the schema before adoption"))
}

/// Whether a SQLite default is a plain literal: a number, a string, or
/// NULL, TRUE or FALSE, possibly in parentheses.
pub(crate) fn literal(expr: &str) -> bool {
    let mut expr = expr.trim();
    while let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        expr = inner.trim();
    }
    if let Some(body) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return !body.replace("''", "").contains('\'');
    }
    if ["null", "true", "false"].contains(&expr.to_ascii_lowercase().as_str()) {
        return true;
    }
    let digits = expr.trim_start_matches(['+', '-']);
    !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
}
