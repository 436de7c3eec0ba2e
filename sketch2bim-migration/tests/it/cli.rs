//! The migrator binary as users run it: every command, its output, exit
//! codes and failures, on real PostgreSQL and SQLite.

use rstest::rstest;
use sea_orm::ConnectionTrait;
use test_support::cli::{WorkDir, cli, run, run_within, with_password, with_user};
use test_support::db::{exec, has_bookkeeping};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog, table_exists};
use test_support::{Backend, TestDb};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

fn names(n: usize) -> Vec<&'static str> {
    migrations().first(n)
}

#[tokio::test]
async fn up_down_to_and_current_on_postgres() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();

    let current = cli(BIN, &dir, url, &["current"]).ok();
    assert_eq!(current.stdout, "none\n");

    let up = cli(BIN, &dir, url, &["up", "-n", "2"]).ok();
    let lines = up.stderr_lines();
    assert_eq!(lines.len(), 3, "{up:#?}");
    assert!(
        lines[0].starts_with("applied m001_initial_schema ("),
        "{up:#?}"
    );
    assert!(
        lines[1].starts_with("applied m002_add_legend_to_jobs ("),
        "{up:#?}"
    );
    assert!(
        lines[2].starts_with("sketch2bim: applied 2 migrations in "),
        "{up:#?}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "; at m002_add_legend_to_jobs, {} pending",
            Migrations::count(migrations().len() - 2)
        )),
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, names(2));

    cli(BIN, &dir, url, &["up", "--to", "m005_add_sketchup_url"]).ok();
    assert_eq!(applied_names(&db).await, names(5));

    let down = cli(BIN, &dir, url, &["down"]).ok();
    assert!(down.stderr_lines()[0].starts_with("rolled back m005_add_sketchup_url ("));
    assert!(
        down.stderr
            .contains("sketch2bim: rolled back 1 migration in ")
    );
    assert_eq!(applied_names(&db).await, names(4));

    cli(BIN, &dir, url, &["down", "--to", "m002_add_legend_to_jobs"]).ok();
    assert_eq!(applied_names(&db).await, names(2));

    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();
    assert_eq!(applied_names(&db).await, names(1));

    let up = cli(BIN, &dir, url, &["up"]).ok();
    let lines = up.stderr_lines();
    // One line per migration after the first, and the summary.
    assert_eq!(lines.len(), migrations().len(), "{up:#?}");
    for (line, name) in lines.iter().zip(&migrations().names()[1..]) {
        assert!(line.starts_with(&format!("applied {name} (")), "{up:#?}");
    }
    assert!(up.stderr.contains(&format!(
        "sketch2bim: applied {} in ",
        Migrations::count(migrations().len() - 1)
    )));
    assert_eq!(applied_names(&db).await, migrations().names());

    let again = cli(BIN, &dir, url, &["up"]).ok();
    let lines = again.stderr_lines();
    assert_eq!(lines.len(), 1, "{again:#?}");
    assert!(lines[0].starts_with("sketch2bim: nothing to do in "));
    assert!(lines[0].ends_with(&format!("; at {} (head)", migrations().head())));

    let current = cli(BIN, &dir, url, &["current"]).ok();
    assert_eq!(current.stdout, format!("{}\n", migrations().head()));
    assert_eq!(current.stderr, "");
    assert_eq!(dir.files(), Vec::<String>::new(), "no file written");
}

#[tokio::test]
async fn status_lists_every_migration_in_text_and_json() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up", "-n", "3"]).ok();
    // Each applied migration's time as the database records it, in ISO 8601.
    let applied_at: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT to_char(to_timestamp(applied_at) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM seaql_migrations ORDER BY version",
        ))
        .await
        .expect("query")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("a timestamp"))
        .collect();
    assert_eq!(applied_at.len(), 3);

    let m = migrations();
    let width = m.width();
    let text = cli(BIN, &dir, url, &["status"]).ok();
    let lines = text.stdout_lines();
    assert_eq!(lines.len(), m.len(), "{text:#?}");
    for (i, line) in lines.iter().enumerate() {
        let expected = if i < 3 {
            format!("{:<width$}  applied  {}", m.name(i), applied_at[i])
        } else {
            format!("{:<width$}  pending", m.name(i))
        };
        assert_eq!(*line, expected);
    }

    let json = cli(BIN, &dir, url, &["status", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    assert_eq!(doc["current"], "m003_add_batch_id_to_jobs");
    assert_eq!(doc["head"], m.head());
    let list = doc["migrations"].as_array().expect("a list");
    assert_eq!(list.len(), m.len());
    for (i, entry) in list.iter().enumerate() {
        assert_eq!(entry["name"], m.name(i));
        if i < 3 {
            assert_eq!(entry["status"], "applied");
            assert_eq!(entry["applied_at"], applied_at[i].as_str());
        } else {
            assert_eq!(entry["status"], "pending");
            assert_eq!(entry["applied_at"], serde_json::Value::Null);
        }
    }
}

#[test]
fn history_describes_every_migration_without_a_database() {
    let dir = WorkDir::new();
    let history = run(BIN, dir.path(), &[], &["history"]).ok();
    let lines = history.stdout_lines();
    let m = migrations();
    let width = m.width();
    assert_eq!(lines.len(), m.len());
    for (line, name) in lines.iter().zip(m.names()) {
        assert!(line.starts_with(&format!("{name:<width$}  ")), "{line}");
        assert!(line.len() > 50, "a description follows the name: {line}");
    }
    assert!(lines[5].contains("Drops `api_keys`"), "{}", lines[5]);
    assert_eq!(history.stderr, "");
    assert_eq!(dir.files(), Vec::<String>::new(), "no SQLite file created");
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn dry_run_prints_the_sql_and_changes_nothing(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();

    // On an empty database not even the bookkeeping table appears.
    let plan = cli(BIN, &dir, url, &["up", "--dry-run"]).ok();
    assert!(plan.stdout.starts_with("-- m001_initial_schema (up)\n"));
    let planned: Vec<&str> = plan
        .stdout_lines()
        .into_iter()
        .filter_map(|line| line.strip_prefix("-- ")?.strip_suffix(" (up)"))
        .collect();
    assert_eq!(planned, migrations().names());
    assert_eq!(
        plan.stderr_lines().last().copied(),
        Some(
            format!(
                "sketch2bim: dry run: would apply {}; nothing was changed",
                Migrations::count(migrations().len())
            )
            .as_str()
        )
    );
    assert!(!has_bookkeeping(&db).await);
    assert!(catalog(&db).await.column_names().is_empty());

    cli(BIN, &dir, url, &["up", "-n", "2"]).ok();
    let before = catalog(&db).await;
    let plan = cli(
        BIN,
        &dir,
        url,
        &["up", "--dry-run", "--to", "m003_add_batch_id_to_jobs"],
    )
    .ok();
    let mut lines = plan.stdout_lines();
    assert_eq!(lines.remove(0), "-- m003_add_batch_id_to_jobs (up)");
    match backend {
        Backend::Postgres => {
            // Then its schema alone on its search path, its lock wait and
            // the name it goes by while it runs.
            assert_eq!(lines.remove(0), "BEGIN;");
            assert_eq!(lines.remove(0), "SET LOCAL search_path TO \"public\";");
            assert_eq!(lines.remove(0), "SET LOCAL lock_timeout = '2000ms';");
            assert_eq!(
                lines.remove(0),
                "SET LOCAL application_name = 'migrating m003_add_batch_id_to_jobs';"
            );
        }
        Backend::Sqlite => {
            // SQLite takes the write lock first, then re-checks the bookkeeping.
            assert_eq!(lines.remove(0), "BEGIN IMMEDIATE;");
            assert_eq!(
                lines.remove(0),
                "SELECT count(*) AS n FROM \"seaql_migrations\" \
                 WHERE version = 'm003_add_batch_id_to_jobs';"
            );
        }
    }
    assert_eq!(
        lines[0],
        r#"ALTER TABLE "jobs" ADD COLUMN "batch_id" varchar;"#
    );
    if backend == Backend::Postgres {
        // What lint finds in the statement, above it, as SQL comments.
        assert_eq!(
            lines.remove(1),
            "-- lint: require-concurrent-index-creation (allowed: shipped as Alembic revision \
             003, which built ix_jobs_batch_id in its transaction)"
        );
        assert_eq!(
            lines.remove(1),
            "-- lint: long-statement-with-other-ddl (allowed: shipped as Alembic revision 003, \
             with the column and its index in one transaction)"
        );
    }
    assert_eq!(
        lines[1],
        r#"CREATE INDEX "ix_jobs_batch_id" ON "jobs" ("batch_id");"#
    );
    // On PostgreSQL the bookkeeping table is named with its schema.
    let table = match backend {
        Backend::Postgres => r#""public"."seaql_migrations""#,
        Backend::Sqlite => r#""seaql_migrations""#,
    };
    assert!(
        lines[2].starts_with(&format!(
            "INSERT INTO {table} (version, applied_at, checksum) VALUES \
             ('m003_add_batch_id_to_jobs', "
        )),
        "{plan:#?}"
    );
    // The checksum it records is the one of the statements above, its down
    // and its use_transaction() (and of what `up` records: see the checksum
    // tests; v2 since the down step and use_transaction() are covered).
    assert!(
        lines[2]
            .ends_with(", 'v2:1914210110de840e4c64c57f67595b020f6be13dc925f4335779c007dde1a42a');"),
        "{plan:#?}"
    );
    assert_eq!(lines[3], "COMMIT;");
    assert_eq!(lines[4], "");
    assert_eq!(lines.len(), 5, "{plan:#?}");

    let plan = cli(BIN, &dir, url, &["down", "--dry-run"]).ok();
    let mut expected = vec!["-- m002_add_legend_to_jobs (down)"];
    match backend {
        Backend::Postgres => expected.extend([
            "BEGIN;",
            "SET LOCAL search_path TO \"public\";",
            "SET LOCAL lock_timeout = '2000ms';",
            "SET LOCAL application_name = 'migrating m002_add_legend_to_jobs';",
        ]),
        Backend::Sqlite => expected.extend([
            "BEGIN IMMEDIATE;",
            "SELECT count(*) AS n FROM \"seaql_migrations\" \
             WHERE version = 'm002_add_legend_to_jobs';",
        ]),
    }
    let delete = format!("DELETE FROM {table} WHERE version = 'm002_add_legend_to_jobs';");
    expected.extend([
        r#"ALTER TABLE "jobs" DROP COLUMN "legend_detected";"#,
        r#"ALTER TABLE "jobs" DROP COLUMN "legend_data";"#,
        &delete,
        "COMMIT;",
        "",
    ]);
    assert_eq!(plan.stdout_lines(), expected, "{plan:#?}");
    assert_eq!(
        plan.stderr_lines(),
        vec!["sketch2bim: dry run: would roll back 1 migration; nothing was changed"]
    );

    assert_eq!(applied_names(&db).await, names(2));
    assert!(catalog(&db).await.diff(&before, true).is_empty());
}

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
    assert_eq!(applied_names(&db).await, names(3));
    // iterations, created before the collision, is gone with the rest.
    assert!(!table_exists(&db, "iterations").await);
    assert!(!table_exists(&db, "referrals").await);
    assert!(catalog(&db).await.diff(&before, true).is_empty());
}

#[tokio::test]
async fn bad_input_is_one_line_exit_1_and_never_a_password() {
    let dir = WorkDir::new();

    let malformed = cli(BIN, &dir, "postgres://u:hunter2@[::1/x", &["up"]);
    assert_eq!(malformed.code, 1);
    assert_eq!(malformed.stderr_lines().len(), 1, "{malformed:#?}");
    assert!(
        malformed
            .stderr
            .starts_with("error: invalid database URL from --database-url: "),
        "{malformed:#?}"
    );
    malformed.assert_never_shows("hunter2");

    let scheme = run(
        BIN,
        dir.path(),
        &[("DATABASE_URL", "mysql2://u:hunter2@h/x")],
        &["up"],
    );
    assert_eq!(scheme.code, 1);
    assert_eq!(scheme.stderr_lines().len(), 1, "{scheme:#?}");
    assert!(scheme.stderr.contains("from DATABASE_URL"), "{scheme:#?}");
    scheme.assert_never_shows("hunter2");

    let unreachable = run(
        BIN,
        dir.path(),
        &[(
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@127.0.0.1:1/x",
        )],
        &["status"],
    );
    assert_eq!(unreachable.code, 1);
    assert_eq!(unreachable.stderr_lines().len(), 1, "{unreachable:#?}");
    assert!(
        unreachable
            .stderr
            .starts_with("error: cannot connect to postgres://u:***@127.0.0.1:1/x: "),
        "{unreachable:#?}"
    );
    assert!(
        unreachable.stderr.contains("connection refused"),
        "{unreachable:#?}"
    );
    unreachable.assert_never_shows("hunter2");

    let usage = run(BIN, dir.path(), &[], &["up", "-n"]);
    assert_eq!(usage.code, 2, "{usage:#?}");
    let usage = run(BIN, dir.path(), &[], &["sideways"]);
    assert_eq!(usage.code, 2, "{usage:#?}");

    let secret_env = [
        ("DATABASE_URL", "postgres://u:hunter2@db.example.com/x"),
        (
            "SKETCH2BIM_DATABASE_URL",
            "postgres://u:hunter2@db.example.com/y",
        ),
    ];
    for args in [&["--help"][..], &["up", "--help"], &["status", "-h"]] {
        let help = run(BIN, dir.path(), &secret_env, args).ok();
        assert!(help.stdout.contains("Usage:"), "{help:#?}");
        help.assert_never_shows("hunter2");
    }
    assert_eq!(dir.files(), Vec::<String>::new());
}

#[tokio::test]
async fn a_one_letter_password_is_masked_in_the_url_only() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    let url = with_user(test_db.url(), "nouser", Some("s"));
    let shown = with_user(test_db.url(), "nouser", Some("***"));
    let status = cli(BIN, &dir, &url, &["status"]);
    assert_eq!(status.code, 1, "{status:#?}");
    assert_eq!(
        status.stderr_lines(),
        vec![format!(
            "error: cannot connect to {shown}: role \"nouser\" does not exist"
        )]
    );
}

#[test]
fn version_and_the_password_warning_in_help() {
    let dir = WorkDir::new();
    for flag in ["--version", "-V"] {
        let version = run(BIN, dir.path(), &[], &[flag]).ok();
        assert_eq!(
            version.stdout,
            format!("sketch2bim-migration {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(version.stderr, "");
    }
    let help = run(BIN, dir.path(), &[], &["--help"]).ok();
    let url_help: String = help
        .stdout
        .split("--database-url <URL>")
        .nth(1)
        .and_then(|rest| rest.split("-s, --database-schema").next())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        url_help.ends_with(
            "A password given here is visible to other users of the machine (ps shows the \
             command line): put it in the environment or .env instead"
        ),
        "{help:#?}"
    );
}

#[test]
fn a_lock_timeout_out_of_range_is_a_usage_error() {
    let dir = WorkDir::new();
    for value in ["0", "86401", "99999999"] {
        let up = run(BIN, dir.path(), &[], &["up", "--lock-timeout", value]);
        assert_eq!(up.code, 2, "{value}: {up:#?}");
        assert_eq!(
            up.stderr_lines(),
            vec![
                format!(
                    "error: invalid value '{value}' for '--lock-timeout <SECONDS>': {value} is \
                     not in 1..=86400"
                )
                .as_str(),
                "",
                "For more information, try '--help'."
            ]
        );
    }
    // Nothing was opened, not even the default SQLite file.
    assert_eq!(dir.files(), Vec::<String>::new());
    let history = run(
        BIN,
        dir.path(),
        &[],
        &["--lock-timeout", "86400", "history"],
    )
    .ok();
    assert_eq!(history.stdout_lines().len(), migrations().len());
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
async fn verbose_output_shows_sql_but_not_the_password() {
    let test_db = TestDb::postgres().await;
    let dir = WorkDir::new();
    let url = with_password(test_db.url(), "hunter2");
    let up = cli(BIN, &dir, &url, &["-v", "up", "-n", "1"]).ok();
    assert!(up.stderr.contains("CREATE TABLE \\\"users\\\""), "{up:#?}");
    up.assert_never_shows("hunter2");
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
    let mut expected_names = names(4);
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
    assert_eq!(applied_names(&db).await, names(2));
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

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn fresh_refresh_and_reset(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    let head = catalog(&db).await;

    cli(BIN, &dir, url, &["down", "-n", "5"]).ok();
    exec(&db, "CREATE TABLE zz_scratch (x integer)").await;
    let all = Migrations::count(migrations().len());
    let fresh = cli(BIN, &dir, url, &["fresh"]).ok();
    assert!(
        fresh
            .stderr
            .contains(&format!("sketch2bim: applied {all} in ")),
        "{fresh:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().names());
    assert!(
        !table_exists(&db, "zz_scratch").await,
        "fresh drops every table"
    );
    assert!(catalog(&db).await.diff(&head, true).is_empty());

    let refresh = cli(BIN, &dir, url, &["refresh"]).ok();
    assert!(
        refresh
            .stderr
            .contains(&format!("sketch2bim: rolled back {all}, applied {all} in ")),
        "{refresh:#?}"
    );
    assert_eq!(applied_names(&db).await, migrations().names());
    assert!(catalog(&db).await.diff(&head, true).is_empty());

    let reset = cli(BIN, &dir, url, &["reset"]).ok();
    assert!(
        reset
            .stderr
            .contains(&format!("sketch2bim: rolled back {all} in ")),
        "{reset:#?}"
    );
    assert_eq!(applied_names(&db).await, Vec::<&str>::new());
    assert!(catalog(&db).await.column_names().is_empty());
}

#[tokio::test]
async fn reading_commands_work_for_a_role_without_create_privilege() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let role = format!("kvshvl_reader_{}", std::process::id());
    exec(&db, &format!("DROP ROLE IF EXISTS {role}")).await;
    exec(&db, &format!("CREATE ROLE {role} LOGIN PASSWORD 'hunter2'")).await;
    exec(
        &db,
        &format!("REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}"),
    )
    .await;
    let reader = with_user(test_db.url(), &role, Some("hunter2"));

    // On an empty database: everything pending, nothing created.
    let status = cli(BIN, &dir, &reader, &["status"]).ok();
    assert_eq!(status.stdout_lines().len(), migrations().len());
    assert!(
        status
            .stdout_lines()
            .iter()
            .all(|l| l.ends_with("  pending"))
    );
    assert_eq!(cli(BIN, &dir, &reader, &["current"]).ok().stdout, "none\n");
    assert!(!has_bookkeeping(&db).await);

    cli(BIN, &dir, test_db.url(), &["up"]).ok();
    exec(&db, &format!("GRANT SELECT ON seaql_migrations TO {role}")).await;
    let status = cli(BIN, &dir, &reader, &["status", "--format", "json"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(doc["current"], migrations().head());
    assert_eq!(
        cli(BIN, &dir, &reader, &["current"]).ok().stdout,
        format!("{}\n", migrations().head())
    );
    cli(BIN, &dir, &reader, &["history"]).ok();
    // At head, `up` is a read too.
    let up = cli(BIN, &dir, &reader, &["up"]).ok();
    assert!(up.stderr.contains("nothing to do"), "{up:#?}");
    up.assert_never_shows("hunter2");

    exec(&db, &format!("DROP OWNED BY {role}")).await;
    let _ = db.close().await;
    drop(test_db);
    let admin = sea_orm::Database::connect(test_support::server_url())
        .await
        .expect("admin connection");
    exec(&admin, &format!("DROP ROLE {role}")).await;
}

#[test]
fn an_unreadable_dotenv_is_one_error_naming_it() {
    /// Makes `.env` at the given path.
    type Make = fn(&std::path::Path);
    let cases: [(&str, Make, &str); 6] = [
        (
            "a directory",
            |env| std::fs::create_dir(env).expect("mkdir .env"),
            "error: cannot read .env: Is a directory (os error 21)",
        ),
        (
            "a link to /dev/zero",
            |env| std::os::unix::fs::symlink("/dev/zero", env).expect("symlink"),
            "error: cannot read .env: not a regular file (a named pipe, socket or device)",
        ),
        (
            // Opening it would wait for a writer forever.
            "a named pipe",
            |env| {
                let made = std::process::Command::new("mkfifo")
                    .arg(env)
                    .status()
                    .expect("mkfifo");
                assert!(made.success(), "mkfifo {}", env.display());
            },
            "error: cannot read .env: not a regular file (a named pipe, socket or device)",
        ),
        (
            "a file over 64 KiB",
            |env| {
                let line = format!("# {}\n", "x".repeat(1021));
                std::fs::write(env, line.repeat(65)).expect("write");
            },
            "error: cannot read .env: larger than 64 KiB",
        ),
        (
            "invalid UTF-8",
            |env| std::fs::write(env, b"DATABASE_URL=sqlite://x\xff.db\n").expect("write"),
            "error: cannot read .env: not UTF-8 text (invalid byte at offset 23)",
        ),
        (
            "a dangling link",
            |env| std::os::unix::fs::symlink("missing.env", env).expect("symlink"),
            "error: cannot read .env: No such file or directory (os error 2)",
        ),
    ];
    for (what, make, expected) in cases {
        let dir = WorkDir::new();
        make(&dir.path().join(".env"));
        let status = run_within(30, BIN, dir.path(), &[], &["status"]);
        assert_eq!(status.code, 1, "{what}: {status:#?}");
        assert_eq!(status.stderr_lines(), vec![expected], "{what}");
        assert_eq!(status.stdout, "", "{what}");
        assert_eq!(dir.files(), vec![".env"], "{what}: nothing created");
    }
}

#[test]
fn a_database_variable_set_but_empty_is_refused_by_name() {
    let refused = |variable: &str| {
        format!(
            "error: invalid database URL from {variable}: it is set but empty; give it a \
             database URL, or unset it"
        )
    };
    let dir = WorkDir::new();
    for (env, variable) in [
        (&[("DATABASE_URL", "")][..], "DATABASE_URL"),
        (
            &[("SKETCH2BIM_DATABASE_URL", "  ")][..],
            "SKETCH2BIM_DATABASE_URL",
        ),
        // The database's own variable comes first, so it is the one named.
        (
            &[
                ("SKETCH2BIM_DATABASE_URL", ""),
                ("DATABASE_URL", "sqlite://other.sqlite?mode=rwc"),
            ][..],
            "SKETCH2BIM_DATABASE_URL",
        ),
    ] {
        let up = run_within(30, BIN, dir.path(), env, &["up"]);
        assert_eq!(up.code, 1, "{env:?}: {up:#?}");
        assert_eq!(up.stderr_lines(), vec![refused(variable)], "{env:?}");
    }
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=\n").expect("write .env");
    let up = run_within(30, BIN, dir.path(), &[], &["up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(up.stderr_lines(), vec![refused("DATABASE_URL in .env")]);
    assert_eq!(dir.files(), vec![".env"], "nothing created");
}

#[test]
fn the_default_is_a_sqlite_file_in_the_working_directory_and_dotenv_is_read() {
    let dir = WorkDir::new();
    let up = run(BIN, dir.path(), &[], &["up"]).ok();
    assert_eq!(
        up.stderr_lines()[0],
        "no database URL configured (-u, SKETCH2BIM_DATABASE_URL, DATABASE_URL or .env): \
         using the SQLite file sketch2bim.sqlite in the working directory"
    );
    assert!(up.stderr.contains(&format!(
        "sketch2bim: applied {} in ",
        Migrations::count(migrations().len())
    )));
    assert_eq!(dir.files(), vec!["sketch2bim.sqlite"]);

    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://from_dotenv.sqlite?mode=rwc\n",
    )
    .expect("write .env");
    let up = run(BIN, dir.path(), &[], &["up", "-n", "1"]).ok();
    assert!(!up.stderr.contains("no database URL configured"), "{up:#?}");
    assert_eq!(
        dir.files(),
        vec![".env", "from_dotenv.sqlite", "sketch2bim.sqlite"]
    );
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "m001_initial_schema\n");

    // The database's own variable wins over DATABASE_URL and .env.
    let current = run(
        BIN,
        dir.path(),
        &[
            ("SKETCH2BIM_DATABASE_URL", "sqlite://sketch2bim.sqlite"),
            ("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/x"),
        ],
        &["current"],
    )
    .ok();
    assert_eq!(current.stdout, format!("{}\n", migrations().head()));
}

#[test]
fn reading_a_sqlite_database_that_is_not_there_creates_nothing() {
    let dir = WorkDir::new();
    let announce = "no database URL configured (-u, SKETCH2BIM_DATABASE_URL, DATABASE_URL or \
                    .env): using the SQLite file sketch2bim.sqlite in the working directory";
    let not_yet = |file: &str| {
        format!(
            "sketch2bim: no database yet: the SQLite file {file} does not exist, so no \
             migration is applied"
        )
    };
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "none\n");
    assert_eq!(
        current.stderr_lines(),
        vec![announce.to_owned(), not_yet("sketch2bim.sqlite")]
    );
    let status = run(BIN, dir.path(), &[], &["status"]).ok();
    assert_eq!(
        status.stdout_lines(),
        migrations()
            .names()
            .iter()
            .map(|name| format!("{name:width$}  pending", width = migrations().width()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        status.stderr_lines(),
        vec![announce.to_owned(), not_yet("sketch2bim.sqlite")]
    );
    // An explicit file, with or without ?mode=rwc, and a dry run.
    for (url, args) in [
        ("sqlite://x.db", &["status", "--format", "json"][..]),
        ("sqlite://x.db?mode=rwc", &["current"][..]),
        (
            "sqlite://x.db?mode=rwc",
            &["up", "--dry-run", "-n", "1"][..],
        ),
        ("sqlite://x.db?mode=rwc", &["verify"][..]),
        ("sqlite://x.db?mode=rwc", &["repair"][..]),
    ] {
        let read = cli(BIN, &dir, url, args).ok();
        assert_eq!(read.stderr_lines()[0], not_yet("x.db"), "{url} {args:?}");
    }
    let verify = cli(BIN, &dir, "sqlite://x.db", &["verify"]).ok();
    assert_eq!(
        verify.stderr_lines()[1],
        "sketch2bim: no migration is applied, so there is nothing to verify"
    );
    assert_eq!(dir.files(), Vec::<String>::new(), "nothing created");

    // Once it exists, it is read.
    run(BIN, dir.path(), &[], &["up", "-n", "1"]).ok();
    let current = run(BIN, dir.path(), &[], &["current"]).ok();
    assert_eq!(current.stdout, "m001_initial_schema\n");
    assert_eq!(current.stderr_lines(), vec![announce]);
}

#[test]
fn sqlite_urls_that_would_lose_or_miss_the_database_are_refused_before_connecting() {
    let dir = WorkDir::new();
    let refused = |url: &str, args: &[&str], expected: &str| {
        let run = cli(BIN, &dir, url, args);
        assert_eq!(run.code, 1, "{url} {args:?}: {run:#?}");
        assert_eq!(run.stderr_lines(), vec![expected], "{url} {args:?}");
        assert_eq!(run.stdout, "", "{url} {args:?}");
    };
    // No file named: SQLite would open a temporary database per connection.
    for args in [&["up"][..], &["status"]] {
        refused(
            "sqlite://",
            args,
            "error: invalid database URL from --database-url: it names no SQLite file; give \
             one, e.g. sqlite://app.sqlite?mode=rwc",
        );
    }
    // In memory: nothing a changing command does would be kept.
    for (url, args) in [
        ("sqlite::memory:", &["up"][..]),
        ("sqlite::memory:", &["down"]),
        ("sqlite::memory:", &["fresh"]),
        ("sqlite::memory:", &["refresh"]),
        ("sqlite::memory:", &["reset"]),
        ("sqlite::memory:", &["adopt"]),
        ("sqlite::memory:", &["drop-alembic-version"]),
        ("sqlite://?mode=memory", &["up"]),
    ] {
        refused(
            url,
            args,
            &format!(
                "error: {} on the in-memory SQLite database {url} would keep nothing: it is \
                 gone when the run ends; give a SQLite file, e.g. \
                 sqlite://sketch2bim.sqlite?mode=rwc",
                args[0]
            ),
        );
    }
    // Reading it is harmless.
    let status = cli(BIN, &dir, "sqlite::memory:", &["status"]).ok();
    assert_eq!(status.stdout_lines().len(), migrations().len());
    // A file that is not there, by a URL that does not ask to create it.
    for url in ["sqlite://x.db", "sqlite://x.db?mode=ro"] {
        refused(
            url,
            &["up"],
            "error: cannot open the SQLite file x.db: it does not exist; add ?mode=rwc to the \
             URL to create it",
        );
    }
    assert_eq!(dir.files(), Vec::<String>::new(), "nothing created");
    // Once it exists, the URL without ?mode=rwc opens it.
    cli(BIN, &dir, "sqlite://x.db?mode=rwc", &["up", "-n", "1"]).ok();
    cli(BIN, &dir, "sqlite://x.db", &["up"]).ok();
    assert_eq!(dir.files(), vec!["x.db"]);
}

#[test]
fn connect_timeout_in_the_url_bounds_the_wait() {
    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let dir = WorkDir::new();
    for (query, seconds, within) in [("?connect_timeout=1", 1, 4.0), ("", 5, 8.0)] {
        let url = format!("postgres://u:hunter2@127.0.0.1:{port}/x{query}");
        let started = std::time::Instant::now();
        let status = cli(BIN, &dir, &url, &["status"]);
        let took = started.elapsed().as_secs_f64();
        assert_eq!(status.code, 1, "{status:#?}");
        assert_eq!(
            status.stderr_lines(),
            vec![format!(
                "error: cannot connect to postgres://u:***@127.0.0.1:{port}/x{query}: timed out \
                 after {seconds} s"
            )]
        );
        assert!(
            took >= f64::from(seconds) && took < within,
            "{query}: {took} s"
        );
    }
    for value in ["0", "abc"] {
        let url = format!("postgres://u:hunter2@127.0.0.1:{port}/x?connect_timeout={value}");
        let status = cli(BIN, &dir, &url, &["status"]);
        assert_eq!(status.code, 1, "{status:#?}");
        assert_eq!(
            status.stderr_lines(),
            vec![format!(
                "error: invalid database URL from --database-url: connect_timeout=\"{value}\": \
                 expected whole seconds from 1 to 86400"
            )]
        );
    }
    drop(silent);
}

#[test]
fn tls_and_driver_options_are_refused_by_name_before_connecting() {
    let dir = WorkDir::new();
    std::fs::write(dir.path().join("garbage.pem"), "not a certificate\n").expect("write");
    // Port 1: nothing listens, so any attempt to connect would say so.
    let base = "postgres://u:hunter2@127.0.0.1:1/x";
    for (query, expected) in [
        (
            "?sslmode=verify-full&sslrootcert=missing-ca.pem",
            "error: cannot use the sslrootcert file missing-ca.pem: No such file or directory \
             (os error 2)",
        ),
        (
            "?sslmode=verify-ca&sslrootcert=garbage.pem",
            "error: cannot use the sslrootcert file garbage.pem: it holds no PEM certificate \
             (-----BEGIN CERTIFICATE-----)",
        ),
        (
            "?sslmode=bogus",
            "error: invalid database URL from --database-url: sslmode=\"bogus\": expected \
             disable, allow, prefer, require, verify-ca or verify-full",
        ),
        (
            "?statement_cache_capacity=abc",
            "error: invalid database URL from --database-url: statement_cache_capacity=\"abc\": \
             expected a whole number of statements",
        ),
    ] {
        let status = cli(BIN, &dir, &format!("{base}{query}"), &["status"]);
        assert_eq!(status.code, 1, "{query}: {status:#?}");
        assert_eq!(status.stderr_lines(), vec![expected], "{query}");
        status.assert_never_shows("hunter2");
    }
}

#[test]
fn generate_writes_the_next_migration_and_registers_it() {
    let dir = WorkDir::new();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let lib = include_str!("../../src/lib.rs");
    std::fs::write(src.join("lib.rs"), lib).expect("write lib.rs");
    let crate_dir = dir.path().to_string_lossy().into_owned();

    let generated = run(
        BIN,
        dir.path(),
        &[],
        &["generate", "add_notes_to_jobs", "--dir", &crate_dir],
    )
    .ok();
    let m = migrations();
    let next = m.next_name("add_notes_to_jobs");
    let file = src.join(format!("{next}.rs"));
    assert_eq!(generated.stdout, format!("created {}\n", file.display()));
    let body = std::fs::read_to_string(&file).expect("the new migration");
    assert!(body.contains("impl MigrationTrait for Migration"));
    let registered = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert_eq!(
        registered,
        lib.replace(
            &format!("    {},\n", m.head()),
            &format!("    {},\n    {next},\n", m.head())
        )
    );

    let refused = run(
        BIN,
        dir.path(),
        &[],
        &["generate", "Add Notes", "--dir", &crate_dir],
    );
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr_lines(),
        vec![
            "error: invalid migration name 'Add Notes': use snake_case words (lowercase \
             letters and digits, starting with a letter, joined by single underscores), e.g. \
             add_notes_to_jobs"
        ]
    );
}

#[test]
fn generate_numbers_from_the_files_on_disk_and_takes_a_numbered_name() {
    let dir = WorkDir::new();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let lib = include_str!("../../src/lib.rs");
    std::fs::write(src.join("lib.rs"), lib).expect("write lib.rs");
    let crate_dir = dir.path().to_string_lossy().into_owned();
    let generate = |name: &str| {
        run(
            BIN,
            dir.path(),
            &[],
            &["generate", name, "--dir", &crate_dir],
        )
    };

    // The numbers after the newest migration lib.rs lists.
    let head = migrations().head();
    let n = migrations().next_number();
    let numbered = |k: u32, suffix: &str| format!("m{:03}_{suffix}", n + k);

    // Two runs of one binary: the second counts the file the first wrote.
    let first = generate("add_notes_to_jobs").ok();
    let notes = numbered(0, "add_notes_to_jobs");
    let file = src.join(format!("{notes}.rs"));
    assert_eq!(first.stdout, format!("created {}\n", file.display()));
    let second = generate("add_tags_to_jobs").ok();
    let tags = numbered(1, "add_tags_to_jobs");
    let file = src.join(format!("{tags}.rs"));
    assert_eq!(second.stdout, format!("created {}\n", file.display()));

    // A file on disk that lib.rs does not list yet counts too.
    std::fs::write(src.join(format!("{}.rs", numbered(2, "hand_written"))), "")
        .expect("write the hand-written migration");
    // The number the user typed is taken when it is the next one...
    let x = numbered(3, "add_x");
    let typed = generate(&x).ok();
    let file = src.join(format!("{x}.rs"));
    assert_eq!(typed.stdout, format!("created {}\n", file.display()));
    assert!(!src.join(format!("m{:03}_{x}.rs", n + 3)).exists());
    let registered = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert_eq!(
        registered,
        lib.replace(
            &format!("    {head},\n"),
            &format!("    {head},\n    {notes},\n    {tags},\n    {x},\n")
        )
    );

    // ...and refused when it is not, writing nothing.
    let before = dir_listing(&src);
    let stale = numbered(0, "add_y");
    let refused = generate(&stale);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr_lines(),
        vec![format!(
            "error: migration name '{stale}' carries the number {n}, but the next migration \
             in {} is m{:03}: give the name without its mNNN_ prefix",
            src.display(),
            n + 4
        )]
    );
    assert_eq!(dir_listing(&src), before);
    assert_eq!(
        std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"),
        registered
    );
}

fn dir_listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
