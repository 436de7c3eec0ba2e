//! The migration lock and what a run does under it: a run whose lock's
//! connection is ended stops before changing anything more; the checks are
//! made again once the lock is held (another migrator's history, a wrongly
//! typed bookkeeping column); SIGTERM cancels the statement in flight;
//! `--wait-budget` is a deadline.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migration_core::Error;
use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use test_support::TestDb;
use test_support::cli::{Run, WorkDir, cli};
use test_support::db::{blocker, connect_as, exec, int, strings};
use test_support::walk::applied_names;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// How the lock's connection shows in pg_stat_activity.
const LOCK_APPLICATION: &str = "sketch2bim-migration lock";

fn history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
}

fn names() -> Vec<String> {
    history().names().iter().map(|n| n.to_string()).collect()
}

/// The eighth migration (m008) and the ninth (m009, which alters `jobs`):
/// frozen history, so their places do not move when migrations are added.
fn m008() -> String {
    names()[7].clone()
}

fn m009() -> String {
    names()[8].clone()
}

/// The pid of the backend of `name`'s database whose application is
/// `application` and which waits for a lock (or, with `waiting` false, is
/// there at all); waits up to 30 s for it.
async fn backend(db: &DatabaseConnection, database: &str, application: &str, waiting: bool) -> i64 {
    let sql = format!(
        "SELECT coalesce(max(pid), 0)::int8 FROM pg_stat_activity WHERE datname = '{database}' \
         AND application_name = '{application}'{}",
        if waiting {
            " AND wait_event_type = 'Lock'"
        } else {
            ""
        }
    );
    let started = Instant::now();
    loop {
        let pid = int(db, &sql).await;
        if pid != 0 {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no backend {application:?} (waiting: {waiting}) in {database}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The database at m008, an application transaction holding `jobs`, and
/// a connection to look around with.
async fn at_m008_with_a_blocker() -> (
    TestDb,
    DatabaseConnection,
    DatabaseConnection,
    DatabaseTransaction,
    i64,
) {
    let test_db = TestDb::postgres().await;
    cli(
        BIN,
        &WorkDir::new(),
        test_db.url(),
        &["up", "--to", &m008()],
    )
    .ok();
    let db = test_db.connect().await;
    let api = connect_as(test_db.url(), "lock_api").await;
    let (held, pid) = blocker(&api, "jobs").await;
    (test_db, db, api, held, pid)
}

fn last_line(run: &Run) -> &str {
    run.stderr_lines().last().copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lock_connection_is_ended_stops_and_leaves_no_gap() {
    let (test_db, db, _api, held, _) = at_m008_with_a_blocker().await;
    let url = test_db.url().to_owned();
    let up = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || cli(BIN, &WorkDir::new(), &url, &["up"]))
    };
    // The run waits on jobs; its lock's connection is found by its name
    // and ended, as a pooler or a failover would.
    let migrating = format!("migrating {}", m009());
    backend(&db, &test_db.name(), &migrating, true).await;
    let lock = backend(&db, &test_db.name(), LOCK_APPLICATION, false).await;
    assert_eq!(
        strings(
            &db,
            &format!("SELECT state FROM pg_stat_activity WHERE pid = {lock}")
        )
        .await,
        vec![Some("idle in transaction".to_owned())]
    );
    assert_eq!(
        int(
            &db,
            &format!("SELECT pg_terminate_backend({lock})::int::int8")
        )
        .await,
        1
    );
    // Meanwhile another run rolls two migrations back.
    cli(BIN, &WorkDir::new(), &url, &["down", "-n", "2"]).ok();
    held.rollback().await.expect("the blocker ends");
    let up = up.await.expect("the first run");

    assert_eq!(up.code, 1, "{up:#?}");
    let error = last_line(&up);
    assert!(
        error.starts_with("error: lost the migration lock before ")
            && error.contains(&m009())
            && error.contains("; the run stopped there and changed nothing more"),
        "{up:#?}"
    );
    assert!(!up.stderr.contains("applied m0"), "{up:#?}");
    assert_eq!(applied_names(&db).await, names()[..6].to_vec());
    // The next run finds no gap and brings the database to head.
    cli(BIN, &WorkDir::new(), &url, &["up"]).ok();
    assert_eq!(applied_names(&db).await, names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_does_not_time_out_when_the_database_ends_idle_transactions() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    exec(
        &db,
        &format!(
            "ALTER DATABASE \"{}\" SET idle_in_transaction_session_timeout = '500ms'",
            test_db.name()
        ),
    )
    .await;
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = test_db.url().to_owned();
            tokio::task::spawn_blocking(move || cli(BIN, &WorkDir::new(), &url, &["up"]))
        })
        .collect();
    for run in runs {
        run.await.expect("a run").ok();
    }
    assert_eq!(applied_names(&db).await, names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_and_sketch2bim_racing_on_one_database_never_meet_a_missing_relation() {
    let ask = History::of::<ask_migration::Migrator>();
    let ask_names: Vec<String> = ask.names().iter().map(|n| n.to_string()).collect();
    for round in 0..6 {
        let test_db = TestDb::postgres().await;
        let (a, b) = (test_db.connect().await, test_db.connect().await);
        let sketch2bim = tokio::spawn(async move {
            runner::up(&a, &history(), &Goal::All, &RunOptions::default()).await
        });
        let asks = tokio::spawn(async move {
            let ask = History::of::<ask_migration::Migrator>();
            runner::up(&b, &ask, &Goal::All, &RunOptions::default()).await
        });
        let (sketch2bim, asks) = (
            sketch2bim.await.expect("sketch2bim"),
            asks.await.expect("ask"),
        );
        let db = test_db.connect().await;
        let applied = applied_names(&db).await;
        let line = |r: &Result<runner::Report, Error>| match r {
            Ok(_) => String::new(),
            Err(e) => migration_core::one_line(e, &[]),
        };
        for outcome in [&sketch2bim, &asks] {
            assert!(
                !line(outcome).contains("does not exist"),
                "round {round}: {}",
                line(outcome)
            );
        }
        match (&sketch2bim, &asks) {
            (Ok(_), Err(Error::Ahead { names: unknown })) => {
                assert_eq!(applied, names(), "round {round}");
                assert!(
                    !unknown.is_empty() && unknown.iter().all(|n| names()[1..].contains(n)),
                    "round {round}: {unknown:?}"
                );
            }
            (Ok(_), Err(Error::Foreign { first, .. })) => {
                assert_eq!(applied, names(), "round {round}");
                assert_eq!(*first, ask_names[0], "round {round}");
            }
            (
                Err(Error::Foreign {
                    first,
                    missing,
                    columns,
                }),
                Ok(_),
            ) => {
                assert_eq!(applied, ask_names, "round {round}");
                assert_eq!(*first, names()[0], "round {round}");
                assert!(!missing.is_empty() && columns.is_empty(), "round {round}");
            }
            _ => panic!(
                "round {round}: sketch2bim {:?}, ask {:?}",
                line(&sketch2bim),
                line(&asks)
            ),
        }
    }
}

#[tokio::test]
async fn a_wrongly_typed_checksum_column_is_refused_before_anything_is_written() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    exec(
        &db,
        "CREATE TABLE seaql_migrations (version varchar NOT NULL PRIMARY KEY, \
         applied_at bigint NOT NULL, checksum bytea)",
    )
    .await;
    let fix = "ALTER TABLE \"public\".\"seaql_migrations\" ALTER COLUMN \"checksum\" TYPE varchar USING \
               convert_from(\"checksum\", 'UTF8')";
    for args in [&["up", "-n", "3"][..], &["up"]] {
        let run = cli(BIN, &WorkDir::new(), test_db.url(), args);
        assert_eq!(run.code, 1, "{run:#?}");
        assert_eq!(
            run.stderr_lines(),
            vec![format!(
                "error: seaql_migrations.checksum is of type bytea where the migrator needs \
                 varchar (or text): fix it with `{fix}` and run again; nothing was changed"
            )]
        );
    }
    assert_eq!(int(&db, "SELECT count(*) FROM seaql_migrations").await, 0);
    assert_eq!(
        int(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' \
             AND tablename <> 'seaql_migrations'"
        )
        .await,
        0
    );
    // The ALTER it gives fixes it.
    exec(&db, fix).await;
    cli(BIN, &WorkDir::new(), test_db.url(), &["up"]).ok();
    assert_eq!(applied_names(&db).await, names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_the_queued_statement_and_rolls_back() {
    let (test_db, db, _api, held, _) = at_m008_with_a_blocker().await;
    let mut child = Command::new(BIN)
        .args(["-u", test_db.url(), "--table-lock-timeout", "0", "up"])
        .env_remove("DATABASE_URL")
        .env_remove("SKETCH2BIM_DATABASE_URL")
        .env_remove("MIGRATION_LOCK_WAIT")
        .env_remove("RUST_LOG")
        .current_dir(WorkDir::new().path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the migrator starts");
    let migrating = format!("migrating {}", m009());
    backend(&db, &test_db.name(), &migrating, true).await;
    let lock = backend(&db, &test_db.name(), LOCK_APPLICATION, false).await;
    assert_ne!(lock, 0);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    while child.try_wait().expect("the migrator").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the migrator did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = child.wait_with_output().expect("the migrator's output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some(
            format!(
                "error: stopped by SIGTERM: {} was cancelled and rolled back, none of it is \
                 applied; nothing more was changed; the migration lock is released",
                m009()
            )
            .as_str()
        ),
        "{stderr}"
    );
    // The blocker is still open: the application's next query on jobs
    // finds no queued ALTER in front of it.
    let app = connect_as(test_db.url(), "lock_app").await;
    let txn = app.begin().await.expect("the application's transaction");
    exec(&txn, "SET LOCAL lock_timeout = '1s'").await;
    let started = Instant::now();
    int(&txn, "SELECT count(*) FROM jobs").await;
    assert!(started.elapsed() < Duration::from_secs(1));
    txn.commit().await.expect("the application's commit");
    assert_eq!(
        int(
            &db,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' \
                 AND (application_name LIKE 'migrating %' OR application_name = '{LOCK_APPLICATION}')",
                test_db.name()
            )
        )
        .await,
        0
    );
    held.rollback().await.expect("the blocker ends");
    assert_eq!(applied_names(&db).await, names()[..8].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_timeout_is_a_deadline_and_its_attempts_are_counted_right() {
    let (test_db, _db, _api, held, pid) = at_m008_with_a_blocker().await;
    for (timeout, attempts) in [("3", "2 attempts"), ("1", "1 attempt")] {
        let started = Instant::now();
        let run = cli(
            BIN,
            &WorkDir::new(),
            test_db.url(),
            &["--wait-budget", timeout, "up"],
        );
        let took = started.elapsed();
        let budget = Duration::from_secs(timeout.parse().expect("seconds"));
        assert!(
            took < budget + Duration::from_millis(600),
            "--wait-budget {timeout} took {took:?}: {run:#?}"
        );
        assert_eq!(run.code, 1, "{run:#?}");
        let error = last_line(&run);
        assert!(
            error.starts_with(&format!(
                "error: migration {} gave up waiting for a lock on jobs after ",
                m009()
            )) && error.contains(&format!(
                " ({attempts}): held by pid {pid} (application \"lock_api\", idle in \
                 transaction, transaction open "
            )),
            "{run:#?}"
        );
    }
    held.rollback().await.expect("the blocker ends");
}

#[tokio::test]
async fn tables_of_the_right_names_with_other_columns_are_another_migrators() {
    // An ASK database, given the tables Sketch2BIM's m001 makes by name only.
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let ask = History::of::<ask_migration::Migrator>();
    runner::up(&db, &ask, &Goal::All, &RunOptions::default())
        .await
        .expect("building an ASK database");
    let tables = match runner::up(&db, &history(), &Goal::All, &RunOptions::default()).await {
        Err(Error::Foreign { missing, .. }) => missing,
        other => panic!("expected another migrator's history: {other:?}"),
    };
    assert!(!tables.is_empty());
    for table in &tables {
        exec(&db, &format!("CREATE TABLE \"{table}\" (zz_scratch int)")).await;
    }
    let checksums = "SELECT version || ':' || coalesce(checksum, '') FROM seaql_migrations";
    let before = strings(&db, checksums).await;
    let first = &names()[0];
    for command in ["repair", "up", "verify"] {
        let run = cli(BIN, &WorkDir::new(), test_db.url(), &[command]);
        assert_eq!(run.code, 1, "{command}: {run:#?}");
        let error = last_line(&run);
        assert!(
            error.starts_with(&format!(
                "error: this database's history belongs to another migrator: it records {first} \
                 but has no columns "
            )) && error.contains(&format!("{}.", tables[0]))
                && !error.contains("zz_scratch")
                && error.ends_with(&format!(
                    ", which this binary's {first} creates; check the database URL; nothing was \
                     changed"
                )),
            "{command}: {run:#?}"
        );
    }
    assert_eq!(strings(&db, checksums).await, before);
}
