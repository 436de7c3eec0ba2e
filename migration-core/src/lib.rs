//! What the ASK and Sketch2BIM migrators do the same way.
//!
//! Each migrator crate lists its migrations with [`migrator!`] and describes
//! its database with a [`Database`]; everything else lives here, so the CLI
//! and the applications that embed a migrator run the same code.
//!
//! The crate is a stack of layers, each using only the ones below it
//! (`docs/ARCHITECTURE.md` draws it; a test keeps it so):
//!
//! 1. `model`: plain data and errors ([`Error`], [`Database`]);
//! 2. `pure`: the history, plans, checksums, the bookkeeping table's
//!    statements and the statements of one step, all without a database;
//! 3. `backend`: what PostgreSQL and SQLite each do their own way (locks,
//!    lock waits, transport, catalog reads, their drivers' error codes), one
//!    folder per backend;
//! 4. `ops`: the operations ([`runner`]), each under the migration lock;
//! 5. the embedding API: [`startup`], [`embed`] (what [`migrator!`]'s
//!    `MigratorTrait` calls), [`target`] (which database) and [`lock_safe`]
//!    (helpers for migrations on busy tables);
//! 6. behind the `tooling` feature: [`dry_run`], [`check`], [`schema`],
//!    [`lint`] and the migration generator;
//! 7. behind `cli` (which implies `tooling`): [`cli`], the command line both
//!    binaries share.

mod backend;
mod model;
mod ops;
mod pure;

pub mod embed;
pub mod lock_safe;
pub mod target;

#[cfg(feature = "tooling")]
mod tooling;

#[cfg(feature = "cli")]
pub mod cli;

pub use embed::startup;
pub use model::database::{Database, Described};
pub use model::error::{Error, LockWaitFailure};
pub use model::escape::escape;
pub use model::redact::{describe_db_err, one_line};
pub use model::stop::request as request_stop;
pub use model::text::fmt_duration;
pub use pure::catalog;
pub use pure::checksum;
#[cfg(feature = "tooling")]
pub use tooling::{check, dry_run, lint, schema};

/// The operations an application or a migrator crate runs: `up`, `down`,
/// `status`, `adopt`, `repair`, `verify`…, and what they take and report.
pub mod runner {
    pub use crate::ops::runner::*;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::model::text::summary_of;
    pub use crate::pure::layout::problems as layout_problems;
    pub use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
    pub use sea_orm_migration::IntoSchemaManagerConnection;
    pub use sea_orm_migration::async_trait;
    pub use sea_orm_migration::{MigrationTrait, MigratorTrait};
}

/// Declares a migrator: a unit struct for a [`Database`], implementing
/// [`sea_orm_migration::MigratorTrait`] and [`Described`], and its migration
/// modules, oldest first (summaries come from the leading `//!` paragraph of each
/// migration file).
///
/// ```ignore
/// migration_core::migrator! {
///     /// The Sketch2BIM migrations, oldest first.
///     pub struct Migrator;
///     database: DATABASE;
///     m001_initial_schema,
///     m002_add_legend_to_jobs,
/// }
/// ```
///
/// `generate NAME` appends the new module to this list. The macro also adds a
/// test to the crate that checks the history as written ([`layout`]): names,
/// numbering, and that every `src/mNNN_*` file is registered.
///
/// The migration files are the crate's `src/mNNN_*.rs`. A migrator declared
/// elsewhere (a test's, under `tests/`) names their folder, relative to the
/// crate's directory, after its database: `dir: "tests/fixture";`. Its
/// modules are then declared where the macro is invoked, so that module's
/// file must be in that folder.
#[macro_export]
macro_rules! migrator {
    ($(#[$meta:meta])* $vis:vis struct $name:ident; database: $db:path; dir: $dir:literal;
     $($m:ident),* $(,)?) => {
        $(mod $m;)*

        $(#[$meta])*
        $vis struct $name;

        #[$crate::__private::async_trait::async_trait]
        impl $crate::__private::MigratorTrait for $name {
            fn migrations() -> Vec<Box<dyn $crate::__private::MigrationTrait>> {
                vec![$(Box::new($m::Migration)),*]
            }

            // The calls an application makes go through the migrator's
            // runner, with every guarantee the CLI has (see `embed`).

            async fn up<'c, C>(
                db: C,
                steps: ::std::option::Option<u32>,
            ) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::IntoSchemaManagerConnection<'c>,
            {
                $crate::embed::up::<$name>(db.into_database_executor(), steps).await
            }

            async fn down<'c, C>(
                db: C,
                steps: ::std::option::Option<u32>,
            ) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::IntoSchemaManagerConnection<'c>,
            {
                $crate::embed::down::<$name>(db.into_database_executor(), steps).await
            }

            async fn fresh<'c, C>(db: C) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::IntoSchemaManagerConnection<'c>,
            {
                $crate::embed::fresh::<$name>(db.into_database_executor()).await
            }

            async fn refresh<'c, C>(db: C) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::IntoSchemaManagerConnection<'c>,
            {
                $crate::embed::refresh::<$name>(db.into_database_executor()).await
            }

            async fn reset<'c, C>(db: C) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::IntoSchemaManagerConnection<'c>,
            {
                $crate::embed::reset::<$name>(db.into_database_executor()).await
            }

            async fn status<C>(db: &C) -> ::std::result::Result<(), $crate::__private::DbErr>
            where
                C: $crate::__private::ConnectionTrait,
            {
                $crate::embed::status::<$name, C>(db).await
            }
        }

        impl $crate::Described for $name {
            const DATABASE: $crate::Database = $db;

            fn summaries() -> Vec<(&'static str, &'static str)> {
                vec![$((
                    stringify!($m),
                    $crate::__private::summary_of(include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", stringify!($m), ".rs"
                    ))),
                )),*]
            }

            fn sources() -> Vec<(&'static str, &'static str)> {
                vec![$((
                    stringify!($m),
                    include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", stringify!($m), ".rs"
                    )),
                )),*]
            }
        }

        /// The history as written: names, numbering and files (see
        /// `migration_core::layout`).
        #[cfg(test)]
        #[test]
        fn migration_history_is_numbered_and_registered() {
            let problems = $crate::__private::layout_problems(
                ::std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir)),
                &[$(stringify!($m)),*],
            );
            assert!(
                problems.is_empty(),
                "the migration history in {}/{} is not sound:\n{}",
                env!("CARGO_MANIFEST_DIR"),
                $dir,
                problems.join("\n")
            );
        }

        /// Runs this database's pending migrations at application startup,
        /// under the migration lock, unless `AUTO_RUN_MIGRATIONS` is `false`
        /// (or `0`, `no`, `off`). An unrecognised value is an error.
        pub async fn migrate_on_startup(
            db: &$crate::__private::DatabaseConnection,
        ) -> ::std::result::Result<$crate::embed::startup::StartupReport, $crate::Error> {
            $crate::embed::startup::migrate_on_startup::<$name>(db).await
        }

        /// The newest applied migration (one SELECT; `None` on an empty
        /// database), for health checks.
        pub async fn current(
            db: &$crate::__private::DatabaseConnection,
        ) -> ::std::result::Result<::std::option::Option<::std::string::String>, $crate::Error> {
            $crate::embed::startup::current::<$name>(db).await
        }

        /// The migrations not yet applied, oldest first (one SELECT).
        pub async fn pending(
            db: &$crate::__private::DatabaseConnection,
        ) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, $crate::Error> {
            $crate::embed::startup::pending::<$name>(db).await
        }

        /// The newest migration this build knows.
        pub fn head() -> &'static str {
            $crate::embed::startup::head::<$name>().unwrap_or("none")
        }
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident; database: $db:path; $($m:ident),* $(,)?) => {
        $crate::migrator! {
            $(#[$meta])*
            $vis struct $name;
            database: $db;
            dir: "src";
            $($m),*
        }
    };
}
