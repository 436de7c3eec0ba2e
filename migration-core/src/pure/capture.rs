//! What a migration sends, captured without a database: the seam between a
//! migration's Rust code and the SQL it renders.
//!
//! A migration runs against a recording connection of the database's backend,
//! which keeps every statement it is sent and either answers queries with no
//! rows ([`render`]: dry runs and checksums) or fails them ([`batch`]: what
//! may be sent as one batch). Used by
//!
//! - the runner on PostgreSQL, which sends a migration that reads nothing
//!   and keeps to the run's transaction as one batch inside that
//!   transaction: three round trips whatever its length
//!   (`docs/performance.md` has the figures);
//! - [`crate::pure::checksum`], which hashes what `up` renders;
//! - the foreign-history check, which reads which tables a migration creates;
//! - dry runs.
//!
//! The recording connection is sea-orm's `MockDatabase` (its `mock` feature:
//! code only, no other crate). sea-orm 2.0.4's other way to intercept
//! statements, the `proxy` connection, does not compile together with its
//! SQLite driver (`from_sqlx_sqlite_row_to_proxy_row` builds sea-query values
//! of the wrong shape), so this is the one place that would change to it.

use sea_orm::sea_query::Value;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, MockDatabase, MockExecResult, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use std::collections::BTreeMap;

use crate::model::run::Direction;

/// Answers a recording starts with: every statement a migration sends uses
/// one. Enough for every migration of this project; a longer one is run
/// again with [`GROWTH`] times as many, up to [`MAX_CAPACITY`]. The answers
/// are allocated up front, so a large first guess would cost every
/// recording (at `up` on a database at head, checksums render every applied
/// migration).
const CAPACITY: usize = 64;
const GROWTH: usize = 16;
const MAX_CAPACITY: usize = 1 << 20;

/// What a recording connection was sent.
#[derive(Debug, Default)]
struct Log {
    statements: Vec<Statement>,
    /// Whether the migration opened a transaction of its own.
    began: bool,
}

/// Runs `migration` going `direction` against a recording connection of
/// `backend` (queries answered with no rows, or failing): what it sent, or
/// its error.
async fn run(
    migration: &dyn MigrationTrait,
    direction: Direction,
    backend: DbBackend,
    answer_queries: bool,
) -> Result<Log, DbErr> {
    let mut capacity = CAPACITY;
    loop {
        let (ran, log) = attempt(migration, direction, backend, answer_queries, capacity).await;
        match ran {
            // It ran out of answers: run it again with more.
            Err(_) if log.statements.len() >= capacity && capacity < MAX_CAPACITY => {
                capacity *= GROWTH;
            }
            Err(e) => return Err(e),
            Ok(()) => return Ok(log),
        }
    }
}

/// One recording with `capacity` answers of each kind.
async fn attempt(
    migration: &dyn MigrationTrait,
    direction: Direction,
    backend: DbBackend,
    answer_queries: bool,
    capacity: usize,
) -> (Result<(), DbErr>, Log) {
    let mock = MockDatabase::new(backend)
        .append_exec_results((0..capacity).map(|_| MockExecResult::default()));
    let mock = if answer_queries {
        mock.append_query_results((0..capacity).map(|_| Vec::<BTreeMap<String, Value>>::new()))
    } else {
        mock
    };
    let db: DatabaseConnection = mock.into_connection();
    let ran = {
        let manager = SchemaManager::new(&db);
        match direction {
            Direction::Up => migration.up(&manager).await,
            Direction::Down => migration.down(&manager).await,
        }
    };
    let mut log = Log::default();
    for transaction in db.into_transaction_log() {
        let statements = transaction.statements();
        // A statement sent outside any transaction is logged alone.
        log.began |= statements.len() != 1;
        log.statements.extend(statements.iter().cloned());
    }
    (ran, log)
}

/// The statements `migration` sends going `direction`, when they cannot
/// depend on the database: the migration reads nothing (every query fails
/// while recording) and opens no transaction of its own. `None` otherwise;
/// such a migration must run statement by statement.
pub(crate) async fn batch(
    migration: &dyn MigrationTrait,
    direction: Direction,
    backend: DbBackend,
) -> Option<Vec<Statement>> {
    let log = run(migration, direction, backend, false).await.ok()?;
    (!log.began).then_some(log.statements)
}

/// Every statement `migration` sends going `direction`, as SQL with its
/// values inline, a query answered with no rows; its error when it fails so.
pub(crate) async fn render(
    migration: &dyn MigrationTrait,
    direction: Direction,
    backend: DbBackend,
) -> Result<Vec<String>, DbErr> {
    let log = run(migration, direction, backend, true).await?;
    Ok(log.statements.iter().map(Statement::to_string).collect())
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, ColumnDef, Table};
    use sea_orm::{DbBackend, DbErr};
    use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

    use super::{Direction, batch, render};
    use sea_orm::ConnectionTrait;

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
                sql(batch(&Writes, Direction::Up, pg).await),
                Some(vec![
                    r#"CREATE TABLE "floors" ( "id" integer NOT NULL )"#.to_owned()
                ])
            );
            assert_eq!(
                sql(batch(&Writes, Direction::Down, pg).await),
                Some(vec![r#"DROP TABLE "floors""#.to_owned()])
            );
            assert_eq!(sql(batch(&Reads, Direction::Up, pg).await), None);
            assert_eq!(sql(batch(&OwnTransaction, Direction::Up, pg).await), None);
        });
    }

    /// Sends more statements than a recording first has answers for.
    struct Long;
    impl MigrationName for Long {
        fn name(&self) -> &str {
            "m004_long"
        }
    }
    #[sea_orm_migration::async_trait::async_trait]
    impl MigrationTrait for Long {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for n in 0..(super::CAPACITY * 3) {
                manager
                    .get_connection()
                    .execute_unprepared(&format!("INSERT INTO t VALUES ({n})"))
                    .await?;
            }
            Ok(())
        }
    }

    #[test]
    fn a_migration_longer_than_the_first_guess_is_recorded_whole() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let sent = batch(&Long, Direction::Up, DbBackend::Postgres)
                .await
                .expect("recorded");
            assert_eq!(sent.len(), super::CAPACITY * 3);
            assert_eq!(sent[0].to_string(), "INSERT INTO t VALUES (0)");
        });
    }

    #[test]
    fn rendering_keeps_every_statement_and_fails_with_the_migration() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let sqlite = DbBackend::Sqlite;
            let create = r#"CREATE TABLE "floors" ( "id" integer NOT NULL )"#.to_owned();
            assert_eq!(
                render(&Writes, Direction::Up, sqlite).await.ok(),
                Some(vec![create.clone()])
            );
            // Its own transaction's statements are kept too.
            let own = render(&OwnTransaction, Direction::Up, sqlite)
                .await
                .expect("rendered");
            assert_eq!(own, vec!["BEGIN".to_owned(), create, "COMMIT".to_owned()]);
            // A read that needs an answer (has_table wants a count) fails it:
            // such a migration has no checksum and is not batched.
            assert_eq!(
                render(&Reads, Direction::Up, sqlite).await,
                Err(DbErr::Custom("Failed to check table exists".to_owned()))
            );
            // So does a missing down.
            // sea-orm-migration's default `down`.
            assert_eq!(
                render(&Reads, Direction::Down, sqlite).await,
                Err(DbErr::Migration("We Don't Do That Here".to_owned()))
            );
        });
    }
}
