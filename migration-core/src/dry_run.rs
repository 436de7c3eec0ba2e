//! `--dry-run`: the exact SQL a run would execute, migration by migration,
//! without executing any of it.
//!
//! The plan is made from the real database's bookkeeping (one read-only
//! SELECT); the migrations then run against a recording connection of the same
//! backend (sea-orm's `MockDatabase`), which keeps every statement and answers
//! queries with no rows. The
//! migrations of this project never branch on what a query returns, so what is
//! recorded is what a real run sends, bookkeeping included. On PostgreSQL a
//! real run records a migration the same way (`record`) and sends what it
//! recorded in one round trip.

use sea_orm::sea_query::Value;
use sea_orm::{DatabaseConnection, DbBackend, MockDatabase, MockExecResult, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use std::collections::BTreeMap;

use crate::Error;
use crate::runner::{self, Direction, Goal, History, RunOptions, quote_ident};

/// The statements of one migration, in order, transaction control included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub name: String,
    pub direction: Direction,
    pub statements: Vec<String>,
}

/// Statements a migration may send in a dry run; each gets an empty answer.
const CAPACITY: usize = 10_000;

/// A connection that records what it is sent and answers with nothing; with
/// `answer_queries` false every query fails instead.
fn recording_connection(backend: DbBackend, answer_queries: bool) -> DatabaseConnection {
    let mock = MockDatabase::new(backend)
        .append_exec_results((0..CAPACITY).map(|_| MockExecResult::default()));
    let mock = if answer_queries {
        mock.append_query_results((0..CAPACITY).map(|_| Vec::<BTreeMap<String, Value>>::new()))
    } else {
        mock
    };
    mock.into_connection()
}

/// The statements `migration` sends going `direction`, recorded without a
/// database, when they cannot depend on the database: the migration reads
/// nothing (every query fails while recording) and manages no transaction of
/// its own. `None` otherwise; such a migration must run statement by
/// statement.
pub(crate) async fn record(
    migration: &dyn MigrationTrait,
    direction: Direction,
    backend: DbBackend,
) -> Option<Vec<Statement>> {
    let recording = recording_connection(backend, false);
    let ran = {
        let manager = SchemaManager::new(&recording);
        match direction {
            Direction::Up => migration.up(&manager).await,
            Direction::Down => migration.down(&manager).await,
        }
    };
    ran.ok()?;
    let log = recording.into_transaction_log();
    let mut statements = Vec::with_capacity(log.len());
    for transaction in log {
        match transaction.statements() {
            [one] => statements.push(one.clone()),
            _ => return None,
        }
    }
    Some(statements)
}

/// The statements `migration`'s `up` sends on `backend`, rendered with their
/// values inline, recorded without a database (a query gets no rows);
/// `None` when it fails so. What a checksum covers ([`crate::checksum`]).
pub(crate) async fn render_up(
    migration: &dyn MigrationTrait,
    backend: DbBackend,
) -> Option<Vec<String>> {
    let recording = recording_connection(backend, true);
    let ran = migration.up(&SchemaManager::new(&recording)).await;
    ran.ok()?;
    Some(
        recording
            .into_transaction_log()
            .iter()
            .flat_map(|t| t.statements().iter().map(Statement::to_string))
            .collect(),
    )
}

/// What `up` (`Direction::Up`) or `down` to `goal` would execute on `db`
/// with `options` (its lock wait). A migration that runs outside a
/// transaction (`use_transaction() == Some(false)`) is shown without
/// BEGIN and COMMIT.
pub async fn plan(
    db: &DatabaseConnection,
    history: &History,
    direction: Direction,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Vec<PlannedStep>, Error> {
    let state = runner::read_state(db, history).await?;
    state.refuse_unknown()?;
    state.refuse_damage(history)?;
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
        let create = runner::bookkeeping_table(backend, history);
        let mut statements = vec!["BEGIN".to_owned(), backend.build(&create).to_string()];
        for migration in &history.migrations[..found.count] {
            let checksum = crate::checksum::of(migration.as_ref(), backend).await;
            statements.push(format!(
                "INSERT INTO {table} (version, applied_at, {}) VALUES ({}, <now>, {})",
                crate::checksum::COLUMN,
                crate::sql::literal(migration.name()),
                checksum.map_or("NULL".to_owned(), |c| crate::sql::literal(&c))
            ));
        }
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
        let alter = match backend {
            DbBackend::Postgres => "ADD COLUMN IF NOT EXISTS",
            _ => "ADD COLUMN",
        };
        out.push(PlannedStep {
            name: "the bookkeeping table's checksum column".to_owned(),
            direction: Direction::Up,
            statements: vec![format!(
                "ALTER TABLE {table} {alter} {} varchar",
                crate::checksum::COLUMN
            )],
        });
    }
    let count = indexes.len();
    for (n, index) in indexes.into_iter().enumerate() {
        let migration = &history.migrations[index];
        let name = migration.name().to_owned();
        let in_transaction = migration.use_transaction() != Some(false);
        let mut statements = Vec::new();
        if in_transaction {
            statements.push(match backend {
                DbBackend::Sqlite => "BEGIN IMMEDIATE".to_owned(),
                _ => "BEGIN".to_owned(),
            });
        }
        if backend == DbBackend::Postgres && in_transaction {
            // Its lock wait and the name it goes by (see lock_wait).
            statements.extend(crate::lock_wait::prologue(&name, options.lock_wait));
        }
        if backend == DbBackend::Postgres && in_transaction && n + 1 < count {
            // Only the run's last commit waits for the disk (see runner).
            statements.push("SET LOCAL synchronous_commit = off".to_owned());
        }
        if !tracked && direction == Direction::Up {
            let create = runner::bookkeeping_table(backend, history);
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
        let recording = recording_connection(backend, true);
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
        let sent: Vec<String> = recording
            .into_transaction_log()
            .iter()
            .flat_map(|t| t.statements().iter().map(Statement::to_string))
            .collect();
        let checksum = match direction {
            Direction::Up => Some(crate::checksum::digest(&sent)),
            Direction::Down => None,
        };
        statements.extend(sent);
        let record =
            runner::record_statement(backend, &table, &name, direction, checksum.as_deref());
        statements.push(record.to_string());
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

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, ColumnDef, Table};
    use sea_orm::{DbBackend, DbErr};
    use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

    use super::record;
    use crate::runner::Direction;

    /// Creates a table; reads nothing.
    struct Writes;
    /// Creates a table only if it is missing: what it sends depends on a read.
    struct Reads;
    /// Commits part of its work in a transaction of its own.
    struct OwnTransaction;

    impl MigrationName for Writes {
        fn name(&self) -> &str {
            "m001_writes"
        }
    }
    impl MigrationName for Reads {
        fn name(&self) -> &str {
            "m002_reads"
        }
    }
    impl MigrationName for OwnTransaction {
        fn name(&self) -> &str {
            "m003_own_transaction"
        }
    }

    fn create() -> sea_orm::sea_query::TableCreateStatement {
        Table::create()
            .table(Alias::new("floors"))
            .col(ColumnDef::new(Alias::new("id")).integer().not_null())
            .to_owned()
    }

    #[sea_orm_migration::async_trait::async_trait]
    impl MigrationTrait for Writes {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager.create_table(create()).await
        }
        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Alias::new("floors")).to_owned())
                .await
        }
    }

    #[sea_orm_migration::async_trait::async_trait]
    impl MigrationTrait for Reads {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            if !manager.has_table("floors").await? {
                manager.create_table(create()).await?;
            }
            Ok(())
        }
    }

    #[sea_orm_migration::async_trait::async_trait]
    impl MigrationTrait for OwnTransaction {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let txn = manager.begin().await?;
            txn.create_table(create()).await?;
            txn.commit().await
        }
    }

    fn sql(recorded: Option<Vec<sea_orm::Statement>>) -> Option<Vec<String>> {
        recorded.map(|s| s.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn only_migrations_that_read_nothing_and_keep_to_the_runs_transaction_are_recorded() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let pg = DbBackend::Postgres;
            assert_eq!(
                sql(record(&Writes, Direction::Up, pg).await),
                Some(vec![
                    r#"CREATE TABLE "floors" ( "id" integer NOT NULL )"#.to_owned()
                ])
            );
            assert_eq!(
                sql(record(&Writes, Direction::Down, pg).await),
                Some(vec![r#"DROP TABLE "floors""#.to_owned()])
            );
            assert_eq!(sql(record(&Reads, Direction::Up, pg).await), None);
            assert_eq!(sql(record(&OwnTransaction, Direction::Up, pg).await), None);
        });
    }
}
