//! The ASK binary given a Sketch2BIM database: refused before anything runs,
//! destructive commands included, on the loopback server.

use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::DatabaseConnection;
use test_support::cli::{WorkDir, cli};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_ask-migration");

/// A Sketch2BIM database with `steps` migrations, built by its runner.
async fn sketch2bim_database(backend: Backend, steps: u32) -> (TestDb, DatabaseConnection) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    runner::up(
        &db,
        &History::of::<sketch2bim_migration::Migrator>(),
        &Goal::Steps(steps),
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

const LATER: &str = "m002_add_legend_to_jobs, m003_add_batch_id_to_jobs, \
                     m004_add_iterations_variations_referrals, m005_add_sketchup_url, \
                     m006_remove_api_keys, m007_add_subscription_expires_at, \
                     m008_add_subscription_fields, m009_add_project_type_to_jobs, \
                     m010_remove_reader_type_column";

async fn a_migrated_sketch2bim_database(backend: Backend) {
    let (test_db, db) = sketch2bim_database(backend, 10).await;
    let url = test_db.url();
    refused(
        &db,
        url,
        &[&["fresh"]],
        &format!(
            "error: fresh would drop every table of a database whose history is not this \
             binary's (it records {LATER} unknown to this binary); run it again with --yes if \
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
        &format!(
            "error: the database is ahead of this binary: it records {LATER} unknown to it; \
             deploy a binary that has them"
        ),
    )
    .await;
}

#[tokio::test]
async fn ask_fresh_on_a_migrated_sketch2bim_database_needs_yes_on_postgres() {
    a_migrated_sketch2bim_database(Backend::Postgres).await;
}

#[tokio::test]
async fn ask_fresh_on_a_migrated_sketch2bim_database_needs_yes_on_sqlite() {
    a_migrated_sketch2bim_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_sketch2bim_database_at_its_first_migration_is_another_history() {
    let (test_db, db) = sketch2bim_database(Backend::Postgres, 1).await;
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
    // --yes rebuilds it as an ASK database.
    cli(BIN, &dir, url, &["fresh", "--yes"]).ok();
    assert_eq!(applied_names(&db).await, vec!["m001_initial_schema"]);
    let tables: Vec<String> = catalog(&db).await.column_names().into_keys().collect();
    assert_eq!(tables, vec!["groq_usage", "payments", "users"]);
}
