//! `--dry-run`: the exact SQL a run would execute, migration by migration,
//! without executing any of it.
//!
//! The plan is made from the real database's bookkeeping (one read-only
//! SELECT); the migrations then run against a recording connection of the same
//! backend (sea-orm's `MockDatabase`), which keeps every statement and answers
//! queries with no rows. The
//! migrations of this project never branch on what a query returns, so what is
//! recorded is what a real run sends, bookkeeping included.

use sea_orm::sea_query::Value;
use sea_orm::{DatabaseConnection, DbBackend, MockDatabase, MockExecResult, Schema, Statement};
use sea_orm_migration::{SchemaManager, seaql_migrations};
use std::collections::BTreeMap;

use crate::Error;
use crate::runner::{self, Direction, Goal, History, placeholder, quote_ident};

/// The statements of one migration, in order, transaction control included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub name: String,
    pub direction: Direction,
    pub statements: Vec<String>,
}

/// Statements a migration may send in a dry run; each gets an empty answer.
const CAPACITY: usize = 10_000;

/// A connection that records what it is sent and answers with nothing.
fn recording_connection(backend: DbBackend) -> DatabaseConnection {
    MockDatabase::new(backend)
        .append_exec_results((0..CAPACITY).map(|_| MockExecResult::default()))
        .append_query_results((0..CAPACITY).map(|_| Vec::<BTreeMap<String, Value>>::new()))
        .into_connection()
}

/// What `up` (`Direction::Up`) or `down` to `goal` would execute on `db`.
pub async fn plan(
    db: &DatabaseConnection,
    history: &History,
    direction: Direction,
    goal: &Goal,
) -> Result<Vec<PlannedStep>, Error> {
    let state = runner::read_state(db, history).await?;
    state.refuse_unknown()?;
    let indexes = match direction {
        Direction::Up => runner::plan_up(history, &state, goal)?,
        Direction::Down => runner::plan_down(history, &state, goal)?,
    };
    let backend = db.get_database_backend();
    let table = quote_ident(backend, history.table());
    let mut out = Vec::with_capacity(indexes.len());
    let mut tracked = state.tracked;
    if let Some(found) = &state.alembic {
        // The run first records what the Alembic revision stands for.
        let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
        create.table(sea_orm::sea_query::Alias::new(history.table()));
        create.if_not_exists();
        let mut statements = vec!["BEGIN".to_owned(), backend.build(&create).to_string()];
        statements.extend(history.names()[..found.count].iter().map(|name| {
            format!("INSERT INTO {table} (version, applied_at) VALUES ('{name}', <now>)")
        }));
        statements.push("COMMIT".to_owned());
        out.push(PlannedStep {
            name: format!("adoption of Alembic revision {}", found.revision),
            direction: Direction::Up,
            statements,
        });
        tracked = true;
    }
    let count = indexes.len();
    for (n, index) in indexes.into_iter().enumerate() {
        let migration = &history.migrations[index];
        let name = migration.name().to_owned();
        let mut statements = vec![match backend {
            DbBackend::Sqlite => "BEGIN IMMEDIATE".to_owned(),
            _ => "BEGIN".to_owned(),
        }];
        if backend == DbBackend::Postgres && n + 1 < count {
            // Only the run's last commit waits for the disk (see runner).
            statements.push("SET LOCAL synchronous_commit = off".to_owned());
        }
        if !tracked && direction == Direction::Up {
            let mut create =
                Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
            create.table(sea_orm::sea_query::Alias::new(history.table()));
            create.if_not_exists();
            statements.push(backend.build(&create).to_string());
            tracked = true;
        }
        if backend == DbBackend::Sqlite {
            // SQLite runs check again, under the write lock, that the step is still due.
            statements.push(
                Statement::from_sql_and_values(
                    backend,
                    format!("SELECT count(*) AS n FROM {table} WHERE version = ?"),
                    [name.clone().into()],
                )
                .to_string(),
            );
        }
        let recording = recording_connection(backend);
        let ran = {
            let manager = SchemaManager::new(&recording);
            match direction {
                Direction::Up => migration.up(&manager).await,
                Direction::Down => migration.down(&manager).await,
            }
        };
        ran.map_err(|source| Error::Migration {
            name: name.clone(),
            action: "planning it",
            source,
        })?;
        statements.extend(
            recording
                .into_transaction_log()
                .iter()
                .flat_map(|t| t.statements().iter().map(Statement::to_string)),
        );
        let record = match direction {
            Direction::Up => Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO {table} (version, applied_at) VALUES ({}, {})",
                    placeholder(backend, 1),
                    placeholder(backend, 2)
                ),
                [name.clone().into(), chrono::Utc::now().timestamp().into()],
            ),
            Direction::Down => Statement::from_sql_and_values(
                backend,
                format!(
                    "DELETE FROM {table} WHERE version = {}",
                    placeholder(backend, 1)
                ),
                [name.clone().into()],
            ),
        };
        statements.push(record.to_string());
        statements.push("COMMIT".to_owned());
        out.push(PlannedStep {
            name,
            direction,
            statements,
        });
    }
    Ok(out)
}
