//! The binary's commands as users run them: up, down, current, status,
//! history, dry runs, fresh, refresh and reset, and the reading commands for
//! a role that may not create anything, on real PostgreSQL and SQLite.

use rstest::rstest;
use sea_orm::ConnectionTrait;
use test_support::cli::{WorkDir, cli, run, with_user};
use test_support::db::{exec, has_bookkeeping};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog, table_exists};
use test_support::{Backend, TestDb};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

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
    assert_eq!(applied_names(&db).await, migrations().first(2));

    cli(BIN, &dir, url, &["up", "--to", "m005_add_sketchup_url"]).ok();
    assert_eq!(applied_names(&db).await, migrations().first(5));

    let down = cli(BIN, &dir, url, &["down"]).ok();
    assert!(down.stderr_lines()[0].starts_with("rolled back m005_add_sketchup_url ("));
    assert!(
        down.stderr
            .contains("sketch2bim: rolled back 1 migration in ")
    );
    assert_eq!(applied_names(&db).await, migrations().first(4));

    cli(BIN, &dir, url, &["down", "--to", "m002_add_legend_to_jobs"]).ok();
    assert_eq!(applied_names(&db).await, migrations().first(2));

    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();
    assert_eq!(applied_names(&db).await, migrations().first(1));

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

    assert_eq!(applied_names(&db).await, migrations().first(2));
    assert!(catalog(&db).await.diff(&before, true).is_empty());
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
