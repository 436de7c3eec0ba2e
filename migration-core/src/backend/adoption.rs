//! Taking over a database, each backend its own way: see
//! `postgres::adoption` and `sqlite::adoption`.

use sea_orm::{DatabaseConnection, DbBackend};

use crate::Error;
use crate::backend::postgres::default_expr::Evaluable;
use crate::backend::{postgres, sqlite};
use crate::pure::catalog::Catalog;
use crate::pure::history::History;

/// What an adoption's transaction sets first, if anything.
pub(crate) fn prologue(backend: DbBackend) -> Option<String> {
    match backend {
        DbBackend::Postgres => Some(postgres::adoption::adoption_prologue()),
        _ => None,
    }
}

/// The database's schema as it is, and which of its defaults may be
/// evaluated.
pub(crate) async fn current(
    db: &DatabaseConnection,
    history: &History,
) -> Result<(Catalog, Evaluable), Error> {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres::adoption::current(db, history).await,
        _ => sqlite::adoption::current(db, history).await,
    }
}

/// The schema migrations 1..`count` build, made where it leaves no trace,
/// and which of its defaults may be evaluated.
pub(crate) async fn expected(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Catalog, Evaluable), Error> {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres::adoption::expected(db, history, count).await,
        _ => sqlite::adoption::expected(db, history, count).await,
    }
}

/// Whether two differing defaults `a` and `b` may be evaluated to compare
/// them: on PostgreSQL when the catalogs found both `evaluable`, on SQLite
/// when both are literals.
pub(crate) fn may_evaluate(backend: DbBackend, evaluable: bool, a: &str, b: &str) -> bool {
    match backend {
        DbBackend::Postgres => evaluable,
        _ => sqlite::adoption::literal(a) && sqlite::adoption::literal(b),
    }
}

/// Whether two default expressions of a column of type `data_type` give
/// the same value.
pub(crate) async fn same_default(
    db: &DatabaseConnection,
    data_type: &str,
    a: &str,
    b: &str,
) -> bool {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres::adoption::same_default(db, data_type, a, b).await,
        _ => sqlite::adoption::same_default(db, data_type, a, b).await,
    }
}
