//! `--dry-run`: the exact SQL a run would execute, migration by migration,
//! without executing any of it.
//!
//! The plan is made from the real database's bookkeeping (one read-only
//! SELECT); the migrations then run against a recording connection of the same
//! backend ([`crate::pure::capture`]), which keeps every statement and answers
//! queries with no rows. The migrations of this project never branch on what
//! a query returns, so what is recorded is what a real run sends, bookkeeping
//! included.

use sea_orm::DatabaseConnection;

use crate::Error;
use crate::ops::runner::{self, Direction, Goal, History, RunOptions};

/// The statements of one migration, in order, transaction control included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub name: String,
    pub direction: Direction,
    pub statements: Vec<String>,
}

/// What `up` (`Direction::Up`) or `down` to `goal` would execute on `db`
/// with `options` (its lock wait). A migration that runs outside a
/// transaction (`use_transaction() == Some(false)`, on PostgreSQL) is shown
/// without BEGIN and COMMIT, between the session settings of its lock wait
/// and their reset ([`crate::ops::outside`]).
pub async fn plan(
    db: &DatabaseConnection,
    history: &History,
    direction: Direction,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Vec<PlannedStep>, Error> {
    let state = runner::read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    state.refuse_damage(history)?;
    let indexes = match direction {
        Direction::Up => crate::pure::plan::plan_up(history, &state, goal)?,
        Direction::Down => crate::pure::plan::plan_down(history, &state, goal)?,
    };
    let backend = db.get_database_backend();
    let dialect = crate::backend::of(backend);
    let table = history.quoted_table(crate::backend::of(backend));
    let mut out = Vec::with_capacity(indexes.len());
    let mut tracked = state.tracked;
    if let Some(found) = &state.alembic {
        // The run first records what the Alembic revision stands for, as
        // the adoption does (see bookkeeping).
        let mut rows = Vec::with_capacity(found.count);
        for migration in &history.migrations[..found.count] {
            let checksum = crate::pure::checksum::of(migration.as_ref(), backend).await;
            rows.push((migration.name(), checksum));
        }
        let mut statements = vec!["BEGIN".to_owned()];
        // Where adding the column does nothing when it is there; elsewhere
        // the run looks first, which a dry run cannot show.
        let dialect = crate::backend::of(backend);
        if dialect
            .columns_of(history.schema(), history.table())
            .is_none()
        {
            statements.push(crate::pure::bookkeeping::add_checksum_sql(dialect, &table));
        }
        statements.push(crate::pure::bookkeeping::record_adoption(
            crate::backend::of(backend),
            history,
            &rows,
        ));
        statements.push("COMMIT".to_owned());
        out.push(PlannedStep {
            name: format!("adoption of Alembic revision {}", found.revision),
            direction: Direction::Up,
            statements,
        });
        tracked = true;
    }
    if state.tracked && !state.checksum_column && direction == Direction::Up && !indexes.is_empty()
    {
        // A bookkeeping table made before checksums were kept gets the column.
        out.push(PlannedStep {
            name: "the bookkeeping table's checksum column".to_owned(),
            direction: Direction::Up,
            statements: vec![crate::pure::bookkeeping::add_checksum_sql(
                crate::backend::of(backend),
                &table,
            )],
        });
    }
    let count = indexes.len();
    for (n, index) in indexes.into_iter().enumerate() {
        let migration = &history.migrations[index];
        let name = migration.name().to_owned();
        let in_transaction =
            migration.use_transaction() != Some(false) || !dialect.runs_outside_transactions();
        let sent = crate::pure::capture::render(migration.as_ref(), direction, backend)
            .await
            .map_err(|source| Error::Migration {
                name: name.clone(),
                action: "planning it",
                source,
            })?;
        let checksum = match direction {
            Direction::Up => Some(
                crate::pure::checksum::with_up(migration.as_ref(), backend, &sent)
                    .await
                    .v2,
            ),
            Direction::Down => None,
        };
        // Its lock wait and name; only the run's last commit waits for the
        // disk (see backend).
        let setup = match in_transaction {
            true => dialect.prologue(history.schema(), &name, options.lock_wait, n + 1 == count),
            false => Vec::new(),
        };
        // The same plan the executor runs (`ops::step`).
        let plan = crate::pure::step::plan_step(
            dialect,
            history,
            &name,
            direction,
            tracked,
            dialect.rechecks_step(),
            setup,
            checksum.as_deref(),
        );
        tracked |= direction == Direction::Up;
        let mut statements = Vec::new();
        if in_transaction {
            statements.push(dialect.begin_sql().to_owned());
        }
        statements.extend(plan.setup);
        statements.extend(plan.create_bookkeeping);
        // A recheck: the step asks again, under the write lock, whether it is still due.
        statements.extend(plan.recheck.map(|query| query.to_string()));
        if in_transaction {
            statements.extend(sent);
        } else {
            statements.extend(crate::ops::outside::prologue(&name, options.lock_wait));
            statements.extend(sent);
            statements.push(crate::ops::outside::EPILOGUE.to_owned());
        }
        statements.push(plan.record.to_string());
        if in_transaction {
            statements.push("COMMIT".to_owned());
        }
        out.push(PlannedStep {
            name,
            direction,
            statements,
        });
    }
    Ok(out)
}
