//! Plain SQL against a test database: statements that must succeed, single
//! values and text columns read back, and the migrator's bookkeeping table.
//! Every failure panics with the statement that failed.

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    Statement, TransactionTrait,
};
use sea_orm_migration::SchemaManager;

/// Runs `sql` (one or more statements); a failure fails the test.
pub async fn exec(db: &impl ConnectionTrait, sql: &str) {
    if let Err(e) = db.execute_unprepared(sql).await {
        panic!("{sql}: {e}");
    }
}

/// Runs `sql` on a migration's connection, for migrations written in tests:
/// a failure is the migration's error.
pub async fn exec_in(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(sql)
        .await
        .map(|_| ())
}

/// The first column of the one row `sql` returns, as a whole number
/// (PostgreSQL types a literal as integer, SQLite as a 64-bit one).
pub async fn int(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of every row `sql` returns, as text; `None` for NULL.
pub async fn strings(db: &impl ConnectionTrait, sql: &str) -> Vec<Option<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|r| {
            r.try_get_by_index::<Option<String>>(0)
                .expect("a text column")
        })
        .collect()
}

/// Whether the bookkeeping table `seaql_migrations` exists (PostgreSQL or
/// SQLite).
pub async fn has_bookkeeping(db: &impl ConnectionTrait) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE name = 'seaql_migrations'"
        }
        _ => "SELECT count(*) FROM pg_class WHERE relname = 'seaql_migrations'",
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count") > 0
}

/// How many rows the bookkeeping table has, or -1 when there is none.
pub async fn bookkeeping_rows(db: &impl ConnectionTrait) -> i64 {
    if !has_bookkeeping(db).await {
        return -1;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(count(*) AS BIGINT) FROM seaql_migrations",
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

/// A one-connection pool that shows itself as `application` in
/// pg_stat_activity.
pub async fn connect_as(url: &str, application: &str) -> DatabaseConnection {
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut options =
        ConnectOptions::new(format!("{url}{separator}application_name={application}"));
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect as {application}: {e}"))
}

/// An application transaction that has read `table` and stays open: it
/// holds ACCESS SHARE on it until it ends (PostgreSQL). Returns it and its
/// backend's pid.
pub async fn blocker(db: &DatabaseConnection, table: &str) -> (DatabaseTransaction, i64) {
    let txn = db.begin().await.expect("the blocker's transaction");
    int(&txn, &format!("SELECT count(*) FROM {table}")).await;
    let pid = int(&txn, "SELECT pg_backend_pid()::int8").await;
    (txn, pid)
}
