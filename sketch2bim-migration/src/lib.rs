//! Migration history of the Sketch2BIM database (the sketch-to-BIM conversion
//! service), and its migrator binary.
//!
//! The names below are stored in the database's `seaql_migrations` table and
//! match the revisions '001' … '010' of the Alembic history this replaces: they
//! never change. A schema change is a new migration appended to the list.

pub use sea_orm_migration::prelude::*;

/// The Sketch2BIM database as the shared CLI and runner know it.
pub const DATABASE: migration_core::Database = migration_core::Database {
    name: "sketch2bim",
    title: "Sketch2BIM",
    url_env: "SKETCH2BIM_DATABASE_URL",
    default_sqlite_file: "sketch2bim.sqlite",
    crate_dir: env!("CARGO_MANIFEST_DIR"),
    alembic_revisions: 10,
};

migration_core::migrator! {
    /// The Sketch2BIM migrations, oldest first.
    pub struct Migrator;
    database: DATABASE;
    m001_initial_schema,
    m002_add_legend_to_jobs,
    m003_add_batch_id_to_jobs,
    m004_add_iterations_variations_referrals,
    m005_add_sketchup_url,
    m006_remove_api_keys,
    m007_add_subscription_expires_at,
    m008_add_subscription_fields,
    m009_add_project_type_to_jobs,
    m010_remove_reader_type_column,
}
