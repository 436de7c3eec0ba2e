//! A busy table: an application transaction holds `jobs` while `up` wants
//! to alter it. Each try waits at most the lock wait, is rolled back whole,
//! says who blocks it, and is retried until the blocker ends or
//! `--wait-budget` is spent; the application keeps getting through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::prelude::*;
use test_support::TestDb;
use test_support::cli::{Run, WorkDir, cli, run};
use test_support::db::{blocker, connect_as, exec_in, int};
use test_support::walk::{applied_names, catalog};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");
const M008: &str = "m008_add_subscription_fields";
const M009: &str = "m009_add_project_type_to_jobs";

/// Runs `SELECT count(*) FROM jobs` every 50 ms, as an application would,
/// until `stop`; returns when each query ended and how long it took.
fn app_queries(
    db: DatabaseConnection,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(Instant, Duration)>> {
    tokio::spawn(async move {
        let mut waits = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            int(&db, "SELECT count(*) FROM jobs").await;
            waits.push((Instant::now(), started.elapsed()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        waits
    })
}

fn wait_lines(run: &Run) -> Vec<&str> {
    run.stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("waiting for a lock on "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_table_is_retried_until_its_blocker_ends() {
    let reference = TestDb::postgres().await;
    cli(BIN, &WorkDir::new(), reference.url(), &["up", "--to", M009]).ok();
    let reference = catalog(&reference.connect().await).await;

    let test_db = TestDb::postgres().await;
    let url = test_db.url().to_owned();
    cli(BIN, &WorkDir::new(), &url, &["up", "--to", M008]).ok();
    let db = test_db.connect().await;
    let api = connect_as(&url, "busy_api").await;
    let (held, pid) = blocker(&api, "jobs").await;

    let stop = Arc::new(AtomicBool::new(false));
    let app = app_queries(connect_as(&url, "busy_app").await, stop.clone());
    let started = Instant::now();
    let migrating = tokio::task::spawn_blocking(move || {
        cli(
            BIN,
            &WorkDir::new(),
            &url,
            &[
                "--table-lock-timeout",
                "200ms",
                "--wait-budget",
                "60",
                "up",
                "--to",
                M009,
            ],
        )
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    held.commit().await.expect("the blocker ends");
    let blocker_ended = Instant::now();
    let up = migrating.await.expect("the run");
    stop.store(true, Ordering::Relaxed);
    let app = app.await.expect("the app's queries");

    assert_eq!(up.code, 0, "{up:#?}");
    let waits = wait_lines(&up);
    assert!(!waits.is_empty(), "it waited at least once: {up:#?}");
    let first = format!(
        "waiting for a lock on jobs (attempt 1, lock wait 200 ms): held by pid {pid} \
         (application \"busy_api\", idle in transaction, transaction open "
    );
    assert!(waits[0].starts_with(&first), "{up:#?}");
    assert!(waits[0].ends_with(" s); retrying in 250 ms"), "{up:#?}");
    for (n, line) in waits.iter().enumerate() {
        assert!(
            line.starts_with(&format!("waiting for a lock on jobs (attempt {}, ", n + 1)),
            "{up:#?}"
        );
    }
    assert!(
        up.stderr_lines()
            .iter()
            .any(|l| l.starts_with(&format!("applied {M009} ("))),
        "{up:#?}"
    );

    // Every try was rolled back whole: the migration is recorded once and
    // the schema is exactly what an uncontended run builds.
    let names = applied_names(&db).await;
    assert_eq!(names.last().map(String::as_str), Some(M009));
    assert_eq!(names.len(), 9);
    assert_eq!(
        int(
            &db,
            &format!("SELECT count(*) FROM seaql_migrations WHERE version = '{M009}'")
        )
        .await,
        1
    );
    let diff = catalog(&db).await.diff(&reference, true);
    assert!(diff.is_empty(), "{diff:#?}");

    // The application got through between the tries, while the blocker was
    // still open (unbounded, the waiting ALTER would have queued them all).
    let through = app
        .iter()
        .filter(|(ended, _)| *ended > started + Duration::from_secs(1) && *ended < blocker_ended)
        .count();
    assert!(through > 0, "no app query got through: {app:?}");
    // An app query queues behind a waiting ALTER for at most the lock wait
    // (200 ms), never for the blocker's 2 s.
    let longest = app.iter().map(|(_, d)| *d).max().unwrap_or_default();
    eprintln!(
        "{} app queries, longest {longest:?}; {} lock waits",
        app.len(),
        waits.len()
    );
    assert!(
        longest < Duration::from_secs(1),
        "an app query waited {longest:?}: {app:?}"
    );
}

#[tokio::test]
async fn a_blocker_that_never_ends_fails_the_run_with_nothing_half_applied() {
    let test_db = TestDb::postgres().await;
    let url = test_db.url().to_owned();
    cli(BIN, &WorkDir::new(), &url, &["up", "--to", M008]).ok();
    let db = test_db.connect().await;
    let before = catalog(&db).await;
    let api = connect_as(&url, "busy_api").await;
    let (held, pid) = blocker(&api, "jobs").await;

    let up = tokio::task::spawn_blocking(move || {
        cli(
            BIN,
            &WorkDir::new(),
            &url,
            &["--table-lock-timeout", "200ms", "--wait-budget", "2", "up"],
        )
    })
    .await
    .expect("the run");
    held.rollback().await.expect("the blocker ends");

    assert_eq!(up.code, 1, "{up:#?}");
    let lines = up.stderr_lines();
    let error = lines.last().copied().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error: migration {M009} gave up waiting for a lock on jobs after "
        )),
        "{up:#?}"
    );
    assert!(
        error.contains(&format!(
            "attempts): held by pid {pid} (application \"busy_api\", idle in transaction, \
             transaction open "
        )),
        "{up:#?}"
    );
    assert!(
        error.ends_with(
            "; it was rolled back, none of it is applied: canceling statement due to lock timeout"
        ),
        "{up:#?}"
    );
    // The blocker never ends: the run waited before it gave up.
    assert!(!wait_lines(&up).is_empty(), "{up:#?}");
    assert_eq!(wait_lines(&up).len() + 1, lines.len(), "{up:#?}");
    assert!(!up.stderr.contains("applied m0"), "{up:#?}");

    let names = applied_names(&db).await;
    assert_eq!(names.last().map(String::as_str), Some(M008));
    let diff = catalog(&db).await.diff(&before, true);
    assert!(diff.is_empty(), "{diff:#?}");
}

#[tokio::test]
async fn the_lock_wait_comes_from_the_flag_then_the_environment() {
    let test_db = TestDb::postgres().await;
    let url = test_db.url();
    cli(BIN, &WorkDir::new(), url, &["up", "--to", M008]).ok();
    let dir = WorkDir::new();
    let planned = |env: &[(&str, &str)], flags: &[&str]| {
        let mut args = vec!["-u", url];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["up", "--dry-run", "-n", "1"]);
        let plan = run(BIN, dir.path(), env, &args).ok();
        plan.stdout_lines()
            .into_iter()
            .find(|l| l.starts_with("SET LOCAL lock_timeout"))
            .map(str::to_owned)
    };
    let line = |value: &str| Some(format!("SET LOCAL lock_timeout = {value};"));
    assert_eq!(planned(&[], &[]), line("'2000ms'"));
    let env = [("MIGRATION_LOCK_WAIT", "750ms")];
    assert_eq!(planned(&env, &[]), line("'750ms'"));
    assert_eq!(
        planned(&env, &["--table-lock-timeout", "1.5s"]),
        line("'1500ms'")
    );
    // The flag's former spelling still sets it.
    assert_eq!(planned(&[], &["--lock-wait", "0"]), line("0"));

    let bad = run(
        BIN,
        dir.path(),
        &[("MIGRATION_LOCK_WAIT", "2 minutes")],
        &["-u", url, "up"],
    );
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert_eq!(
        bad.stderr,
        "error: invalid MIGRATION_LOCK_WAIT=\"2 minutes\": expected a duration such as 500ms, \
         2s or 1.5s, or 0 for no bound\n"
    );
    let bad = cli(BIN, &dir, url, &["--table-lock-timeout", "2", "up"]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert!(
        bad.stderr.starts_with(
            "error: invalid value '2' for '--table-lock-timeout <DURATION>': expected a \
             duration such as 500ms, 2s or 1.5s, or 0 for no bound"
        ),
        "{bad:#?}"
    );
    assert_eq!(
        applied_names(&test_db.connect().await).await.len(),
        8,
        "nothing applied"
    );
}

// A test-only history whose migrations do something before they touch the
// busy table, so that a retry that did not start from scratch would fail
// ("already exists"): one sent as a batch, one statement by statement.

/// `sheets`, with a row.
struct CreateSheets;
/// `notes`, then `sheets.title`: recorded and sent as one batch.
struct NotesThenAlter;
/// Reads the catalog first, so it runs statement by statement: `labels`,
/// then `sheets.label`.
struct LabelsThenAlterIfMissing;

impl MigrationName for CreateSheets {
    fn name(&self) -> &str {
        "m001_create_sheets"
    }
}
impl MigrationName for NotesThenAlter {
    fn name(&self) -> &str {
        "m002_notes_then_alter"
    }
}
impl MigrationName for LabelsThenAlterIfMissing {
    fn name(&self) -> &str {
        "m003_labels_then_alter_if_missing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSheets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(manager, "CREATE TABLE sheets (id integer PRIMARY KEY)").await?;
        exec_in(manager, "INSERT INTO sheets VALUES (1)").await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NotesThenAlter {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(manager, "CREATE TABLE notes (id integer)").await?;
        exec_in(manager, "ALTER TABLE sheets ADD COLUMN title text").await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for LabelsThenAlterIfMissing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(manager, "CREATE TABLE labels (id integer)").await?;
        if !manager.has_column("sheets", "label").await? {
            exec_in(manager, "ALTER TABLE sheets ADD COLUMN label text").await?;
        }
        Ok(())
    }
}

struct Sheets;

#[async_trait::async_trait]
impl MigratorTrait for Sheets {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateSheets),
            Box::new(NotesThenAlter),
            Box::new(LabelsThenAlterIfMissing),
        ]
    }
}

impl migration_core::Described for Sheets {
    const DATABASE: migration_core::Database = migration_core::Database {
        name: "sheets",
        title: "Sheets",
        url_env: "SHEETS_DATABASE_URL",
        default_sqlite_file: "sheets.sqlite",
        crate_dir: ".",
        alembic_revisions: 0,
    };

    fn summaries() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// Applies the next migration of `Sheets` while an application transaction
/// holds `sheets` for `hold`; returns how many lock waits it took.
async fn next_behind_a_blocker(db: &DatabaseConnection, url: &str, hold: Duration) -> u32 {
    let history = History::of::<Sheets>();
    let api = connect_as(url, "busy_api").await;
    let (held, _) = blocker(&api, "sheets").await;
    let options = RunOptions {
        lock_wait: Some(Duration::from_millis(100)),
        lock_timeout: Duration::from_secs(60),
        ..RunOptions::default()
    };
    let up = runner::up(db, &history, &Goal::Steps(1), &options);
    let end = async {
        tokio::time::sleep(hold).await;
        held.commit().await.expect("the blocker ends");
    };
    let (report, ()) = tokio::join!(up, end);
    let report = report.unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(report.steps.len(), 1);
    report.steps[0].lock_waits
}

#[tokio::test]
async fn each_retry_starts_from_scratch_batched_or_statement_by_statement() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<Sheets>();
    runner::up(&db, &history, &Goal::Steps(1), &RunOptions::default())
        .await
        .expect("m001");

    let waits = next_behind_a_blocker(&db, test_db.url(), Duration::from_millis(1500)).await;
    assert!(waits >= 1, "m002 waited");
    let waits = next_behind_a_blocker(&db, test_db.url(), Duration::from_millis(1500)).await;
    assert!(waits >= 1, "m003 waited");

    assert_eq!(
        applied_names(&db).await,
        vec![
            "m001_create_sheets",
            "m002_notes_then_alter",
            "m003_labels_then_alter_if_missing"
        ]
    );
    let columns = int(
        &db,
        "SELECT count(*) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'sheets'",
    )
    .await;
    assert_eq!(columns, 3, "id, title, label");
    for table in ["notes", "labels"] {
        assert_eq!(int(&db, &format!("SELECT count(*) FROM {table}")).await, 0);
    }
}
