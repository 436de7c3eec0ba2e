//! The `MigratorTrait` calls an application makes, `Migrator::up(&db, None)`
//! first among them (it is what SeaORM's documentation teaches), run by this
//! crate's runner: the migration lock, Alembic adoption, one transaction per
//! migration on every backend, the refusal of a database ahead of the binary
//! and the history checks, exactly as the CLI command of the same name.
//!
//! [`migrator!`](crate::migrator) overrides `up`, `down`, `fresh`, `refresh`,
//! `reset` and `status` with these. The steps argument keeps sea-orm-migration's
//! meaning: `None` is every pending migration for `up` and every applied one
//! for `down`. The lock needs a connection of its own and each migration a
//! transaction of its own, so these take the [`DatabaseConnection`] (a pool);
//! given a transaction they fail, saying what to pass instead, and never fall
//! back to an unguarded run. `get_pending_migrations`, `get_applied_migrations`
//! and the rest of the trait keep sea-orm-migration's behaviour.

pub mod startup;

use futures_util::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DbBackend, DbErr, QueryResult, Statement,
};

use crate::backend::transport::Reader;
use crate::model::error::plural;
use crate::ops::runner::{self, Direction, Goal, History, Report, RunOptions};
use crate::{Described, Error};

/// `Migrator::up(db, steps)`.
pub async fn up<M: Described>(db: DatabaseExecutor<'_>, steps: Option<u32>) -> Result<(), DbErr> {
    let db = connection::<M>(&db, "up")?;
    let history = History::of::<M>();
    let goal = steps.map_or(Goal::All, Goal::Steps);
    let report = runner::up(db, &history, &goal, &options()?)
        .await
        .map_err(to_db_err)?;
    log::<M>(&report);
    Ok(())
}

/// `Migrator::down(db, steps)`.
pub async fn down<M: Described>(db: DatabaseExecutor<'_>, steps: Option<u32>) -> Result<(), DbErr> {
    let db = connection::<M>(&db, "down")?;
    let history = History::of::<M>();
    let goal = steps.map_or(Goal::All, Goal::Steps);
    let report = runner::down(db, &history, &goal, &options()?)
        .await
        .map_err(to_db_err)?;
    log::<M>(&report);
    Ok(())
}

/// `Migrator::fresh(db)`: drops every table, then applies every migration.
/// Refused on a database that records migrations this binary does not know
/// or holds another migrator's history (the CLI's `fresh --yes` overrides).
pub async fn fresh<M: Described>(db: DatabaseExecutor<'_>) -> Result<(), DbErr> {
    let db = connection::<M>(&db, "fresh")?;
    let history = History::of::<M>();
    runner::refuse_not_our_history(db, &history, "Migrator::fresh")
        .await
        .map_err(to_db_err)?;
    let report = runner::fresh(db, &history, &options()?)
        .await
        .map_err(to_db_err)?;
    log::<M>(&report);
    Ok(())
}

/// `Migrator::refresh(db)`: rolls every migration back, then applies them all.
pub async fn refresh<M: Described>(db: DatabaseExecutor<'_>) -> Result<(), DbErr> {
    let db = connection::<M>(&db, "refresh")?;
    let report = runner::refresh(db, &History::of::<M>(), &options()?)
        .await
        .map_err(to_db_err)?;
    log::<M>(&report);
    Ok(())
}

/// `Migrator::reset(db)`: rolls every migration back. The bookkeeping table
/// stays (empty), as with the CLI's `reset`.
pub async fn reset<M: Described>(db: DatabaseExecutor<'_>) -> Result<(), DbErr> {
    let db = connection::<M>(&db, "reset")?;
    let report = runner::down(db, &History::of::<M>(), &Goal::All, &options()?)
        .await
        .map_err(to_db_err)?;
    log::<M>(&report);
    Ok(())
}

/// `Migrator::status(db)`: logs every migration, applied or pending, with
/// one SELECT and no DDL (sea-orm-migration's creates the bookkeeping table).
pub async fn status<M: Described, C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let history = History::of::<M>();
    let state = runner::read_state(&Any(db), &history)
        .await
        .map_err(to_db_err)?;
    state.refuse_unknown().map_err(to_db_err)?;
    for name in history.names() {
        match state.applied.iter().find(|a| a.name == name) {
            Some(_) => tracing::info!("{}: {name} applied", M::DATABASE.name),
            None => tracing::info!("{}: {name} pending", M::DATABASE.name),
        }
    }
    Ok(())
}

/// Reads through whatever executor the application passed, with sea-orm's
/// own statements.
struct Any<'a, C>(&'a C);

impl<C: ConnectionTrait> Reader for Any<'_, C> {
    fn backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }

    fn query_all<'a>(&'a self, sql: String) -> BoxFuture<'a, Result<Vec<QueryResult>, DbErr>> {
        Box::pin(async move {
            self.0
                .query_all_raw(Statement::from_string(self.backend(), sql))
                .await
        })
    }
}

/// The run's options, as `migrate_on_startup` takes them: the defaults, the
/// lock wait from `MIGRATION_LOCK_WAIT`, and `MIGRATION_ALLOW_EDITED`.
fn options() -> Result<RunOptions, DbErr> {
    Ok(RunOptions {
        lock_wait: crate::backend::postgres::lock_wait::lock_wait_from_env().map_err(to_db_err)?,
        allow_edited: crate::ops::edited::allow_edited_from_env().map_err(to_db_err)?,
        ..RunOptions::default()
    })
}

fn connection<'a, M: Described>(
    db: &'a DatabaseExecutor<'_>,
    call: &str,
) -> Result<&'a DatabaseConnection, DbErr> {
    match db {
        DatabaseExecutor::Connection(db) => Ok(db),
        _ => Err(to_db_err(Error::NeedsConnection {
            call: format!("{}'s Migrator::{call}", M::DATABASE.title),
        })),
    }
}

/// The error as one line, as the CLI prints it (runner errors carry no URL).
fn to_db_err(e: Error) -> DbErr {
    DbErr::Migration(crate::one_line(&e, &[]))
}

fn log<M: Described>(report: &Report) {
    let name = M::DATABASE.name;
    let up = report
        .steps
        .iter()
        .filter(|s| s.direction == Direction::Up)
        .count();
    let down = report.steps.len() - up;
    let at = report.current.as_deref().unwrap_or("no migration");
    if let Some(revision) = &report.adopted {
        tracing::info!("{name}: adopted Alembic revision {revision}");
    }
    match (up, down) {
        (0, 0) => tracing::info!("{name}: nothing to do; at {at}"),
        (up, 0) => tracing::info!("{name}: applied {}; at {at}", plural(up, "migration")),
        (0, down) => tracing::info!("{name}: rolled back {}; at {at}", plural(down, "migration")),
        (up, down) => tracing::info!(
            "{name}: rolled back {} and applied {}; at {at}",
            plural(down, "migration"),
            plural(up, "migration")
        ),
    }
}
