//! The operations: `up`, `down`, `refresh`, `fresh`, `adopt`, `repair`,
//! each run under the migration lock, one transaction per migration.
//!
//! Every run that changes migration state first reads what is applied
//! without locking ([`crate::pure::state`]; at head that single query is the whole
//! cost and nothing else is sent), checks it against the history
//! ([`crate::pure::history`]), and only when there is work takes the migration
//! lock ([`crate::backend::postgres::lock`]) and reads again, so the losers of a race find
//! nothing left to do. It then plans ([`crate::pure::plan`]) and runs each step
//! ([`crate::ops::step`]: a migration in one transaction with its bookkeeping row,
//! [`crate::pure::bookkeeping`]), so a failing statement, a crash or a kill leaves
//! the database at the previous migration, never between two.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::time::Duration;

use crate::Error;
use crate::backend::postgres::lock::MigrationLock;
use crate::backend::transport::Reader;
use crate::ops::adopt::Takeover;
use crate::ops::step::{Run, run_step};

pub use crate::model::recorded::{Applied, State};
pub use crate::model::run::{Direction, Goal, Report, RunOptions, Step};
pub use crate::ops::checks::{refuse_foreign, refuse_not_our_history};
pub use crate::ops::read::read_state;
pub use crate::ops::verify::{Verification, verify};
pub use crate::pure::history::History;

impl Report {
    fn new(history: &History, state: &State, steps: Vec<Step>) -> Report {
        Report {
            steps,
            adopted: None,
            baselined: None,
            edited: Vec::new(),
            current: state.current().map(str::to_owned),
            head: history.head().map(str::to_owned),
            pending: state
                .pending(history)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Where the database stands, changing nothing (one SELECT).
pub async fn status<C: Reader + ?Sized>(db: &C, history: &History) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    Ok(Report::new(history, &state, Vec::new()))
}

/// Applies pending migrations up to `goal`.
pub async fn up(
    db: &DatabaseConnection,
    history: &History,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    state.refuse_damage(history)?;
    let at_goal =
        state.alembic.is_none() && crate::pure::plan::plan_up(history, &state, goal)?.is_empty();
    if !at_goal {
        // Another migrator's history is said as such, not as edits.
        refuse_foreign(db, history, &state).await?;
    }
    let edited = refuse_edited(db, history, &state, options).await?;
    if at_goal {
        let mut report = Report::new(history, &state, Vec::new());
        report.edited = edited;
        return Ok(report);
    }
    let untracked = state.current().is_none();
    let report = locked(
        db,
        history,
        options,
        |state| crate::pure::plan::plan_up(history, state, goal),
        Direction::Up,
    )
    .await
    .map_err(|e| match history.names().first() {
        Some(first) if untracked => {
            already_built(crate::backend::of(db.get_database_backend()), e, first)
        }
        _ => e,
    });
    report.map(|mut report| {
        report.edited = edited;
        report
    })
}

/// Refuses edited migrations unless `options` allow them, warning about
/// each then ([`crate::ops::edited::refuse_edited`]).
pub async fn refuse_edited<C: Reader + ?Sized>(
    db: &C,
    history: &History,
    state: &State,
    options: &RunOptions,
) -> Result<Vec<String>, Error> {
    crate::ops::edited::refuse_edited(db, history, state, options.allow_edited).await
}

/// On a database that records no migrations, the first migration finding
/// its tables already there means the schema was built some other way:
/// say how to baseline it instead of only relaying the driver's complaint.
fn already_built(backend: &dyn crate::backend::Migrate, e: Error, first: &str) -> Error {
    match e {
        Error::Migration { name, source, .. }
            if name == first && backend.already_exists(&source) =>
        {
            Error::AlreadyBuilt { name, source }
        }
        other => other,
    }
}

/// Rolls back applied migrations down to `goal`.
pub async fn down(
    db: &DatabaseConnection,
    history: &History,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    state.refuse_damage(history)?;
    if state.alembic.is_none() && crate::pure::plan::plan_down(history, &state, goal)?.is_empty() {
        return Ok(Report::new(history, &state, Vec::new()));
    }
    refuse_foreign(db, history, &state).await?;
    refuse_edited(db, history, &state, options).await?;
    locked(
        db,
        history,
        options,
        |state| crate::pure::plan::plan_down(history, state, goal),
        Direction::Down,
    )
    .await
}

/// Rolls back every applied migration, then applies them all.
pub async fn refresh(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Report, Error> {
    let down = down(db, history, &Goal::All, options).await?;
    let mut up = up(db, history, &Goal::All, options).await?;
    let mut steps = down.steps;
    steps.append(&mut up.steps);
    up.steps = steps;
    Ok(up)
}

/// How `adopt` takes a database over.
#[derive(Debug, Clone, Default)]
pub struct AdoptOptions {
    /// Baseline a database that records no migrations and has no
    /// `alembic_version` (built by the platform's old `create_all()`
    /// fallback, say): record the migrations up to and including this one.
    pub at: Option<String>,
    /// Take the database over even where its schema differs from what the
    /// recorded migrations build, logging every accepted difference.
    pub accept_differences: bool,
}

/// Adopts an Alembic-built database, or baselines one built some other way
/// (see [`crate::ops::adopt`]), without applying anything else; reports where it
/// stands.
pub async fn adopt(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
    how: &AdoptOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    if takeover(history, &state, how)?.is_none() {
        return Ok(Report::new(history, &state, Vec::new()));
    }
    with_lock(db, history, options, async |_| {
        // Again under the lock: another run may have taken it over meanwhile.
        let state = read_state(db, history).await?;
        crate::ops::checks::refuse_unknown(db, history, &state).await?;
        let Some(takeover) = takeover(history, &state, how)? else {
            return Ok(Report::new(history, &state, Vec::new()));
        };
        crate::ops::record::check_columns(db, history).await?;
        let took = crate::ops::adopt::adopt(db, history, &takeover, how.accept_differences).await?;
        let state = read_state(db, history).await?;
        let mut report = Report::new(history, &state, Vec::new());
        match takeover {
            Takeover::Alembic(found) if took => report.adopted = Some(found.revision),
            Takeover::Baseline(count) if took => {
                report.baselined = Some(history.names()[count - 1].to_owned())
            }
            _ => {}
        }
        Ok::<_, Error>(report)
    })
    .await
}

/// What `adopt` would take the database over as, given what it records:
/// `None` when it already records its migrations.
fn takeover(
    history: &History,
    state: &State,
    how: &AdoptOptions,
) -> Result<Option<Takeover>, Error> {
    let at = match &how.at {
        Some(name) => Some(history.position(name)? + 1),
        None => None,
    };
    if let Some(found) = &state.alembic {
        return match at {
            Some(count) if count != found.count => Err(Error::AdoptAtOtherRevision {
                revision: found.revision.clone(),
                recorded: history.names()[found.count - 1].to_owned(),
                asked: history.names()[count - 1].to_owned(),
            }),
            _ => Ok(Some(Takeover::Alembic(found.clone()))),
        };
    }
    match (state.current(), at) {
        (Some(current), Some(_)) => Err(Error::AlreadyRecorded {
            current: current.to_owned(),
        }),
        (Some(_), None) => Ok(None),
        (None, Some(count)) => Ok(Some(Takeover::Baseline(count))),
        (None, None) => Err(Error::NothingToAdopt),
    }
}

/// Records what this binary renders as the checksum of every applied
/// migration whose recorded checksum differs or is missing (see
/// [`crate::pure::checksum`]), in one transaction under the lock, and returns
/// their names, in history order. For after a review of the edits `up`,
/// `status` and `verify` report; a database ahead of this binary, or with a
/// damaged history, is refused.
pub async fn repair(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Vec<String>, Error> {
    let backend = db.get_database_backend();
    with_lock(db, history, options, async |_| {
        let state = read_state(db, history).await?;
        // Another migrator's checksums are not this binary's to overwrite.
        crate::ops::checks::refuse_under_lock(db, history, &state).await?;
        let entries = crate::pure::checksum::compare(history, &state, backend, true).await;
        let table = history.quoted_table(crate::backend::of(backend));
        let mut repaired = Vec::new();
        let mut updates = Vec::new();
        for entry in &entries {
            let stale = matches!(
                entry.verdict,
                crate::pure::checksum::Verdict::Edited { .. }
                    | crate::pure::checksum::Verdict::NotRecorded
                    | crate::pure::checksum::Verdict::Blank
            );
            if let (true, Some(now)) = (stale, &entry.now) {
                updates.push(crate::pure::bookkeeping::set_checksum_sql(
                    &table,
                    &entry.name,
                    now,
                ));
                repaired.push((entry.name.clone(), now));
            }
        }
        if repaired.is_empty() {
            return Ok(Vec::new());
        }
        let failed = || Error::db(format!("recording checksums in {}", history.table()));
        let dialect = crate::backend::of(backend);
        let txn = dialect.begin(db, options).await?;
        let wrote = async {
            // Its lock wait bounds how long the UPDATE (and an ALTER) may
            // queue the table's readers.
            let setup =
                dialect.prologue(history.schema(), history.table(), options.lock_wait, true);
            if !setup.is_empty() {
                txn.execute_unprepared(&setup.join(";\n")).await?;
            }
            if !state.checksum_column {
                crate::ops::record::add_checksum_column(&txn, history).await?;
            }
            txn.execute_unprepared(&updates.join(";\n")).await
        }
        .await;
        if let Err(e) = wrote {
            let _ = txn.rollback().await;
            return Err(failed()(e));
        }
        txn.commit().await.map_err(failed())?;
        for (name, now) in &repaired {
            tracing::info!(
                "recorded the checksum of {name} ({})",
                crate::pure::checksum::short(now)
            );
        }
        Ok::<_, Error>(repaired.into_iter().map(|(name, _)| name).collect())
    })
    .await
}

/// Drops `alembic_version` from an adopted database, under the lock.
/// Returns whether there was one to drop.
pub async fn drop_alembic_version(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<bool, Error> {
    with_lock(db, history, options, async |_| {
        let state = read_state(db, history).await?;
        crate::ops::adopt::drop_alembic_version(
            db,
            history,
            state.alembic.is_none() && state.tracked,
        )
        .await
    })
    .await
}

/// Drops every table of the database (its current schema on PostgreSQL),
/// bookkeeping included, then applies every migration.
pub async fn fresh(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Report, Error> {
    with_lock(db, history, options, async |_| {
        drop_all_tables(db, history).await
    })
    .await?;
    up(db, history, &Goal::All, options).await
}

async fn drop_all_tables(db: &DatabaseConnection, history: &History) -> Result<(), Error> {
    let failed = || Error::db("dropping all tables");
    let names = crate::ops::checks::table_names(db, history.schema())
        .await
        .map_err(failed())?;
    // Listed first: the run's lock holds one of the pool's two connections,
    // and this transaction the other.
    let txn = db.begin().await.map_err(failed())?;
    for drop in crate::backend::of(db.get_database_backend()).drop_tables(history.schema(), &names)
    {
        txn.execute_unprepared(&drop).await.map_err(failed())?;
    }
    txn.commit().await.map_err(failed())?;
    tracing::info!("dropped {} tables", names.len());
    Ok(())
}

/// Runs `body` holding the migration lock, which is released whatever
/// `body` returns; `body`'s error comes first.
async fn with_lock<T>(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
    body: impl AsyncFnOnce(&MigrationLock) -> Result<T, Error>,
) -> Result<T, Error> {
    let lock = MigrationLock::acquire(db, history, options.lock_timeout).await?;
    let outcome = body(&lock).await;
    let released = lock.release().await;
    let value = outcome?;
    released?;
    Ok(value)
}

/// Takes the lock, reads the state again, and runs what `plan` then says.
async fn locked(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
    plan: impl Fn(&State) -> Result<Vec<usize>, Error>,
    direction: Direction,
) -> Result<Report, Error> {
    with_lock(db, history, options, async |lock| {
        let mut state = read_state(db, history).await?;
        crate::ops::checks::refuse_under_lock(db, history, &state).await?;
        let mut adopted = None;
        if let Some(found) = state.alembic.clone() {
            let revision = found.revision.clone();
            crate::ops::adopt::adopt(db, history, &Takeover::Alembic(found), false).await?;
            adopted = Some(revision);
            state = read_state(db, history).await?;
        }
        let mut steps = Vec::new();
        let planned = plan(&state)?;
        if direction == Direction::Up && !planned.is_empty() && state.tracked {
            if !state.checksum_column {
                add_checksum_column(db, history, options).await?;
            }
            state.checksum_column = true;
        }
        let mut waited = Duration::ZERO;
        for (n, &index) in planned.iter().enumerate() {
            let flush = n + 1 == planned.len();
            let run = Run {
                db,
                history,
                direction,
                state: &state,
                options,
                lock,
            };
            if let Some(step) = run_step(&run, index, flush, &mut waited).await? {
                steps.push(step);
            }
            state = read_state_after(history, state, index, direction);
        }
        let mut report = Report::new(history, &state, steps);
        report.adopted = adopted;
        Ok::<_, Error>(report)
    })
    .await
}

/// Adds the checksum column to a bookkeeping table made before checksums
/// were kept ([`crate::ops::record::add_checksum_column`]); under the run's lock, and on
/// SQLite in a write-locked transaction.
async fn add_checksum_column(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<(), Error> {
    let failed = || Error::db(format!("adding the checksum column to {}", history.table()));
    let dialect = crate::backend::of(db.get_database_backend());
    let txn = dialect.begin(db, options).await?;
    let added = async {
        // The ALTER waits for the table's readers and queues those after
        // it: no longer than a migration's statement would.
        let setup = dialect.prologue(history.schema(), history.table(), options.lock_wait, true);
        if !setup.is_empty() {
            txn.execute_unprepared(&setup.join(";\n")).await?;
        }
        crate::ops::record::add_checksum_column(&txn, history).await
    }
    .await;
    if let Err(e) = added {
        let _ = txn.rollback().await;
        return Err(failed()(e));
    }
    txn.commit().await.map_err(failed())
}

/// The state after step `index` went `direction` (without asking the database).
fn read_state_after(
    history: &History,
    mut state: State,
    index: usize,
    direction: Direction,
) -> State {
    let name = history.migrations[index].name();
    match direction {
        Direction::Up => {
            if !state.is_applied(name) {
                state.applied.push(Applied {
                    name: name.to_owned(),
                    applied_at: crate::pure::bookkeeping::now_unix(),
                    checksum: None,
                });
                let order = history.names();
                state
                    .applied
                    .sort_by_key(|a| order.iter().position(|n| *n == a.name));
            }
        }
        Direction::Down => state.applied.retain(|a| a.name != name),
    }
    if !state.tracked {
        // Made by the step, with the checksum column.
        state.checksum_column = true;
    }
    state.tracked = true;
    state
}
