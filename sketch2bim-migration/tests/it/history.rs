//! A damaged or foreign history is named before anything runs: gaps,
//! duplicate rows, an ASK database given to this migrator. Each refusal is
//! one line, exit code 1, with the bookkeeping and the catalog unchanged.

use migration_core::runner::{self, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use test_support::cli::{WorkDir, cli};
use test_support::db::exec;
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// Every row of the bookkeeping table, duplicates kept.
async fn rows(db: &DatabaseConnection) -> Vec<(String, i64)> {
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT version, applied_at FROM seaql_migrations ORDER BY version, applied_at",
    ))
    .await
    .expect("reading seaql_migrations")
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "version").expect("version"),
            r.try_get::<i64>("", "applied_at").expect("applied_at"),
        )
    })
    .collect()
}

/// Runs each of `commands`, expecting exactly `expected` on stderr, exit 1,
/// nothing on stdout, and no change to the bookkeeping rows or the catalog.
async fn refused(
    db: &DatabaseConnection,
    dir: &WorkDir,
    url: &str,
    commands: &[&[&str]],
    expected: &str,
) {
    let rows_before = rows(db).await;
    let before = catalog(db).await;
    for args in commands {
        let refused = cli(BIN, dir, url, args);
        assert_eq!(refused.code, 1, "{args:?}: {refused:#?}");
        assert_eq!(refused.stderr_lines(), vec![expected], "{args:?}");
        assert_eq!(refused.stdout, "", "{args:?}");
        assert_eq!(
            rows(db).await,
            rows_before,
            "{args:?} changed the bookkeeping"
        );
        assert!(
            catalog(db).await.diff(&before, true).is_empty(),
            "{args:?} changed the catalog"
        );
    }
}

/// The refusal of a database at head whose m005 row is missing: it names
/// the newest migration recorded after it.
fn gap() -> String {
    format!(
        "error: the database's history has a gap: m005_add_sketchup_url is not recorded \
         although the later {} is; check that the schema has its changes, then record it \
         again in seaql_migrations (or restore its row); nothing was changed",
        migrations().head()
    )
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_gap_is_refused_before_anything_runs(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    exec(
        &db,
        "DELETE FROM seaql_migrations WHERE version = 'm005_add_sketchup_url'",
    )
    .await;
    refused(
        &db,
        &dir,
        url,
        &[
            &["up"],
            &["up", "-n", "1"],
            &["up", "--dry-run"],
            &["down"],
            &["down", "--to", "m001_initial_schema"],
            &["reset"],
            &["refresh"],
        ],
        &gap(),
    )
    .await;

    // The application's calls go through the same runner.
    let e = runner::up(
        &db,
        &History::of::<sketch2bim_migration::Migrator>(),
        &Goal::All,
        &RunOptions::default(),
    )
    .await
    .expect_err("a gap is refused");
    assert_eq!(format!("error: {e}"), gap());

    // Reading commands still work and show what is recorded.
    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(
        status.stdout_lines()[4],
        format!(
            "{:<width$}  pending",
            "m005_add_sketchup_url",
            width = migrations().width()
        )
    );
    assert_eq!(
        status.stderr_lines(),
        vec![gap().replacen("error", "warning", 1)]
    );
    let current = cli(BIN, &dir, url, &["current"]).ok();
    assert_eq!(current.stdout, format!("{}\n", migrations().head()));

    // Restoring the row is the way out.
    exec(
        &db,
        "INSERT INTO seaql_migrations (version, applied_at) \
         VALUES ('m005_add_sketchup_url', 0)",
    )
    .await;
    let up = cli(BIN, &dir, url, &["up"]).ok();
    let lines = up.stderr_lines();
    assert_eq!(lines.len(), 1, "{up:#?}");
    assert!(
        lines[0].starts_with("sketch2bim: nothing to do in ")
            && lines[0].ends_with(&format!("; at {} (head)", migrations().head())),
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, sketch2bim_names());
}

/// Every migration of the Sketch2BIM history, in order.
fn sketch2bim_names() -> Vec<String> {
    migrations()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn duplicate_rows_are_refused() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    // A bookkeeping table made by hand, without its primary key.
    exec(
        &db,
        "CREATE TABLE seaql_migrations (version varchar NOT NULL, applied_at bigint NOT NULL)",
    )
    .await;
    cli(BIN, &dir, url, &["up", "-n", "3"]).ok();
    exec(
        &db,
        "INSERT INTO seaql_migrations (version, applied_at) \
         VALUES ('m002_add_legend_to_jobs', 1)",
    )
    .await;
    assert_eq!(applied_names(&db).await.len(), 4);
    refused(
        &db,
        &dir,
        url,
        &[&["up"], &["down"], &["up", "--dry-run"], &["reset"]],
        "error: seaql_migrations records m002_add_legend_to_jobs more than once (a table made \
         without its primary key?); delete the extra rows, keeping one per migration; nothing \
         was changed",
    )
    .await;
    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(
        status.stdout_lines().len(),
        migrations().len(),
        "{status:#?}"
    );
    assert!(
        status
            .stderr
            .starts_with("warning: seaql_migrations records m002_add_legend_to_jobs"),
        "{status:#?}"
    );
    assert_eq!(
        cli(BIN, &dir, url, &["current"]).ok().stdout,
        "m003_add_batch_id_to_jobs\n"
    );
}

/// An ASK database at its first migration, built by the ASK runner: it
/// records only `m001_initial_schema`, the name both histories share, so
/// only the catalog tells it from a Sketch2BIM database.
async fn ask_database(backend: Backend) -> TestDb {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    runner::up(
        &db,
        &History::of::<ask_migration::Migrator>(),
        &Goal::Steps(1),
        &RunOptions::default(),
    )
    .await
    .expect("building an ASK database");
    let _ = db.close().await;
    test_db
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn an_ask_database_is_refused_by_the_sketch2bim_migrator(#[case] backend: Backend) {
    let test_db = ask_database(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    let foreign = "error: this database's history belongs to another migrator: it records \
                   m001_initial_schema but has no tables jobs, api_keys, project_versions, \
                   organizations, organization_members, which this binary's \
                   m001_initial_schema creates; check the database URL; nothing was changed";
    refused(
        &db,
        &dir,
        url,
        &[
            &["up"],
            &["up", "-n", "1"],
            &["down"],
            &["reset"],
            &["refresh"],
            &["verify"],
            &["repair"],
        ],
        foreign,
    )
    .await;
    refused(
        &db,
        &dir,
        url,
        &[&["fresh"]],
        "error: fresh would drop every table of a database whose history is not this \
         binary's (it records m001_initial_schema but has no tables jobs, api_keys, \
         project_versions, organizations, organization_members: another migrator's); run it \
         again with --yes if that is what you want",
    )
    .await;
    // Reading commands work: it records m001_initial_schema.
    assert_eq!(
        cli(BIN, &dir, url, &["current"]).ok().stdout,
        "m001_initial_schema\n"
    );
    let status = cli(BIN, &dir, url, &["status"]).ok();
    // Its m001 renders differently from this binary's: said as another
    // migrator's history, not as an edit.
    assert_eq!(
        status.stderr_lines(),
        vec![format!(
            "warning: {}",
            foreign.trim_start_matches("error: ")
        )]
    );
    let lines = status.stdout_lines();
    let width = migrations().width();
    assert_eq!(lines.len(), migrations().len(), "{status:#?}");
    assert!(
        lines[0].starts_with(&format!("{:<width$}  applied  ", "m001_initial_schema"))
            && !lines[0].contains("edited"),
        "{status:#?}"
    );
    for (line, name) in lines[1..].iter().zip(&sketch2bim_names()[1..]) {
        assert_eq!(*line, format!("{name:<width$}  pending"), "{status:#?}");
    }
    // --yes rebuilds it as a Sketch2BIM database.
    cli(BIN, &dir, url, &["fresh", "--yes"]).ok();
    assert_eq!(applied_names(&db).await, sketch2bim_names());
}

#[tokio::test]
async fn fresh_on_a_database_ahead_needs_yes_even_on_loopback() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    // A migration of a newer binary: the number after this binary's head.
    let newer = migrations().next_name("zz_add_floor_plans");
    exec(
        &db,
        &format!("INSERT INTO seaql_migrations (version, applied_at) VALUES ('{newer}', 0)"),
    )
    .await;
    refused(
        &db,
        &dir,
        url,
        &[&["fresh"]],
        &format!(
            "error: fresh would drop every table of a database whose history is not this \
             binary's (it records {newer} unknown to this binary); run it again with --yes if \
             that is what you want"
        ),
    )
    .await;
    // refresh and reset are refused whatever --yes says: their down steps
    // would run code this binary does not have.
    let ahead = format!(
        "error: the database is ahead of this binary: it records {newer} unknown to it; \
         deploy a binary that has it"
    );
    refused(
        &db,
        &dir,
        url,
        &[
            &["refresh"],
            &["reset"],
            &["refresh", "--yes"],
            &["reset", "--yes"],
        ],
        &ahead,
    )
    .await;
    cli(BIN, &dir, url, &["fresh", "--yes"]).ok();
    assert_eq!(applied_names(&db).await, sketch2bim_names());
}
