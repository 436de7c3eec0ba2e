//! A migration after the last real one that builds an index outside a
//! transaction (`use_transaction() == Some(false)`) keeps every guarantee of
//! a transactional one: on PostgreSQL it waits a bounded time for a busy
//! table, naming the blocker, and records nothing when it gives up; on one
//! SQLite file racing processes apply it once. An applied migration edited
//! since, including one moved in or out of a transaction, stops `up`,
//! `Migrator::up` and the startup API.

use migration_core::runner::{self, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::{DbBackend, DbErr, TransactionTrait};
use sea_orm_migration::prelude::*;
use std::time::{Duration, Instant};
use test_support::db::{exec, exec_in, int};
use test_support::walk::applied_names;
use test_support::{Backend, TestDb};

const CHILD_URL: &str = "NONTX_CHILD_DATABASE_URL";

/// The real history's names, and the name of the scratch migration after
/// its last.
fn real_names() -> Vec<String> {
    History::of::<sketch2bim_migration::Migrator>()
        .names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect()
}

fn scratch_name() -> String {
    format!("m{:03}_zz_scratch_index_jobs", real_names().len() + 1)
}

/// An index on `jobs.status`, outside a transaction (concurrently on
/// PostgreSQL) unless `in_transaction`.
struct IndexJobs {
    name: String,
    in_transaction: bool,
}

impl MigrationName for IndexJobs {
    fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IndexJobs {
    fn use_transaction(&self) -> Option<bool> {
        match self.in_transaction {
            true => None,
            false => Some(false),
        }
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            exec_in(
                manager,
                "DROP INDEX CONCURRENTLY IF EXISTS zz_scratch_ix_jobs_status",
            )
            .await?;
            exec_in(
                manager,
                "CREATE INDEX CONCURRENTLY zz_scratch_ix_jobs_status ON jobs (status)",
            )
            .await
        } else {
            // Not safe to repeat on purpose: a second run would fail.
            exec_in(
                manager,
                "CREATE INDEX zz_scratch_ix_jobs_status ON jobs (status)",
            )
            .await
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(manager, "DROP INDEX IF EXISTS zz_scratch_ix_jobs_status").await
    }
}

fn with_scratch(in_transaction: bool) -> Vec<Box<dyn MigrationTrait>> {
    let mut all = sketch2bim_migration::Migrator::migrations();
    all.push(Box::new(IndexJobs {
        name: scratch_name(),
        in_transaction,
    }));
    all
}

/// The real history and the scratch migration outside a transaction.
struct Outside;
/// The same, but the scratch migration in a transaction.
struct Inside;

#[async_trait::async_trait]
impl MigratorTrait for Outside {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        with_scratch(false)
    }
}

#[async_trait::async_trait]
impl MigratorTrait for Inside {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        with_scratch(true)
    }
}

const DATABASE: migration_core::Database = migration_core::Database {
    name: "sketch2bim",
    title: "Sketch2BIM",
    url_env: "NONTX_DATABASE_URL",
    default_sqlite_file: "nontx.sqlite",
    crate_dir: ".",
    alembic_revisions: 0,
};

impl migration_core::Described for Outside {
    const DATABASE: migration_core::Database = DATABASE;

    fn summaries() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

impl migration_core::Described for Inside {
    const DATABASE: migration_core::Database = DATABASE;

    fn summaries() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

fn all_names() -> Vec<String> {
    let mut names = real_names();
    names.push(scratch_name());
    names
}

async fn index_exists(db: &sea_orm::DatabaseConnection) -> bool {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT count(*)::int8 FROM pg_class WHERE relname = 'zz_scratch_ix_jobs_status'"
        }
        _ => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
             AND name = 'zz_scratch_ix_jobs_status'"
        }
    };
    int(db, sql).await == 1
}

#[tokio::test]
async fn a_concurrent_index_behind_a_table_that_stays_held_gives_up_by_the_deadline() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<Outside>();
    runner::up(
        &db,
        &history,
        &Goal::Steps(real_names().len() as u32),
        &RunOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));

    // An application holds `jobs` and never lets go.
    let url = test_db.url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut options =
        sea_orm::ConnectOptions::new(format!("{url}{separator}application_name=nontx_api"));
    options.sqlx_logging(false).max_connections(1);
    let api = sea_orm::Database::connect(options).await.expect("the api");
    let held = api.begin().await.expect("begin");
    exec(&held, "LOCK TABLE jobs IN SHARE MODE").await;
    let pid = int(&held, "SELECT pg_backend_pid()::int8").await;

    let started = Instant::now();
    let failed = runner::up(
        &db,
        &history,
        &Goal::All,
        &RunOptions {
            lock_timeout: Duration::from_secs(6),
            ..RunOptions::default()
        },
    )
    .await
    .expect_err("the table stays held");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(9),
        "gave up after {took:?}"
    );
    let line = migration_core::one_line(&failed, &[]);
    let head = format!(
        "migration {} gave up waiting for a lock on jobs after ",
        scratch_name()
    );
    assert!(line.starts_with(&head), "{line}");
    assert!(
        line.contains(&format!(
            "): held by pid {pid} (application \"nontx_api\", idle in transaction, transaction \
             open "
        )),
        "{line}"
    );
    assert!(
        line.ends_with(
            "; it ran outside a transaction, so nothing is recorded and the statements before \
             the failing one stay applied (run up again once fixed: such a migration must be \
             safe to repeat): canceling statement due to lock timeout"
        ),
        "{line}"
    );
    assert_eq!(applied_names(&db).await, real_names(), "recorded something");
    assert!(!index_exists(&db).await, "the index was built");
    // The session settings did not outlive the step on the pool.
    held.rollback().await.expect("the api lets go");
    let report = runner::up(&db, &history, &Goal::All, &RunOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(report.steps.len(), 1);
    assert_eq!(applied_names(&db).await, all_names());
    assert!(index_exists(&db).await);
}

/// One process of [`eight_rounds_of_eight_processes_apply_it_once_on_sqlite`]:
/// `up` of the scratch history on the file it names, or, run alone, on a
/// file of its own.
#[tokio::test]
async fn a_process_applies_the_history_with_an_index_outside_a_transaction() {
    let own;
    let url = match std::env::var(CHILD_URL) {
        Ok(url) => url,
        Err(_) => {
            own = TestDb::sqlite().await;
            own.url().to_owned()
        }
    };
    let db = sea_orm::Database::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    runner::up(
        &db,
        &History::of::<Outside>(),
        &Goal::All,
        &RunOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("up: {}", migration_core::one_line(&e, &[])));
    assert_eq!(applied_names(&db).await, all_names());
}

#[tokio::test]
async fn eight_rounds_of_eight_processes_apply_it_once_on_sqlite() {
    let started = Instant::now();
    for round in 0..8 {
        let test_db = TestDb::sqlite().await;
        let outputs = test_support::processes::run_test(
            "nontx::a_process_applies_the_history_with_an_index_outside_a_transaction",
            8,
            &[(CHILD_URL, test_db.url())],
        );
        for out in outputs {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "round {round}: {stdout}");
            assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
        }
        let db = test_db.connect().await;
        assert_eq!(applied_names(&db).await, all_names(), "round {round}");
        assert_eq!(
            int(&db, "SELECT count(*) FROM seaql_migrations").await,
            all_names().len() as i64,
            "round {round}: a migration recorded twice"
        );
        assert!(index_exists(&db).await);
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// The refusal of an edited `name`: `1 applied migration was edited …`.
fn refused(name: &str, applied: &str, now: &str) -> String {
    format!(
        "1 applied migration was edited after it was applied: {name} (applied as {applied}, \
         {now} now); revert the edit, or review it and run repair to record the new checksum \
         (MIGRATION_ALLOW_EDITED=1 runs anyway); nothing was changed"
    )
}

async fn checksum_of(db: &sea_orm::DatabaseConnection, name: &str) -> String {
    test_support::db::strings(
        db,
        &format!("SELECT checksum FROM seaql_migrations WHERE version = '{name}'"),
    )
    .await
    .into_iter()
    .next()
    .flatten()
    .expect("a checksum")
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_flipped_use_transaction_is_an_edit(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    runner::up(
        &db,
        &History::of::<Outside>(),
        &Goal::All,
        &RunOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    let applied = checksum_of(&db, &scratch_name()).await;
    assert!(applied.starts_with("v2:"), "{applied}");
    let now = migration_core::checksum::of(
        with_scratch(true).last().expect("the scratch").as_ref(),
        db.get_database_backend(),
    )
    .await
    .expect("renders");
    assert_ne!(applied, now);

    // The same statements, now in a transaction: refused, at head too.
    let inside = History::of::<Inside>();
    let err = runner::up(&db, &inside, &Goal::All, &RunOptions::default())
        .await
        .expect_err("edited");
    let short = |c: &str| c["v2:".len().."v2:".len() + 12].to_owned();
    let want = refused(&scratch_name(), &short(&applied), &short(&now));
    assert_eq!(migration_core::one_line(&err, &[]), want);
    let err = runner::down(&db, &inside, &Goal::Steps(1), &RunOptions::default())
        .await
        .expect_err("edited");
    assert_eq!(migration_core::one_line(&err, &[]), want);
    let err = migration_core::startup::migrate_with::<Inside>(&db, true, &RunOptions::default())
        .await
        .expect_err("edited");
    assert_eq!(migration_core::one_line(&err, &[]), want);
    assert_eq!(applied_names(&db).await, all_names());
    assert_eq!(checksum_of(&db, &scratch_name()).await, applied);

    // Allowed, it warns and goes on.
    let allowed = RunOptions {
        allow_edited: true,
        ..RunOptions::default()
    };
    let report = runner::up(&db, &inside, &Goal::All, &allowed)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(report.edited, vec![scratch_name()]);
}

/// The real `Migrator::up`, on a database where a migration's recorded
/// checksum is another v2 value, refuses before changing anything.
#[tokio::test]
async fn migrator_up_refuses_an_edited_history() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let names = real_names();
    sketch2bim_migration::Migrator::up(&db, Some(names.len() as u32 - 1))
        .await
        .expect("all but the last");
    let first = &names[0];
    let applied = format!("v2:{}", "0".repeat(64));
    exec(
        &db,
        &format!("UPDATE seaql_migrations SET checksum = '{applied}' WHERE version = '{first}'"),
    )
    .await;
    let now = checksum_of_rendered(first).await;
    let err = sketch2bim_migration::Migrator::up(&db, None)
        .await
        .expect_err("edited");
    assert_eq!(
        err.to_string(),
        format!(
            "Migration Error: {}",
            refused(first, "000000000000", &now["v2:".len().."v2:".len() + 12])
        )
    );
    assert_eq!(applied_names(&db).await, names[..names.len() - 1].to_vec());
}

async fn checksum_of_rendered(name: &str) -> String {
    let migrations = sketch2bim_migration::Migrator::migrations();
    let migration = migrations
        .iter()
        .find(|m| m.name() == name)
        .expect("the migration");
    migration_core::checksum::of(migration.as_ref(), DbBackend::Postgres)
        .await
        .expect("renders")
}
