//! One run at a time per database: replicas that start together queue up
//! instead of racing.
//!
//! PostgreSQL: a transaction-scoped advisory lock, keyed by database, schema
//! and bookkeeping table, taken on a connection of its own and held by keeping
//! that transaction open for the whole run. Being transaction-scoped it also
//! holds behind a transaction-pooling proxy such as PgBouncer, which pins the
//! server connection for as long as the transaction is open; the server frees
//! it if the process dies. Its statements are simple queries ([`crate::backend::transport`]),
//! and a run that has to wait retries with `pg_try_advisory_xact_lock`,
//! ending its transaction between tries, so waiting runs do not hold server
//! connections that the proxy's pool needs for the run holding the lock.
//!
//! The lock's transaction names itself (`SET LOCAL application_name =
//! 'sketch2bim-migration lock'`, so an operator finds it in
//! `pg_stat_activity`) and turns off `idle_in_transaction_session_timeout`
//! for itself (`SET LOCAL`, so it also holds behind a transaction pooler):
//! the lock does not time out by itself. It can still be lost: PostgreSQL
//! ends the connection (`pg_terminate_backend`, a failover, a pooler closing
//! server connections it finds idle). So the runner checks it
//! ([`MigrationLock::check`]) before every step and again before committing
//! the step, on the lock's own connection, and stops at once when it is gone.
//!
//! SQLite has no lock of its own to hold across transactions, so each step
//! takes the file's write lock (`BEGIN IMMEDIATE`) and checks again, inside
//! that transaction, that it is still to be done (see the runner).

use sea_orm::{DatabaseConnection, DbErr};
use std::time::{Duration, Instant};

use crate::Error;
use crate::backend::transport::{Reader, Transaction};
use crate::pure::history::History;

/// The held lock; released by [`MigrationLock::release`] or when the process ends.
pub struct MigrationLock {
    txn: Option<Transaction>,
    /// The schema and bookkeeping table the lock is keyed by.
    schema: String,
    table: String,
}

impl std::fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationLock")
            .field("held", &self.txn.is_some())
            .finish()
    }
}

/// The lock's key: the database, the schema migrated and the bookkeeping
/// table (for `public`, the key runs that read `current_schema()` made).
fn key_sql(schema: &str, table: &str) -> String {
    format!(
        "hashtextextended(current_database() || '/' || {} || '/' || {}, 0)",
        crate::backend::transport::literal(schema),
        crate::backend::transport::literal(table)
    )
}

impl MigrationLock {
    /// Takes the lock for `history`'s bookkeeping table, saying so when it
    /// has to wait, and failing after `timeout`.
    pub async fn acquire(
        db: &DatabaseConnection,
        history: &History,
        timeout: Duration,
    ) -> Result<MigrationLock, Error> {
        let table = history.table();
        if !crate::backend::of(db.get_database_backend()).locks_runs() {
            return Ok(MigrationLock {
                txn: None,
                schema: history.schema().to_owned(),
                table: table.to_owned(),
            });
        }
        // The lock's transaction keeps one pooled connection for the whole
        // run while the steps run on another: a one-connection pool would
        // wait on itself until the pool's acquire timeout.
        if let Some(pool) = crate::backend::transport::postgres_pool(db) {
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
            let (schema, got) = match try_lock(&txn, history).await {
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
                return Ok(MigrationLock {
                    txn: Some(txn),
                    schema: history.schema().to_owned(),
                    table: table.to_owned(),
                });
            }
            txn.rollback().await.map_err(failed())?;
            crate::model::stop::refuse_if_stopped(None)?;
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
            crate::backend::rt::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// The lock's own transaction (PostgreSQL), free for reading the
    /// catalog while the migration's connection waits.
    pub(crate) fn observer(&self) -> Option<&Transaction> {
        self.txn.as_ref()
    }

    /// Checks that the lock is still held: one query on the lock's own
    /// connection, asking `pg_locks` whether that backend still holds the
    /// run's advisory lock. A connection PostgreSQL (or a pooler) ended
    /// fails the query; either way the run must stop before `before` (`applying
    /// m009_…`). Nothing is sent on SQLite.
    pub(crate) async fn check(&self, before: impl FnOnce() -> String) -> Result<(), Error> {
        let Some(txn) = &self.txn else {
            return Ok(());
        };
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM pg_locks, (SELECT {} AS k) AS key \
             WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted \
             AND objsubid = 1 AND classid = ((key.k >> 32) & 4294967295)::oid \
             AND objid = (key.k & 4294967295)::oid) AS held",
            key_sql(&self.schema, &self.table)
        );
        let held = match txn.query_all(sql).await {
            Ok(rows) => rows
                .first()
                .and_then(|row| row.try_get::<bool>("", "held").ok())
                .unwrap_or(false),
            Err(source) => {
                return Err(Error::LockLost {
                    before: before(),
                    source: Some(source),
                });
            }
        };
        if held {
            Ok(())
        } else {
            Err(Error::LockLost {
                before: before(),
                source: None,
            })
        }
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

/// How the lock's connection shows in `pg_stat_activity`:
/// `sketch2bim-migration lock`.
pub fn application_name(history: &History) -> String {
    format!("{}-migration lock", history.database)
}

/// One try at the lock in `txn`: whether there is a schema to migrate (else
/// the search path, to name it) and whether the lock was taken. The
/// transaction first names itself and keeps PostgreSQL from ending it for
/// idling (both `SET LOCAL`: they end with it, also behind a pooler).
async fn try_lock(
    txn: &Transaction,
    history: &History,
) -> Result<(Result<String, String>, bool), DbErr> {
    let rows = txn
        .query_all(format!(
            "SET LOCAL idle_in_transaction_session_timeout = 0; \
             SET LOCAL application_name = {}; \
             SELECT n.nspname::text AS schema, current_setting('search_path') AS path, \
             n.nspname IS NOT NULL AND pg_try_advisory_xact_lock({}) AS locked \
             FROM (SELECT 1) AS one \
             LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = {}",
            crate::backend::transport::literal(&application_name(history)),
            key_sql(history.schema(), history.table()),
            crate::backend::transport::literal(history.schema())
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

pub(crate) use super::errors::sqlstate;
