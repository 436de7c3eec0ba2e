//! The Sketch2BIM migration history on real databases.

mod adopt;
mod adopt_baseline;
mod batching;
mod boot;
mod busy;
mod check;
mod checksum;
mod checksum_edits;
mod checksum_recording;
mod cli_commands;
mod cli_connection;
mod cli_database_url;
mod cli_generate;
mod cli_refusals;
mod cli_usage;
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

/// Every migration passes `lint`, a shipped one through its allowances.
#[tokio::test]
async fn lint_passes_the_whole_history() {
    test_support::lint::assert_history_lints_clean(
        env!("CARGO_BIN_EXE_sketch2bim-migration"),
        "sketch2bim",
        &history(),
    )
    .await;
}
