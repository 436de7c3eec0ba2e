//! `Migrator::up(&db, None)` and the other `MigratorTrait` calls an
//! application makes get the runner's guarantees: replicas racing in
//! separate processes migrate once, an Alembic-built database is adopted, a
//! database ahead of the binary is refused, and a transaction is refused
//! with what to pass instead.

use rstest::rstest;
use sea_orm::{Database, DatabaseConnection, DbErr, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use sketch2bim_migration::Migrator;
use test_support::db::{exec, strings};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb, alembic};

use crate::migrations;

/// Set by [`eight_processes_calling_migrator_up_migrate_once`] for the processes it starts.
const CHILD_URL: &str = "KVSHVL_EMBED_CHILD_URL";

fn names() -> Vec<String> {
    migrations()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(4);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connecting failed: {e}"))
}

/// One application process: `Migrator::up(&db, None)` on the database
/// [`eight_processes_calling_migrator_up_migrate_once`] names, or, run alone, on a database of
/// its own.
#[tokio::test]
async fn an_application_process_calls_migrator_up() {
    let own;
    let url = match std::env::var(CHILD_URL) {
        Ok(url) => url,
        Err(_) => {
            own = TestDb::postgres().await;
            own.url().to_owned()
        }
    };
    let db = connect(&url).await;
    if let Err(e) = Migrator::up(&db, None).await {
        panic!("Migrator::up failed: {e}");
    }
    assert_eq!(applied_names(&db).await, names());
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn eight_processes_calling_migrator_up_migrate_once(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let outputs = test_support::processes::run_test(
        "embed::an_application_process_calls_migrator_up",
        8,
        &[(CHILD_URL, test_db.url())],
    );
    for out in &outputs {
        assert_eq!(
            out.status.code(),
            Some(0),
            "a process failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
            "the process ran its test: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let db = test_db.connect().await;
    assert_eq!(applied_names(&db).await, names());
}

#[tokio::test]
async fn migrator_up_adopts_an_alembic_built_database_and_keeps_its_rows() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    alembic::build(&db, "sketch2bim", 8).await;
    exec(
        &db,
        "INSERT INTO users (email, subscription_status) VALUES ('a@example.com', 'active'); \
         INSERT INTO jobs (id, user_id) SELECT 'job-1', id FROM users",
    )
    .await;
    Migrator::up(&db, None)
        .await
        .unwrap_or_else(|e| panic!("Migrator::up failed: {e}"));
    assert_eq!(applied_names(&db).await, names());
    assert_eq!(
        strings(&db, "SELECT id FROM jobs").await,
        vec![Some("job-1".into())]
    );
    assert_eq!(
        strings(&db, "SELECT project_type FROM jobs").await,
        vec![Some("architecture".into())],
        "m009 ran on the adopted rows"
    );
    assert_eq!(
        strings(&db, "SELECT version_num FROM alembic_version").await,
        vec![Some("008".into())]
    );

    // Back to m009: m010's down step restores what Alembic's 010 removed.
    let m009 = "m009_add_project_type_to_jobs";
    let after_m009 = u32::try_from(migrations().after(m009)).expect("a count");
    Migrator::down(&db, Some(after_m009))
        .await
        .unwrap_or_else(|e| panic!("Migrator::down failed: {e}"));
    assert_eq!(applied_names(&db).await, migrations().first(9));
    assert_eq!(
        strings(
            &db,
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'jobs' AND column_name = 'reader_type'"
        )
        .await,
        vec![Some("reader_type".into())],
        "m010's down step ran"
    );
}

#[tokio::test]
async fn migrator_up_refuses_a_database_ahead_of_the_binary_and_changes_nothing() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    Migrator::up(&db, Some(8))
        .await
        .unwrap_or_else(|e| panic!("Migrator::up failed: {e}"));
    // A migration of a newer binary: the number after this binary's head.
    let newer = migrations().next_name("zz_add_floor_plans");
    exec(
        &db,
        &format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{newer}', 0)"),
    )
    .await;
    let ahead = format!(
        "the database is ahead of this binary: it records {newer} unknown to it; deploy a \
         binary that has it"
    );
    let before = catalog(&db).await;
    let refused = Migrator::up(&db, None).await;
    match refused {
        Err(DbErr::Migration(message)) => assert_eq!(message, ahead),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(catalog(&db).await.diff(&before, true).is_empty());
    let mut expected = names()[..8].to_vec();
    expected.push(newer.clone());
    assert_eq!(applied_names(&db).await, expected);
    match Migrator::down(&db, Some(1)).await {
        Err(DbErr::Migration(message)) => assert_eq!(message, ahead),
        other => panic!("down: expected a refusal, got {other:?}"),
    }
    assert_eq!(applied_names(&db).await, expected, "down changed nothing");
}

#[tokio::test]
async fn a_transaction_is_refused_with_what_to_pass_instead() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let test_db = TestDb::new(backend).await;
        let db = test_db.connect().await;
        let txn = db.begin().await.unwrap_or_else(|e| panic!("{e}"));
        match Migrator::up(&txn, None).await {
            Err(DbErr::Migration(message)) => assert_eq!(
                message,
                "Sketch2BIM's Migrator::up needs the DatabaseConnection (pass &db), not a \
                 transaction: the migration lock holds a connection of its own and every \
                 migration runs in a transaction of its own"
            ),
            other => panic!("{backend:?}: expected a refusal, got {other:?}"),
        }
        let _ = txn.rollback().await;
        assert_eq!(
            catalog(&db).await.tables.len(),
            0,
            "{backend:?}: nothing created"
        );
    }
}

#[tokio::test]
async fn migrator_status_reads_without_creating_anything_and_pending_stays_compatible() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    Migrator::status(&db)
        .await
        .unwrap_or_else(|e| panic!("Migrator::status failed: {e}"));
    assert_eq!(
        strings(
            &db,
            "SELECT relname::text FROM pg_class WHERE relname = 'seaql_migrations'"
        )
        .await,
        Vec::<Option<String>>::new(),
        "status created no bookkeeping table"
    );
    Migrator::up(&db, Some(3))
        .await
        .unwrap_or_else(|e| panic!("Migrator::up failed: {e}"));
    let pending: Vec<String> = Migrator::get_pending_migrations(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(pending, names()[3..].to_vec());
    let applied: Vec<String> = Migrator::get_applied_migrations(&db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(applied, names()[..3].to_vec());
    Migrator::reset(&db)
        .await
        .unwrap_or_else(|e| panic!("Migrator::reset failed: {e}"));
    assert_eq!(applied_names(&db).await, Vec::<String>::new());
    Migrator::fresh(&db)
        .await
        .unwrap_or_else(|e| panic!("Migrator::fresh failed: {e}"));
    assert_eq!(applied_names(&db).await, names());
    Migrator::refresh(&db)
        .await
        .unwrap_or_else(|e| panic!("Migrator::refresh failed: {e}"));
    assert_eq!(applied_names(&db).await, names());
}
