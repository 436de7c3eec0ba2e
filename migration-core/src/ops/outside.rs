//! A migration whose `use_transaction()` is `Some(false)`, on PostgreSQL, so
//! that it can run what PostgreSQL refuses inside a transaction block
//! (`CREATE INDEX CONCURRENTLY`): its statements are sent one by one, each
//! committing on its own (each as a simple query when the migration reads
//! nothing, as recorded by [`crate::pure::capture::batch`]), and its bookkeeping
//! row is written once they have all succeeded.
//!
//! It keeps the guarantees of a migration in a transaction, but the first:
//! - **A bounded lock wait.** It runs on a connection of its own, opened for
//!   the step and closed after it, whose session first sets `lock_timeout`
//!   (the lock wait) and `application_name = 'migrating <migration>'`, so
//!   that a statement waiting for a busy table gives up after the lock wait
//!   and the blocker can be named ([`crate::backend::postgres::lock_wait`]). `SET LOCAL` is not
//!   an option: it lives only as long as a transaction, and a statement
//!   such as `CREATE INDEX CONCURRENTLY` refuses to run in one, even in the
//!   implicit transaction of a multi-statement query. A session `SET`
//!   outlives the step on a pooled server connection, so the step ends,
//!   whatever its outcome, with `RESET lock_timeout; RESET
//!   application_name`. The step ([`crate::ops::step::run_step`]) is retried
//!   from its first statement until `--wait-budget`, as a transactional
//!   one is.
//! - **One run at a time**: the run's migration lock. (On SQLite, which has
//!   no run-long lock and no statement that must run outside a transaction,
//!   such a migration runs like any other, in a write-locked transaction
//!   with its bookkeeping row: see [`crate::backend`].)
//! - **Nothing half-recorded**: a failure records nothing and leaves what
//!   its statements did before it, and what PostgreSQL leaves (a failed
//!   `CREATE INDEX CONCURRENTLY` leaves an INVALID index, reported by name
//!   with its fix); the migration stays pending and the next run runs it
//!   again from its first statement, so it must be safe to repeat, e.g.
//!   `DROP INDEX CONCURRENTLY IF EXISTS ix` before `CREATE INDEX
//!   CONCURRENTLY ix …`.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::SchemaManager;
use std::time::{Duration, Instant};

use crate::Error;
use crate::backend::transport::Reader;
use crate::model::run::Direction;
use crate::model::run::Step;
use crate::ops::record::create_bookkeeping;
use crate::ops::run::Run;
use crate::pure::bookkeeping::record_statement;

pub(crate) use crate::backend::postgres::outside::{EPILOGUE, prologue};
use crate::backend::postgres::outside::{invalid_indexes, own_connection};

/// One try at migration `index` outside a transaction, its statements
/// waiting at most `wait` for a lock.
pub(crate) async fn attempt(
    run: &Run<'_>,
    index: usize,
    wait: Option<Duration>,
) -> Result<Option<Step>, Error> {
    let Run {
        db,
        history,
        direction,
        state,
        ..
    } = *run;
    let migration = &history.migrations[index];
    let name = migration.name().to_owned();
    let backend = db.get_database_backend();
    let table = history.quoted_table(crate::backend::of(backend));
    let started = Instant::now();
    let action = action(direction);
    let bookkeeping = |source| Error::Migration {
        name: name.clone(),
        action: "recording it",
        source,
    };
    if !state.tracked && direction == Direction::Up {
        create_bookkeeping(db, history).await.map_err(bookkeeping)?;
    }
    let recorded = crate::pure::capture::batch(migration.as_ref(), direction, backend).await;
    let own = own_connection(db).await?;
    let conn = own.as_ref().unwrap_or(db);
    let ran = async {
        if own.is_some() {
            conn.execute_unprepared(&prologue(&name, wait).join("; "))
                .await?;
        }
        match &recorded {
            Some(statements) => {
                for statement in statements {
                    conn.execute_unprepared(&statement.to_string()).await?;
                }
                Ok(())
            }
            None => {
                let manager = SchemaManager::new(conn);
                match direction {
                    Direction::Up => migration.up(&manager).await,
                    Direction::Down => migration.down(&manager).await,
                }
            }
        }
    }
    .await;
    if let Some(own) = own {
        // In every outcome: on a pooled server connection the session's
        // settings would outlive the step.
        if let Err(e) = own.execute_unprepared(EPILOGUE).await {
            tracing::debug!("cannot reset the settings of {name}'s connection: {e}");
        }
        let _ = own.close().await;
    }
    ran.map_err(|source| Error::Migration {
        name: name.clone(),
        action,
        source,
    })?;
    let checksum = match (direction, &recorded) {
        (Direction::Down, _) => None,
        (Direction::Up, Some(statements)) => {
            let up: Vec<String> = statements.iter().map(ToString::to_string).collect();
            Some(
                crate::pure::checksum::with_up(migration.as_ref(), backend, &up)
                    .await
                    .v2,
            )
        }
        (Direction::Up, None) => crate::pure::checksum::of(migration.as_ref(), backend).await,
    };
    run.lock
        .check(|| format!("recording {name}, whose statements ran"))
        .await?;
    let record = record_statement(
        crate::backend::of(backend),
        &table,
        &name,
        direction,
        checksum.as_deref(),
    );
    db.execute_unprepared(&record.to_string())
        .await
        .map_err(bookkeeping)?;
    let elapsed = started.elapsed();
    let what = match direction {
        Direction::Up => "applied",
        Direction::Down => "rolled back",
    };
    tracing::info!(
        "{what} {name} outside a transaction ({})",
        crate::fmt_duration(elapsed)
    );
    Ok(Some(Step {
        name,
        direction,
        elapsed,
        lock_waits: 0,
    }))
}

fn action(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "applying it outside a transaction",
        Direction::Down => "rolling it back outside a transaction",
    }
}

/// A failed step outside a transaction, with every INVALID index of the
/// schema (what a failed concurrent build leaves) named with its fix.
pub(crate) async fn failed(db: &DatabaseConnection, schema: &str, e: Error) -> Error {
    let Error::Migration {
        name,
        action,
        source,
    } = e
    else {
        return e;
    };
    let sql = invalid_indexes(schema);
    let invalid = match Reader::query_all(db, sql).await {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "name").ok())
            .collect(),
        Err(e) => {
            tracing::debug!("cannot list INVALID indexes: {e}");
            Vec::new()
        }
    };
    Error::OutsideTransaction {
        name,
        action,
        cause: crate::describe_db_err(&source),
        invalid,
    }
}
