//! The ASK migration history on real databases.

mod cli;
mod history;

use migration_core::runner::History;
use std::sync::OnceLock;
use test_support::migrations::Migrations;

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
    test_support::walk::postgres_walk("ask", &history()).await;
}

#[tokio::test]
async fn sqlite_walk_matches_postgres_and_every_down_is_the_inverse() {
    test_support::walk::sqlite_walk("ask", &history()).await;
}

#[tokio::test]
async fn schema_file_is_what_the_migrations_build() {
    test_support::schema_file::check(env!("CARGO_BIN_EXE_ask-migration"), "ask").await;
}
