//! Migration history of the ASK database (the research tool), and its migrator
//! binary.
//!
//! The names below are stored in the database's `seaql_migrations` table and
//! match the revision '001' of the Alembic history this replaces: they never
//! change. A schema change is a new migration appended to the list.

pub use sea_orm_migration::prelude::*;

/// The ASK database as the shared CLI and runner know it.
pub const DATABASE: migration_core::Database = migration_core::Database {
    name: "ask",
    title: "ASK",
    url_env: "ASK_DATABASE_URL",
    default_sqlite_file: "ask.sqlite",
    crate_dir: env!("CARGO_MANIFEST_DIR"),
    alembic_revisions: 1,
};

migration_core::migrator! {
    /// The ASK migrations, oldest first.
    pub struct Migrator;
    database: DATABASE;
    m001_initial_schema,
}
