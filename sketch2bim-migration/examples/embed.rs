//! The embedding example of `docs/embedding.md`: an application's `main` migrating its
//! database before it serves.
//!
//! ```sh
//! SKETCH2BIM_DATABASE_URL=postgres://… cargo run -p sketch2bim-migration --example embed
//! ```

use sea_orm_migration::MigratorTrait;
use sketch2bim_migration::Migrator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = sea_orm::Database::connect(&std::env::var("SKETCH2BIM_DATABASE_URL")?).await?;

    // As SeaORM's documentation writes it, and guarded: under the migration
    // lock (replicas starting together migrate once), adopting a database
    // the Alembic migrator built, one transaction per migration, refusing a
    // database ahead of this binary. At head it costs one SELECT.
    Migrator::up(&db, None).await?;

    // Or, to honour AUTO_RUN_MIGRATIONS=false and get a report of what was
    // done (the same runner, the same guarantees):
    let report = sketch2bim_migration::migrate_on_startup(&db).await?;
    println!("{report}"); // sketch2bim: up to date at m010_remove_reader_type_column

    Ok(())
}
