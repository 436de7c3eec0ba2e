//! The ASK migration history on real databases.

mod cli;
mod history;

use migration_core::runner::History;
use std::sync::OnceLock;
use test_support::migrations::Migrations;

/// A row of every ASK table, read through the entities.
fn read_back(db: &sea_orm::DatabaseConnection) -> test_support::walk::Reading<'_> {
    Box::pin(entities::ask::tables_without_rows(db))
}

fn history() -> History {
    History::of::<ask_migration::Migrator>()
}

/// The ASK migrations, as every test here counts and names them.
fn migrations() -> &'static Migrations {
    static MIGRATIONS: OnceLock<Migrations> = OnceLock::new();
    MIGRATIONS.get_or_init(Migrations::of::<ask_migration::Migrator>)
}

#[tokio::test]
async fn postgres_walk_matches_alembic_at_every_step() {
    test_support::walk::postgres_walk("ask", &history(), read_back).await;
}

#[tokio::test]
async fn sqlite_walk_matches_postgres_and_every_down_is_the_inverse() {
    test_support::walk::sqlite_walk("ask", &history(), read_back).await;
}

#[tokio::test]
async fn schema_file_is_what_the_migrations_build() {
    test_support::schema_file::check(env!("CARGO_BIN_EXE_ask-migration"), "ask").await;
}

/// Every migration passes `lint`, a shipped one through its allowances.
#[tokio::test]
async fn lint_passes_the_whole_history() {
    test_support::lint::assert_history_lints_clean(
        env!("CARGO_BIN_EXE_ask-migration"),
        "ask",
        &history(),
    )
    .await;
}
