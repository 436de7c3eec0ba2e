//! The ASK binary given a Sketch2BIM database: refused before anything runs,
//! destructive commands included, on the loopback server.

use migration_core::runner::{self, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::DatabaseConnection;
use test_support::cli::{WorkDir, cli};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_ask-migration");

/// A Sketch2BIM database migrated as far as `goal`, built by its runner.
async fn sketch2bim_database(backend: Backend, goal: Goal) -> (TestDb, DatabaseConnection) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    runner::up(
        &db,
        &History::of::<sketch2bim_migration::Migrator>(),
        &goal,
        &RunOptions::default(),
    )
    .await
    .expect("building a Sketch2BIM database");
    (test_db, db)
}

/// Each of `commands` exits 1 with exactly `expected` on stderr, changing
/// neither the bookkeeping nor the catalog.
async fn refused(db: &DatabaseConnection, url: &str, commands: &[&[&str]], expected: &str) {
    let dir = WorkDir::new();
    let names = applied_names(db).await;
    let before = catalog(db).await;
    for args in commands {
        let refused = cli(BIN, &dir, url, args);
        assert_eq!(refused.code, 1, "{args:?}: {refused:#?}");
        assert_eq!(refused.stderr_lines(), vec![expected], "{args:?}");
        assert_eq!(applied_names(db).await, names, "{args:?}");
        assert!(
            catalog(db).await.diff(&before, true).is_empty(),
            "{args:?} changed the catalog"
        );
    }
}

/// The Sketch2BIM migrations this binary does not know: every one but the
/// first, whose name both histories share.
fn later() -> String {
    let ask = migrations().names();
    Migrations::of::<sketch2bim_migration::Migrator>()
        .names()
        .into_iter()
        .filter(|name| !ask.contains(name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn ask_fresh_on_a_migrated_sketch2bim_database_needs_yes(#[case] backend: Backend) {
    let (test_db, db) = sketch2bim_database(backend, Goal::All).await;
    let url = test_db.url();
    let later = later();
    refused(
        &db,
        url,
        &[&["fresh"]],
        &format!(
            "error: fresh would drop every table of a database whose history is not this \
             binary's (it records {later} unknown to this binary); run it again with --yes if \
             that is what you want"
        ),
    )
    .await;
    refused(
        &db,
        url,
        &[
            &["up"],
            &["down"],
            &["reset"],
            &["refresh"],
            &["reset", "--yes"],
        ],
        // It records names ASK's binary does not have, and lacks ASK's
        // tables: another migrator's history, said as such.
        "error: this database's history belongs to another migrator: it records \
         m001_initial_schema but has no table groq_usage, which this binary's \
         m001_initial_schema creates; check the database URL; nothing was changed",
    )
    .await;
}

#[tokio::test]
async fn a_sketch2bim_database_at_its_first_migration_is_another_history() {
    let (test_db, db) = sketch2bim_database(Backend::Postgres, Goal::Steps(1)).await;
    let url = test_db.url();
    // Both histories start with m001_initial_schema: the catalog tells them apart.
    refused(
        &db,
        url,
        &[
            &["down"],
            &["reset"],
            &["refresh"],
            // At head for ASK: its m001 renders differently from the one
            // recorded, which tells another migrator's history apart.
            &["up"],
            &["verify"],
            &["repair"],
        ],
        "error: this database's history belongs to another migrator: it records \
         m001_initial_schema but has no table groq_usage, which this binary's \
         m001_initial_schema creates; check the database URL; nothing was changed",
    )
    .await;
    refused(
        &db,
        url,
        &[&["fresh"]],
        "error: fresh would drop every table of a database whose history is not this \
         binary's (it records m001_initial_schema but has no table groq_usage: another \
         migrator's); run it again with --yes if that is what you want",
    )
    .await;
    let dir = WorkDir::new();
    assert_eq!(applied_names(&db).await, vec!["m001_initial_schema"]);
    // --yes rebuilds it as an ASK database: the one a fresh `up` builds.
    cli(BIN, &dir, url, &["fresh", "--yes"]).ok();
    assert_eq!(applied_names(&db).await, migrations().names());
    let tables: Vec<String> = catalog(&db).await.column_names().into_keys().collect();
    for table in ["groq_usage", "payments", "users"] {
        assert!(tables.iter().any(|t| t == table), "{tables:?}");
    }
    let ask = TestDb::postgres().await;
    cli(BIN, &dir, ask.url(), &["up"]).ok();
    let diff = catalog(&db)
        .await
        .diff(&catalog(&ask.connect().await).await, true);
    assert!(diff.is_empty(), "{diff:#?}");
}
