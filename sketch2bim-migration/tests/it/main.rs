//! The Sketch2BIM migration history on real databases.

mod adopt;
mod batching;
mod busy;
mod check;
mod checksum;
mod cli;
mod concurrency;
mod data;
mod embed;
mod head;
mod history;
mod hostile;
mod lock;
mod lock_safe;
mod nontx;
mod outside_transaction;
mod pooler;

use migration_core::runner::History;
use std::sync::OnceLock;
use test_support::migrations::Migrations;

/// A row of every Sketch2BIM table, read through the entities.
fn read_back(db: &sea_orm::DatabaseConnection) -> test_support::walk::Reading<'_> {
    Box::pin(entities::sketch2bim::tables_without_rows(db))
}

fn history() -> History {
    History::of::<sketch2bim_migration::Migrator>()
}

/// The Sketch2BIM migrations, as every test here counts and names them.
fn migrations() -> &'static Migrations {
    static MIGRATIONS: OnceLock<Migrations> = OnceLock::new();
    MIGRATIONS.get_or_init(Migrations::of::<sketch2bim_migration::Migrator>)
}

#[tokio::test]
async fn postgres_walk_matches_alembic_at_every_step() {
    test_support::walk::postgres_walk("sketch2bim", &history(), read_back).await;
}

#[tokio::test]
async fn sqlite_walk_matches_postgres_and_every_down_is_the_inverse() {
    test_support::walk::sqlite_walk("sketch2bim", &history(), read_back).await;
}

#[tokio::test]
async fn schema_file_is_what_the_migrations_build() {
    test_support::schema_file::check(env!("CARGO_BIN_EXE_sketch2bim-migration"), "sketch2bim")
        .await;
}

/// Every migration passes `lint` (squawk's rules and the migrator's own), a
/// migration that shipped through the allowances written in it; `lint`
/// lists those and exits 0.
#[tokio::test]
async fn lint_passes_the_whole_history() {
    let history = history();
    let options = migration_core::lint::LintOptions::default();
    let report = migration_core::lint::lint(&history, &options)
        .await
        .expect("lint renders every migration");
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(migration_core::lint::describe)
        .collect();
    assert!(findings.is_empty(), "lint finds:\n{}", findings.join("\n"));
    assert_eq!(report.migrations, history.names().len());

    let dir = test_support::cli::WorkDir::new();
    let lint = test_support::cli::run(
        env!("CARGO_BIN_EXE_sketch2bim-migration"),
        dir.path(),
        &[],
        &["lint"],
    )
    .ok();
    let allowed: Vec<String> = report
        .allowed
        .iter()
        .map(|a| {
            format!(
                "allowed: {} ({})",
                migration_core::lint::describe(&a.finding),
                a.reason
            )
        })
        .collect();
    assert_eq!(lint.stdout_lines(), allowed);
    assert_eq!(
        lint.stderr,
        format!(
            "sketch2bim: linted {} for PostgreSQL 15: 0 findings, {} allowed\n",
            match history.names().len() {
                1 => "1 migration".to_owned(),
                n => format!("{n} migrations"),
            },
            report.allowed.len()
        )
    );
}
