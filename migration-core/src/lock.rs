//! One run at a time per database: replicas that start together queue up
//! instead of racing.
//!
//! PostgreSQL: a transaction-scoped advisory lock, keyed by database, schema
//! and bookkeeping table, taken on a connection of its own and held by keeping
//! that transaction open for the whole run. Being transaction-scoped it also
//! holds behind a transaction-pooling proxy such as PgBouncer, which pins the
//! server connection for as long as the transaction is open; the server frees
//! it if the process dies. Its statements are simple queries ([`crate::sql`]),
//! and a run that has to wait retries with `pg_try_advisory_xact_lock`,
//! ending its transaction between tries, so waiting runs do not hold server
//! connections that the proxy's pool needs for the run holding the lock.
//!
//! SQLite has no lock of its own to hold across transactions, so each step
//! takes the file's write lock (`BEGIN IMMEDIATE`) and checks again, inside
//! that transaction, that it is still to be done (see the runner).

use sea_orm::{DatabaseConnection, DbErr};
use std::time::{Duration, Instant};

use crate::Error;
use crate::sql::{Reader, Transaction};

/// How long a run waits for another run's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The held lock; released by [`MigrationLock::release`] or when the process ends.
pub struct MigrationLock {
    txn: Option<Transaction>,
}

impl std::fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationLock")
            .field("held", &self.txn.is_some())
            .finish()
    }
}

fn key_sql(table: &str) -> String {
    format!(
        "hashtextextended(current_database() || '/' || current_schema() || '/' || {}, 0)",
        crate::sql::literal(table)
    )
}

impl MigrationLock {
    /// Takes the lock for the bookkeeping table `table`, saying so when it has
    /// to wait, and failing after `timeout`.
    pub async fn acquire(
        db: &DatabaseConnection,
        table: &str,
        timeout: Duration,
    ) -> Result<MigrationLock, Error> {
        if !crate::backend::of(db.get_database_backend()).locks_runs() {
            return Ok(MigrationLock { txn: None });
        }
        // The lock's transaction keeps one pooled connection for the whole
        // run while the steps run on another: a one-connection pool would
        // wait on itself until the pool's acquire timeout.
        if let Some(pool) = crate::sql::postgres_pool(db) {
            let max = pool.options().get_max_connections();
            if max < 2 {
                return Err(Error::PoolTooSmall { max });
            }
        }
        // A run that has to wait polls, ending its transaction between
        // tries, rather than blocking in `pg_advisory_xact_lock`: behind a
        // transaction-pooling proxy a blocked transaction keeps a server
        // connection, and enough waiting runs would take every one the
        // proxy has, the lock holder's next step included.
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        let mut waited = false;
        loop {
            let failed = || Error::db("taking the migration lock");
            let txn = Transaction::begin(db).await.map_err(failed())?;
            let (schema, got) = match try_lock(&txn, table).await {
                Ok(found) => found,
                Err(e) => {
                    let _ = txn.rollback().await;
                    return Err(failed()(e));
                }
            };
            if let Err(path) = schema {
                let _ = txn.rollback().await;
                return Err(Error::SchemaMissing { search_path: path });
            }
            if got {
                if waited {
                    tracing::info!("got the migration lock");
                }
                return Ok(MigrationLock { txn: Some(txn) });
            }
            txn.rollback().await.map_err(failed())?;
            if !waited {
                tracing::info!(
                    "waiting for the migration lock: another run is migrating this database \
                     (timeout {} s)",
                    timeout.as_secs()
                );
                waited = true;
            }
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Error::LockTimeout {
                    seconds: timeout.as_secs(),
                });
            }
            crate::rt::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// The lock's own transaction (PostgreSQL), free for reading the
    /// catalog while the migration's connection waits.
    pub(crate) fn observer(&self) -> Option<&Transaction> {
        self.txn.as_ref()
    }

    /// Releases the lock.
    pub async fn release(mut self) -> Result<(), Error> {
        if let Some(txn) = self.txn.take() {
            txn.commit()
                .await
                .map_err(Error::db("releasing the migration lock"))?;
        }
        Ok(())
    }
}

/// One try at the lock in `txn`: whether there is a schema to migrate (else
/// the search path, to name it) and whether the lock was taken.
async fn try_lock(txn: &Transaction, table: &str) -> Result<(Result<String, String>, bool), DbErr> {
    let rows = txn
        .query_all(format!(
            "SELECT current_schema() AS schema, current_setting('search_path') AS path, \
             current_schema() IS NOT NULL AND pg_try_advisory_xact_lock({}) AS locked",
            key_sql(table)
        ))
        .await?;
    let Some(row) = rows.first() else {
        return Ok((Err(String::new()), false));
    };
    let schema = row
        .try_get::<Option<String>>("", "schema")?
        .ok_or(row.try_get::<String>("", "path")?);
    Ok((schema, row.try_get::<bool>("", "locked")?))
}

/// The SQLSTATE (PostgreSQL) or extended result code (SQLite) of a database error.
pub(crate) fn sqlstate(e: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => s
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}
