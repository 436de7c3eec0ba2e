//! What the binary refuses, in one line with exit code 1 and nothing
//! changed: a failing migration, a schema that is not there, a database
//! ahead of the binary, an unknown target, and destructive commands on a
//! remote server without `--yes`.

use sea_orm::ConnectionTrait;
use test_support::TestDb;
use test_support::cli::{WorkDir, cli, run_within, with_password};
use test_support::db::{exec, has_bookkeeping};
use test_support::walk::{applied_names, catalog, table_exists};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

#[tokio::test]
async fn a_failing_migration_is_named_and_leaves_nothing_behind() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = with_password(test_db.url(), "hunter2");
    cli(
        BIN,
        &dir,
        &url,
        &["up", "--to", "m003_add_batch_id_to_jobs"],
    )
    .ok();
    exec(&db, "CREATE TABLE layout_variations (x integer)").await;
    let before = catalog(&db).await;

    let up = cli(BIN, &dir, &url, &["up"]);
    assert_eq!(up.code, 1);
    assert_eq!(
        up.stderr_lines().last().copied(),
        Some(
            "error: migration m004_add_iterations_variations_referrals failed while applying it: \
             relation \"layout_variations\" already exists"
        ),
        "{up:#?}"
    );
    up.assert_never_shows("hunter2");
    assert_eq!(applied_names(&db).await, migrations().first(3));
    // iterations, created before the collision, is gone with the rest.
    assert!(!table_exists(&db, "iterations").await);
    assert!(!table_exists(&db, "referrals").await);
    assert!(catalog(&db).await.diff(&before, true).is_empty());
}

#[tokio::test]
async fn a_bad_or_missing_schema_is_one_line_and_changes_nothing() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = with_password(test_db.url(), "hunter2");

    // A quote would rewrite the search path statement: a usage error.
    let quoted = cli(BIN, &dir, &url, &["-s", "we\"ird", "up"]);
    assert_eq!(quoted.code, 2, "{quoted:#?}");
    assert_eq!(
        quoted.stderr_lines()[0],
        "error: invalid value 'we\"ird' for '--database-schema <SCHEMA>': invalid schema \
         name \"we\\\"ird\": give one schema name, without '\"' or ','"
    );

    // A schema that does not exist: nothing to create the tables in.
    let missing = cli(BIN, &dir, &url, &["-s", "floor_plans", "up"]);
    assert_eq!(missing.code, 1, "{missing:#?}");
    assert_eq!(
        missing.stderr_lines(),
        vec![
            "error: no schema to migrate: none of the search path (floor_plans) exists in the \
             database; create the schema first"
        ]
    );
    missing.assert_never_shows("hunter2");
    assert!(!has_bookkeeping(&db).await);
    assert!(!table_exists(&db, "users").await);

    // Once it exists, the same command migrates it.
    exec(&db, "CREATE SCHEMA floor_plans").await;
    cli(BIN, &dir, &url, &["-s", "floor_plans", "up", "-n", "1"]).ok();
    assert!(!table_exists(&db, "users").await, "public is untouched");
    let in_schema = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*)::int AS n FROM floor_plans.seaql_migrations",
        ))
        .await
        .expect("the schema's bookkeeping")
        .expect("a row")
        .try_get::<i32>("", "n")
        .expect("a count");
    assert_eq!(in_schema, 1);
}

#[tokio::test]
async fn a_database_ahead_of_the_binary_is_refused() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up", "-n", "4"]).ok();
    // A migration of a newer binary: the number after this binary's head.
    let newer = migrations().next_name("zz_add_floor_plans");
    exec(
        &db,
        &format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{newer}', 0)"),
    )
    .await;
    let before = catalog(&db).await;
    let expected = format!(
        "error: the database is ahead of this binary: it records {newer} unknown to it; \
         deploy a binary that has it"
    );
    for args in [&["up"][..], &["down"], &["up", "-n", "1"], &["refresh"]] {
        let refused = cli(BIN, &dir, url, args);
        assert_eq!(refused.code, 1, "{args:?}: {refused:#?}");
        assert_eq!(refused.stderr_lines(), vec![expected.as_str()], "{args:?}");
    }
    let mut expected_names = migrations().first(4);
    expected_names.push(&newer);
    assert_eq!(applied_names(&db).await, expected_names);
    assert!(catalog(&db).await.diff(&before, true).is_empty());

    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(
        status.stdout_lines().last().copied(),
        Some(
            format!(
                "{newer:<width$}  applied  (unknown to this binary)",
                width = migrations().width().max(newer.len())
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn an_unknown_target_is_refused_with_the_closest_names() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    let refused = cli(BIN, &dir, url, &["up", "--to", "m004_add_iterations"]);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr_lines(),
        vec![
            "error: unknown migration m004_add_iterations; did you mean \
             m004_add_iterations_variations_referrals?"
        ],
        "{refused:#?}"
    );
    assert!(!has_bookkeeping(&db).await, "nothing ran");

    cli(BIN, &dir, url, &["up", "-n", "2"]).ok();
    let refused = cli(BIN, &dir, url, &["down", "--to", "m001_initial"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .starts_with("error: unknown migration m001_initial; did you mean m001_initial_schema"),
        "{refused:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().first(2));
}

#[test]
fn destructive_commands_on_a_remote_server_need_yes() {
    let dir = WorkDir::new();
    // Nothing listens there: a refusal that came after connecting would say so.
    let remote = "postgres://admin:hunter2@db.example.invalid:5432/sketch2bim";
    for (args, what) in [
        (&["fresh"][..], "fresh"),
        (&["refresh"], "refresh"),
        (&["reset"], "reset"),
        (&["down", "-n", "2"], "down of more than one migration"),
        (
            &["down", "--to", "m001_initial_schema"],
            "down of more than one migration",
        ),
    ] {
        let refused = cli(BIN, &dir, remote, args);
        assert_eq!(refused.code, 1, "{args:?}");
        assert_eq!(
            refused.stderr_lines(),
            vec![format!(
                "error: {what} on the remote database \
                 postgres://admin:***@db.example.invalid:5432/sketch2bim drops data; \
                 run it again with --yes if that is what you want"
            )],
            "{args:?}"
        );
        refused.assert_never_shows("hunter2");
    }
    let with_yes = cli(BIN, &dir, remote, &["reset", "--yes"]);
    assert_eq!(with_yes.code, 1);
    assert!(
        with_yes
            .stderr
            .starts_with("error: cannot connect to postgres://admin:***@db.example.invalid"),
        "{with_yes:#?}"
    );
    with_yes.assert_never_shows("hunter2");
}

#[test]
fn the_yes_guard_follows_the_host_the_driver_will_use() {
    let dir = WorkDir::new();
    let refusal = |what: &str, shown: &str, server: &str| {
        format!(
            "error: {what} on the remote database {shown} ({server}) drops data; run it again \
             with --yes if that is what you want"
        )
    };
    // 192.0.2.1 is unroutable (TEST-NET-1): a run that tried to connect would
    // time out instead of refusing.
    for (env, args, expected) in [
        (
            &[][..],
            &[
                "-u",
                "postgres://app:pw@localhost/db?host=192.0.2.1",
                "fresh",
            ][..],
            refusal(
                "fresh",
                "postgres://app:***@localhost/db?host=192.0.2.1",
                "host \"192.0.2.1\" from ?host=",
            ),
        ),
        (
            &[],
            &[
                "-u",
                "postgres://app:pw@127.0.0.1/db?host=db.internal",
                "reset",
            ],
            refusal(
                "reset",
                "postgres://app:***@127.0.0.1/db?host=db.internal",
                "host \"db.internal\" from ?host=",
            ),
        ),
        (
            &[("PGHOST", "192.0.2.1")],
            &["-u", "postgres:///db?user=app", "fresh"],
            refusal(
                "fresh",
                "postgres:///db?user=app",
                "host \"192.0.2.1\" from PGHOST",
            ),
        ),
    ] {
        let refused = run_within(30, BIN, dir.path(), env, args);
        assert_eq!(refused.code, 1, "{args:?}: {refused:#?}");
        assert_eq!(refused.stderr_lines(), vec![expected], "{args:?}");
        assert_eq!(refused.stdout, "", "{args:?}");
        refused.assert_never_shows(":pw@");
    }
}
