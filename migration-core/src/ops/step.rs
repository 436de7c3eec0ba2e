//! One migration applied or rolled back: in one transaction with its
//! bookkeeping row (as one batch on PostgreSQL when it reads nothing), retried
//! whole when it gives up waiting for a busy table's lock, or outside a
//! transaction when it asks for that.

use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::SchemaManager;
use std::time::{Duration, Instant};

use crate::Error;
use crate::model::run::{Direction, Step};
use crate::ops::record::is_recorded;
pub(crate) use crate::ops::run::Run;
use crate::pure::step::plan_step;

/// Runs one migration. Returns `None` when (SQLite) another run did this
/// step while this one waited.
///
/// On PostgreSQL a migration whose `use_transaction()` is `Some(false)` runs
/// outside a transaction ([`crate::ops::outside`]). Any other runs in one
/// transaction together with its bookkeeping row ([`attempt_step`]). On
/// PostgreSQL, when one of its statements gives up waiting for a lock (the
/// lock wait, see [`crate::backend::postgres::lock_wait`]), the whole transaction is rolled back
/// (outside a transaction: the step stops there, recording nothing) and
/// tried again from its first statement after a pause (250 ms, doubling up to 2 s), each wait
/// logged with what it waited for and who held it, until `waited` (the run's
/// time spent so far waiting for table locks) reaches `--wait-budget`: a
/// deadline, so a try waits at most what is left of it, and a pause at most
/// half of that. Before each try, and again before committing it, the run's
/// lock is checked ([`MigrationLock::check`]) and a request to stop
/// honoured ([`crate::model::stop`]).
pub(crate) async fn run_step(
    run: &Run<'_>,
    index: usize,
    flush: bool,
    waited: &mut Duration,
) -> Result<Option<Step>, Error> {
    use crate::backend::postgres::lock_wait;
    let migration = &run.history.migrations[index];
    let outside = migration.use_transaction() == Some(false)
        && crate::backend::of(run.db.get_database_backend()).runs_outside_transactions();
    let name = migration.name();
    let mut pause = lock_wait::FIRST_BACKOFF;
    let mut attempt: u32 = 1;
    let mut seen = Vec::new();
    loop {
        crate::model::stop::refuse_if_stopped(None)?;
        run.lock
            .check(|| format!("{} {name}", doing(run.direction)))
            .await?;
        // `--wait-budget` is a deadline: the last try waits only for
        // what is left of it.
        let left = run.options.lock_timeout.saturating_sub(*waited);
        let (wait, last) = match run.options.lock_wait {
            Some(w) if w >= left => (Some(left.max(Duration::from_millis(1))), true),
            w => (w, false),
        };
        let started = Instant::now();
        let try_step = async {
            match outside {
                true => crate::ops::outside::attempt(run, index, wait).await,
                false => attempt_step(run, index, flush, wait).await,
            }
        };
        let (outcome, blockers) = lock_wait::watch(try_step, run.lock.observer(), name, wait).await;
        let source = match outcome {
            Err(e) if lock_wait::lock_not_available(&e) => e,
            Ok(Some(mut step)) => {
                step.lock_waits = attempt - 1;
                return Ok(Some(step));
            }
            // Its statement was cancelled: the run was asked to stop.
            Err(Error::Migration { .. }) if crate::model::stop::requested().is_some() => {
                return crate::model::stop::refuse_if_stopped(Some(name)).map(|()| None);
            }
            Err(e) if outside => {
                return Err(crate::ops::outside::failed(run.db, run.history.schema(), e).await);
            }
            outcome => return outcome,
        };
        *waited += started.elapsed();
        // A short last try may end before it is looked at: name who
        // blocked the try before.
        if !blockers.is_empty() {
            seen = blockers;
        }
        let (relation, held) = lock_wait::describe(&seen);
        let left = run.options.lock_timeout.saturating_sub(*waited);
        if last || left < MIN_LAST_TRY {
            let source = match source {
                Error::Migration { source, .. } => source,
                _ => DbErr::Custom("lock timeout".into()),
            };
            return Err(Error::LockWait {
                wait: Box::new(crate::LockWaitFailure {
                    name: name.to_owned(),
                    relation,
                    blockers: held,
                    attempts: attempt,
                    waited: *waited,
                    outside_transaction: outside,
                }),
                source,
            });
        }
        // Half of what is left at most, so the last try has the rest.
        let pause_now = pause.min(left / 2);
        tracing::info!(
            "waiting for a lock on {relation} (attempt {attempt}, lock wait {}): {held}; \
             retrying in {}",
            lock_wait::show(wait),
            crate::fmt_duration(pause_now)
        );
        crate::backend::rt::sleep(pause_now).await;
        *waited += pause_now;
        pause = (pause * 2).min(lock_wait::MAX_BACKOFF);
        attempt += 1;
    }
}

/// Less of `--wait-budget` left than this after a try: no further try.
const MIN_LAST_TRY: Duration = Duration::from_millis(20);

/// `applying`, `rolling back`: what a step does, for messages.
pub(crate) fn doing(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "applying",
        Direction::Down => "rolling back",
    }
}

/// One try at a migration and its bookkeeping, in one transaction, its
/// statements waiting at most `wait` for a lock; any failure rolls it all
/// back.
///
/// On PostgreSQL the transaction first sets its lock wait and names itself
/// ([`crate::backend::postgres::lock_wait`]), and only the last step of a run (`flush`) waits
/// for its commit to reach disk; the others commit with `synchronous_commit
/// = off`, saving a WAL flush each. Commits are replayed in order after a
/// crash, so a crash can only lose a suffix of the run's steps, each whole (a
/// migration and its bookkeeping row commit together), and the last commit
/// makes them all durable before the run reports success.
async fn attempt_step(
    run: &Run<'_>,
    index: usize,
    flush: bool,
    wait: Option<Duration>,
) -> Result<Option<Step>, Error> {
    let Run {
        db,
        history,
        direction,
        state,
        options,
        ..
    } = *run;
    let migration = &history.migrations[index];
    let name = migration.name().to_owned();
    let backend = db.get_database_backend();
    let started = Instant::now();
    let action = match direction {
        Direction::Up => "applying it",
        Direction::Down => "rolling it back",
    };
    let bookkeeping = |source| Error::Migration {
        name: name.clone(),
        action: "recording it",
        source,
    };
    let dialect = crate::backend::of(backend);
    let setup = dialect.prologue(history.schema(), &name, wait, flush);

    // On PostgreSQL a migration that cannot depend on what the database
    // holds is recorded first and sent as one batch inside its transaction:
    // BEGIN, the batch, COMMIT, three round trips whatever its size.
    let recorded = match dialect.batches() {
        true => crate::pure::capture::batch(migration.as_ref(), direction, backend).await,
        false => None,
    };
    // What it records is what it renders, so its `up` need not be
    // rendered again for its checksum.
    let checksum = match (direction, &recorded) {
        (Direction::Down, _) => None,
        (Direction::Up, Some(statements)) => Some(
            crate::pure::checksum::with_up(
                migration.as_ref(),
                backend,
                &statements
                    .iter()
                    .map(Statement::to_string)
                    .collect::<Vec<_>>(),
            )
            .await
            .v2,
        ),
        (Direction::Up, None) => crate::pure::checksum::of(migration.as_ref(), backend).await,
    };
    let checksum = checksum.as_deref();

    let plan = plan_step(
        dialect,
        history,
        &name,
        direction,
        state.tracked,
        dialect.rechecks_step(),
        setup,
        checksum,
    );
    // Values inline: simple queries, safe behind a transaction pooler.
    let record = plan.record.to_string();

    let txn = dialect.begin(db, options).await?;
    if let Some(statements) = recorded {
        let mut batch = plan.setup;
        batch.reserve(statements.len() + 2);
        batch.extend(plan.create_bookkeeping);
        batch.extend(statements.iter().map(Statement::to_string));
        batch.push(record);
        if let Err(source) = txn.execute_unprepared(&batch.join(";\n")).await {
            let _ = txn.rollback().await;
            return Err(Error::Migration {
                name,
                action,
                source,
            });
        }
        return finish(run, txn, name, started).await;
    }

    if !plan.setup.is_empty() {
        txn.execute_unprepared(&plan.setup.join(";\n"))
            .await
            .map_err(bookkeeping)?;
    }
    if let Some(create) = &plan.create_bookkeeping {
        txn.execute_unprepared(create).await.map_err(bookkeeping)?;
    }
    if let Some(recheck) = plan.recheck {
        // No lock spans the run: check again under the write lock.
        let done = is_recorded(&txn, recheck).await.map_err(bookkeeping)?;
        if done == (direction == Direction::Up) {
            txn.rollback().await.map_err(bookkeeping)?;
            return Ok(None);
        }
    }

    let manager = SchemaManager::new(&txn);
    let ran = match direction {
        Direction::Up => migration.up(&manager).await,
        Direction::Down => migration.down(&manager).await,
    };
    if let Err(source) = ran {
        let _ = txn.rollback().await;
        return Err(Error::Migration {
            name,
            action,
            source,
        });
    }
    if let Err(source) = txn.execute_unprepared(&record).await {
        let _ = txn.rollback().await;
        return Err(bookkeeping(source));
    }
    finish(run, txn, name, started).await
}

/// Commits a step's transaction and reports it; rolls it back instead when
/// the run's lock is lost or the run was asked to stop meanwhile.
async fn finish(
    run: &Run<'_>,
    txn: sea_orm::DatabaseTransaction,
    name: String,
    started: Instant,
) -> Result<Option<Step>, Error> {
    let direction = run.direction;
    let checked = match crate::model::stop::refuse_if_stopped(Some(&name)) {
        Ok(()) => {
            run.lock
                .check(|| format!("committing {name}, which was rolled back"))
                .await
        }
        stopped => stopped,
    };
    if let Err(e) = checked {
        let _ = txn.rollback().await;
        return Err(e);
    }
    txn.commit().await.map_err(|source| Error::Migration {
        name: name.clone(),
        action: "committing it",
        source,
    })?;
    let elapsed = started.elapsed();
    match direction {
        Direction::Up => tracing::info!("applied {name} ({})", crate::fmt_duration(elapsed)),
        Direction::Down => {
            tracing::info!("rolled back {name} ({})", crate::fmt_duration(elapsed))
        }
    }
    Ok(Some(Step {
        name,
        direction,
        elapsed,
        lock_waits: 0,
    }))
}
