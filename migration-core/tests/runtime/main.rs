//! The runtime an application embeds, on real PostgreSQL and SQLite, with
//! the fixture migrator of `tests/fixture` (declared with `migrator!`, as
//! the ASK and Sketch2BIM migrators are): each test on a database of its
//! own.

#[path = "../fixture/mod.rs"]
mod fixture;

mod concurrency;
mod lifecycle;
mod outside;
mod refusals;
mod startup;

use migration_core::runner::History;
use sea_orm::DatabaseConnection;
use test_support::TestDb;

/// The fixture's migrations, oldest first.
const NAMES: [&str; 4] = [
    "m001_create_notes",
    "m002_add_pinned_to_notes",
    "m003_index_notes_pinned",
    "m004_rename_body_to_content",
];

/// The oldest `n` migrations, owned, as reports and the bookkeeping table
/// list them.
fn first(n: usize) -> Vec<String> {
    NAMES[..n].iter().map(|n| (*n).to_owned()).collect()
}

fn history() -> History {
    History::of::<fixture::Migrator>()
}

/// An error as the CLI prints it, one line.
fn line(e: &migration_core::Error) -> String {
    migration_core::one_line(e, &[])
}

/// A pool on `url` as an application opens one: its own options, no
/// statement logging.
async fn connect(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(4);
    sea_orm::Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url} failed: {e}"))
}

/// `test_db` with every fixture migration applied, and a pool on it.
async fn at_head(test_db: &TestDb) -> DatabaseConnection {
    let db = test_db.connect().await;
    let report = migration_core::runner::up(
        &db,
        &history(),
        &migration_core::runner::Goal::All,
        &migration_core::runner::RunOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    assert_eq!(report.steps.len(), NAMES.len());
    db
}

/// A migrator with the fixture's database and the migrations `$migrations`
/// (an expression): an older or edited build of the fixture.
macro_rules! variant {
    ($(#[$meta:meta])* $name:ident, $migrations:expr) => {
        $(#[$meta])*
        struct $name;

        #[sea_orm_migration::async_trait::async_trait]
        impl sea_orm_migration::MigratorTrait for $name {
            fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
                $migrations
            }
        }

        impl migration_core::Described for $name {
            const DATABASE: migration_core::Database = crate::fixture::DATABASE;

            fn summaries() -> Vec<(&'static str, &'static str)> {
                Vec::new()
            }
        }
    };
}
pub(crate) use variant;
