//! A migration that runs outside a transaction (`use_transaction()` is
//! `Some(false)`) so that it can build an index concurrently: when it fails
//! it leaves what PostgreSQL leaves (an INVALID index) and records nothing;
//! once the data is fixed the next run recovers, because the migration drops
//! a leftover index before building it.

use migration_core::dry_run;
use migration_core::runner::{self, Direction, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use sea_orm_migration::prelude::*;
use test_support::db::exec_in;
use test_support::walk::applied_names;
use test_support::{Backend, TestDb};

/// `plans`, with two rows sharing a code.
struct CreatePlans;
/// A unique index on `plans.code`, built concurrently on PostgreSQL.
struct UniqueCodeConcurrently;

impl MigrationName for CreatePlans {
    fn name(&self) -> &str {
        "m001_create_plans"
    }
}
impl MigrationName for UniqueCodeConcurrently {
    fn name(&self) -> &str {
        "m002_unique_code_concurrently"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePlans {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(
            manager,
            "CREATE TABLE plans (id integer PRIMARY KEY, code text)",
        )
        .await?;
        exec_in(
            manager,
            "INSERT INTO plans (id, code) VALUES (1, 'a'), (2, 'a'), (3, 'b')",
        )
        .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UniqueCodeConcurrently {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            // A failed concurrent build leaves an INVALID index behind:
            // drop it first, so that running this again recovers.
            exec_in(manager, "DROP INDEX CONCURRENTLY IF EXISTS ix_plans_code").await?;
            exec_in(
                manager,
                "CREATE UNIQUE INDEX CONCURRENTLY ix_plans_code ON plans (code)",
            )
            .await
        } else {
            exec_in(manager, "DROP INDEX IF EXISTS ix_plans_code").await?;
            exec_in(manager, "CREATE UNIQUE INDEX ix_plans_code ON plans (code)").await
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            exec_in(manager, "DROP INDEX CONCURRENTLY IF EXISTS ix_plans_code").await
        } else {
            exec_in(manager, "DROP INDEX IF EXISTS ix_plans_code").await
        }
    }
}

struct Plans;

#[async_trait::async_trait]
impl MigratorTrait for Plans {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreatePlans), Box::new(UniqueCodeConcurrently)]
    }
}

impl migration_core::Described for Plans {
    const DATABASE: migration_core::Database = migration_core::Database {
        name: "plans",
        title: "Plans",
        url_env: "PLANS_DATABASE_URL",
        default_sqlite_file: "plans.sqlite",
        crate_dir: ".",
        alembic_revisions: 0,
    };

    fn summaries() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// `(exists, valid)` of `ix_plans_code`.
async fn index_state(db: &DatabaseConnection) -> (bool, bool) {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT i.indisvalid AS valid FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'ix_plans_code'"
        }
        _ => {
            "SELECT 1 = 1 AS valid FROM sqlite_master WHERE type = 'index' AND name = 'ix_plans_code'"
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match row {
        None => (false, false),
        Some(row) => (
            true,
            row.try_get::<bool>("", "valid")
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        ),
    }
}

/// A migration outside a transaction that fails, then recovers on the next
/// run; on PostgreSQL its concurrent index build leaves an invalid index
/// behind, which the next run replaces.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_migration_outside_a_transaction_fails_then_recovers(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let history = History::of::<Plans>();
    let options = RunOptions::default();

    let failed = runner::up(&db, &history, &Goal::All, &options)
        .await
        .expect_err("m002 cannot build a unique index over duplicate codes");
    let failed = migration_core::one_line(&failed, &[]);
    // On SQLite it runs in a write-locked transaction like any other.
    let expected = match backend {
        Backend::Postgres => {
            "applying it outside a transaction: could not create unique index \"ix_plans_code\"; \
             it ran outside a transaction, so nothing is recorded and the statements before the \
             failing one stay applied (run up again once fixed: such a migration must be safe to \
             repeat); it left the INVALID index ix_plans_code: drop it with `DROP INDEX \
             CONCURRENTLY ix_plans_code`, then run up again (or make the migration drop it first)"
        }
        Backend::Sqlite => "applying it: UNIQUE constraint failed: plans.code",
    };
    assert_eq!(
        failed,
        format!("migration m002_unique_code_concurrently failed while {expected}")
    );
    // What the database left (on SQLite the transaction left nothing), and
    // no record of the migration.
    let left = match backend {
        Backend::Postgres => (true, false),
        Backend::Sqlite => (false, false),
    };
    assert_eq!(index_state(&db).await, left, "INVALID index on PostgreSQL");
    assert_eq!(applied_names(&db).await, vec!["m001_create_plans"]);

    // Fix the data; the next run drops the leftover and builds the index.
    db.execute_unprepared("UPDATE plans SET code = 'c' WHERE id = 2")
        .await
        .expect("fix the duplicate");
    let report = runner::up(&db, &history, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    let applied: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(applied, vec!["m002_unique_code_concurrently"]);
    assert_eq!(index_state(&db).await, (true, true));
    assert_eq!(
        applied_names(&db).await,
        vec!["m001_create_plans", "m002_unique_code_concurrently"]
    );
    let duplicate = db
        .execute_unprepared("INSERT INTO plans (id, code) VALUES (4, 'a')")
        .await;
    match duplicate {
        Err(e) => assert_eq!(
            migration_core::describe_db_err(&e),
            match backend {
                Backend::Postgres =>
                    "duplicate key value violates unique constraint \"ix_plans_code\"",
                Backend::Sqlite => "UNIQUE constraint failed: plans.code",
            },
            "the unique index holds"
        ),
        Ok(_) => panic!("a duplicate code was accepted: the unique index does not hold"),
    }

    // Down runs outside a transaction too, and removes its record.
    runner::down(&db, &history, &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(index_state(&db).await, (false, false));
    assert_eq!(applied_names(&db).await, vec!["m001_create_plans"]);
}

#[tokio::test]
async fn the_dry_run_of_a_migration_outside_a_transaction_shows_its_lock_wait_and_no_begin() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<Plans>();
    let options = RunOptions::default();
    runner::up(&db, &history, &Goal::Steps(1), &options)
        .await
        .expect("m001");
    let plan = dry_run::plan(&db, &history, Direction::Up, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(plan.len(), 1);
    let statements = &plan[0].statements;
    assert_eq!(
        statements[..5],
        [
            "SET lock_timeout = '2000ms'",
            "SET application_name = 'migrating m002_unique_code_concurrently'",
            "DROP INDEX CONCURRENTLY IF EXISTS ix_plans_code",
            "CREATE UNIQUE INDEX CONCURRENTLY ix_plans_code ON plans (code)",
            "RESET lock_timeout; RESET application_name",
        ],
        "{statements:#?}"
    );
    assert_eq!(statements.len(), 6, "{statements:#?}");
    assert!(
        statements[5].starts_with(
            "INSERT INTO \"public\".\"seaql_migrations\" (version, applied_at, checksum) VALUES \
             ('m002_unique_code_concurrently', "
        ),
        "{statements:#?}"
    );
}
