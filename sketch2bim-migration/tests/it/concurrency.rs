//! Replicas starting together, a run killed mid-migration, and the
//! migration lock's wait and timeout, on real PostgreSQL and SQLite.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rstest::rstest;
use sea_orm::TransactionTrait;
use test_support::cli::{Run, WorkDir, catalog_at_head, cli, run_concurrently};
use test_support::db::{exec, int};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// `n` processes run `up` at once on one fresh database: every one exits 0,
/// every migration is applied exactly once, the schema is head's.
#[rstest]
#[case::eight_on_postgres(Backend::Postgres, 8)]
#[case::four_on_sqlite(Backend::Sqlite, 4)]
#[tokio::test]
async fn processes_starting_together_migrate_one_database_once(
    #[case] backend: Backend,
    #[case] n: usize,
) {
    let head = catalog_at_head(BIN, backend).await;
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let runs = run_concurrently(BIN, n, test_db.url(), &["up"]);
    for r in &runs {
        assert_eq!(r.code, 0, "{r:#?}");
    }
    let mut applied: Vec<&str> = runs.iter().flat_map(Run::applied).collect();
    applied.sort_unstable();
    assert_eq!(
        applied,
        migrations().names(),
        "each migration applied once: {runs:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().names());
    let diff = catalog(&db).await.diff(&head, true);
    assert!(diff.is_empty(), "{diff:#?}");
}

/// The key `lock.rs` locks, for a database's `seaql_migrations`.
const LOCK_KEY: &str = "hashtextextended(current_database() || '/' || current_schema() || '/' || \
                        'seaql_migrations', 0)";

#[tokio::test]
async fn a_run_waits_for_the_lock_says_so_and_times_out() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let holder = db.begin().await.expect("a transaction");
    exec(
        &holder,
        &format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"),
    )
    .await;

    let dir = WorkDir::new();
    let waited = cli(BIN, &dir, test_db.url(), &["--wait-budget", "2", "up"]);
    assert_eq!(waited.code, 1, "{waited:#?}");
    assert_eq!(
        waited.stderr_lines(),
        vec![
            "waiting for the migration lock: another run is migrating this database (timeout 2 s)",
            "error: timed out after 2 s waiting for the migration lock held by another run",
        ]
    );
    // Reading needs no lock.
    assert_eq!(
        cli(BIN, &dir, test_db.url(), &["current"]).ok().stdout,
        "none\n"
    );

    // Another database on the same server is not blocked.
    let other = TestDb::postgres().await;
    let other_up = cli(
        BIN,
        &dir,
        other.url(),
        &["--wait-budget", "2", "up", "-n", "1"],
    );
    assert_eq!(other_up.code, 0, "{other_up:#?}");

    holder.rollback().await.expect("rollback");
    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    assert_eq!(applied_names(&db).await, migrations().names());
}

#[tokio::test]
async fn a_run_killed_mid_migration_leaves_the_previous_migration() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up", "--to", "m006_remove_api_keys"]).ok();
    let at_006 = catalog(&db).await;
    exec(
        &db,
        "INSERT INTO users (email, subscription_status) VALUES ('active@example.com', 'active'); \
         CREATE TABLE zz_scratch_update_log (email varchar); \
         CREATE FUNCTION zz_scratch_log_update() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN INSERT INTO zz_scratch_update_log VALUES (NEW.email); RETURN NEW; END $$; \
         CREATE TRIGGER zz_scratch_users_updated AFTER UPDATE ON users \
           FOR EACH ROW EXECUTE FUNCTION zz_scratch_log_update();",
    )
    .await;

    // m007 adds a column and updates users, then alters organizations:
    // hold that table so the run stops there, its first statements done.
    let holder = db.begin().await.expect("a transaction");
    exec(&holder, "LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE").await;
    let mut child = Command::new(BIN)
        .args(["-u", url, "up"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("SKETCH2BIM_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the migrator");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = int(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '%ALTER TABLE \"organizations\"%' \
             AND pid <> pg_backend_pid()",
        )
        .await;
        if waiting == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached m007's ALTER TABLE"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    holder.rollback().await.expect("release organizations");

    // The interrupted migration left nothing: not its column, not its update.
    let deadline = Instant::now() + Duration::from_secs(30);
    while int(
        &db,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND application_name <> 'psql' AND backend_type = 'client backend' \
         AND state <> 'idle'",
    )
    .await
        > 0
    {
        assert!(Instant::now() < deadline, "the killed run's session never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(applied_names(&db).await, migrations().first(6));
    assert_eq!(
        int(&db, "SELECT count(*) FROM zz_scratch_update_log").await,
        0
    );
    let mut now = catalog(&db).await;
    now.tables.remove("zz_scratch_update_log");
    let diff = now.diff(&at_006, true);
    assert!(diff.is_empty(), "{diff:#?}");

    // A rerun runs 007's data step exactly once, and reaches head.
    cli(
        BIN,
        &dir,
        url,
        &["up", "--to", "m007_add_subscription_expires_at"],
    )
    .ok();
    assert_eq!(
        int(&db, "SELECT count(*) FROM zz_scratch_update_log").await,
        1
    );
    cli(BIN, &dir, url, &["up"]).ok();
    assert_eq!(applied_names(&db).await, migrations().names());
    assert_eq!(
        int(
            &db,
            "SELECT CAST(subscription_expires_at::date - CURRENT_DATE AS BIGINT) FROM users"
        )
        .await,
        30
    );
}

#[tokio::test]
async fn a_failing_migration_on_sqlite_leaves_nothing_behind() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up", "--to", "m003_add_batch_id_to_jobs"]).ok();
    exec(&db, "CREATE TABLE layout_variations (x integer)").await;
    let before = catalog(&db).await;
    let up = cli(BIN, &dir, url, &["up"]);
    assert_eq!(up.code, 1);
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: migration m004_add_iterations_variations_referrals failed while applying \
             it: table \"layout_variations\" already exists"
        ],
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().first(3));
    assert!(catalog(&db).await.diff(&before, true).is_empty());
}
