//! How the migrator sends its own statements (bookkeeping, the lock,
//! catalog reads), so that it works behind a transaction-pooling proxy.
//!
//! A pooler such as PgBouncer in `pool_mode = transaction` hands each
//! transaction, or each statement outside one, to whichever server
//! connection is free. Named prepared statements (sqlx's `sqlx_s_N`, which
//! sea-orm uses for every query, whatever the statement cache size) then
//! meet a server connection where another client already prepared that
//! name, or where it was never prepared; even unnamed ones are sent as two
//! synchronisation points that the pooler may route apart. So on PostgreSQL
//! everything here uses the simple query protocol: one `Query` message per
//! batch, values inlined as quoted literals (sea-query's
//! [`Statement`] `to_string()`, or [`literal`]), rows in text format.
//!
//! - [`Reader`]: where the migrator's reads run. A [`DatabaseConnection`]
//!   reads through its pool (one statement, no transaction); a
//!   [`Transaction`] inside its transaction.
//! - [`Transaction`]: a transaction on a connection of its own, for reads
//!   and writes that must see one another (the migration lock, adoption's
//!   scratch schema). On SQLite, and on anything that is not a PostgreSQL
//!   pool, it is sea-orm's own transaction.
//!
//! Migrations themselves still run through sea-orm's `SchemaManager`; those
//! that read nothing are recorded and sent as one simple-protocol batch by
//! the runner, and only a migration that reads from the database is sent
//! statement by statement with sea-orm's prepared statements.

use futures_util::future::BoxFuture;
use futures_util::lock::Mutex;
use sea_orm::sqlx::{self, AssertSqlSafe, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DatabaseTransaction, DbBackend,
    DbErr, QueryResult, RuntimeErr, Statement, TransactionTrait,
};
use std::sync::Arc;

pub(crate) use crate::pure::quote::{literal, quote_ident};

/// Somewhere the migrator's reads can run.
pub trait Reader: Sync {
    /// The database's backend.
    fn backend(&self) -> DbBackend;

    /// Every row `sql` returns; on PostgreSQL sent as a simple query, so
    /// `sql` carries its values inline.
    fn query_all<'a>(&'a self, sql: String) -> BoxFuture<'a, Result<Vec<QueryResult>, DbErr>>;
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn acquire_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed)
        }
        other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
    }
}

/// The sqlx pool behind `db`, when it is a PostgreSQL pool.
pub(crate) fn postgres_pool(db: &DatabaseConnection) -> Option<&sqlx::PgPool> {
    match &db.inner {
        DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            Some(db.get_postgres_connection_pool())
        }
        _ => None,
    }
}

impl Reader for DatabaseConnection {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    fn query_all<'a>(&'a self, sql: String) -> BoxFuture<'a, Result<Vec<QueryResult>, DbErr>> {
        Box::pin(async move {
            match postgres_pool(self) {
                Some(pool) => sqlx::raw_sql(AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                    .map_err(query_err),
                None => {
                    self.query_all_raw(Statement::from_string(self.backend(), sql))
                        .await
                }
            }
        })
    }
}

/// sea-orm's own transaction: prepared statements on PostgreSQL. Kept for
/// SQLite and for callers that hold one.
impl Reader for DatabaseTransaction {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    fn query_all<'a>(&'a self, sql: String) -> BoxFuture<'a, Result<Vec<QueryResult>, DbErr>> {
        Box::pin(async move {
            self.query_all_raw(Statement::from_string(self.backend(), sql))
                .await
        })
    }
}

/// A transaction on a connection of its own (see the module docs). Dropped
/// without [`commit`](Transaction::commit), it is rolled back.
pub struct Transaction {
    backend: DbBackend,
    inner: Inner,
}

enum Inner {
    Postgres(Mutex<sqlx::Transaction<'static, Postgres>>),
    SeaOrm(DatabaseTransaction),
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Transaction {
    /// Takes a connection from `db`'s pool and sends `BEGIN`.
    pub async fn begin(db: &DatabaseConnection) -> Result<Transaction, DbErr> {
        let backend = db.get_database_backend();
        let inner = match postgres_pool(db) {
            Some(pool) => Inner::Postgres(Mutex::new(pool.begin().await.map_err(acquire_err)?)),
            None => Inner::SeaOrm(db.begin().await?),
        };
        Ok(Transaction { backend, inner })
    }

    /// Runs `sql` (one statement or several, `;`-separated) and returns
    /// the rows it affected.
    pub async fn execute(&self, sql: &str) -> Result<u64, DbErr> {
        match &self.inner {
            Inner::Postgres(txn) => {
                let mut txn = txn.lock().await;
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **txn)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(exec_err)
            }
            Inner::SeaOrm(txn) => txn.execute_unprepared(sql).await.map(|r| r.rows_affected()),
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            Inner::Postgres(txn) => txn.into_inner().commit().await.map_err(exec_err),
            Inner::SeaOrm(txn) => txn.commit().await,
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.inner {
            Inner::Postgres(txn) => txn.into_inner().rollback().await.map_err(exec_err),
            Inner::SeaOrm(txn) => txn.rollback().await,
        }
    }
}

impl Reader for Transaction {
    fn backend(&self) -> DbBackend {
        self.backend
    }

    fn query_all<'a>(&'a self, sql: String) -> BoxFuture<'a, Result<Vec<QueryResult>, DbErr>> {
        Box::pin(async move {
            match &self.inner {
                Inner::Postgres(txn) => {
                    let mut txn = txn.lock().await;
                    sqlx::raw_sql(AssertSqlSafe(sql))
                        .fetch_all(&mut **txn)
                        .await
                        .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                        .map_err(query_err)
                }
                Inner::SeaOrm(txn) => Reader::query_all(txn, sql).await,
            }
        })
    }
}
