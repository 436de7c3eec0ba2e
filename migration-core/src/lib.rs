//! What the ASK and Sketch2BIM migrators do the same way.
//!
//! Each migrator crate lists its migrations (a [`sea_orm_migration::MigratorTrait`])
//! and describes its database with a [`Database`]; everything else lives here,
//! so the CLI and the applications that embed the migrator run the same code:
//!
//! The runtime, which an application that embeds a migrator links:
//!
//! - [`target`]: which database, from which setting, shown without its password;
//! - [`runner`]: the operations, each under the lock, built from
//!   [`history`] (the migrations and the checks of what is recorded),
//!   [`state`] (what is recorded), [`plan`] (what a run does, pure), `step`
//!   (one migration in one transaction with its bookkeeping row),
//!   `bookkeeping` (the bookkeeping table's SQL) and `backend` (what differs
//!   between PostgreSQL and SQLite);
//! - [`lock`]: one run at a time per database;
//! - [`lock_wait`]: bounded lock waits on busy tables, and who blocks them;
//! - [`adopt`]: taking over databases the Alembic migrator built;
//! - [`checksum`]: whether an applied migration was edited since, and
//!   [`edited`]: `up` and `down` refuse to run over one;
//! - `outside`: a migration run outside a transaction, with a lock wait;
//! - [`catalog`]: what a database's catalog says about its schema, typed;
//! - [`sql`]: how the migrator sends its own statements (safe behind a
//!   transaction-pooling proxy);
//! - [`startup`] and [`embed`]: the startup API and the `MigratorTrait` calls.
//!
//! Behind the `tooling` feature: [`dry_run`], [`check`], [`schema`] and the
//! migration generator; behind `cli` (which implies `tooling`): `cli`, the
//! command line both binaries share.

pub mod adopt;
#[cfg(feature = "tooling")]
mod autogen;
mod backend;
mod bookkeeping;
pub mod catalog;
#[cfg(feature = "tooling")]
pub mod check;
pub mod checksum;
#[cfg(feature = "cli")]
pub mod cli;
mod default_expr;
#[cfg(feature = "tooling")]
pub mod dry_run;
pub mod edited;
pub mod embed;
mod error;
mod escape;
#[cfg(feature = "tooling")]
mod generate;
mod guard;
pub mod history;
pub mod layout;
#[cfg(feature = "tooling")]
pub mod lint;
pub mod lock;
pub mod lock_safe;
pub mod lock_wait;
mod mask;
mod outside;
pub mod plan;
mod record;
mod rt;
pub mod runner;
#[cfg(feature = "tooling")]
pub mod schema;
pub mod sql;
pub mod startup;
pub mod state;
mod step;
mod stop;
pub mod target;

pub use error::{Error, LockWaitFailure};
pub use escape::escape;
pub use mask::{describe_db_err, one_line};

#[doc(hidden)]
pub mod __private {
    pub use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
    pub use sea_orm_migration::IntoSchemaManagerConnection;
    pub use sea_orm_migration::async_trait;
    pub use sea_orm_migration::{MigrationTrait, MigratorTrait};
}

/// A migrator that knows its database and can say what each of its
/// migrations does. Declared with [`migrator!`].
pub trait Described: sea_orm_migration::MigratorTrait {
    /// The database this history migrates.
    const DATABASE: Database;

    /// `(name, leading doc paragraph)` per migration, oldest first.
    fn summaries() -> Vec<(&'static str, &'static str)>;

    /// `(name, source file)` per migration, oldest first (`lint` reads the
    /// allowances written there).
    fn sources() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// The leading `//!` paragraph of a migration's source, as written: what the
/// migration does.
pub fn summary_of(source: &str) -> &str {
    let start = source.find("//!").unwrap_or(source.len());
    let mut end = start;
    for line in source[start..].split_inclusive('\n') {
        let text = line.trim();
        if !text.starts_with("//!") || text == "//!" {
            break;
        }
        end += line.len();
    }
    source[start..end].trim_end()
}

/// A `//!` paragraph joined into one line.
pub fn one_line_doc(doc: &str) -> String {
    doc.lines()
        .map(|l| l.trim().trim_start_matches("//!").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_is_the_leading_doc_paragraph_in_one_line() {
        let source = "//! Adds `x`\n//! to jobs.\n//!\n//! More.\nuse a;\n";
        let doc = super::summary_of(source);
        assert_eq!(doc, "//! Adds `x`\n//! to jobs.");
        assert_eq!(super::one_line_doc(doc), "Adds `x` to jobs.");
        assert_eq!(super::summary_of("use a;\n"), "");
    }
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
                    $crate::summary_of(include_str!(concat!(
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
            let problems = $crate::layout::problems(
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
        ) -> ::std::result::Result<$crate::startup::StartupReport, $crate::Error> {
            $crate::startup::migrate_on_startup::<$name>(db).await
        }

        /// The newest applied migration (one SELECT; `None` on an empty
        /// database), for health checks.
        pub async fn current(
            db: &$crate::__private::DatabaseConnection,
        ) -> ::std::result::Result<::std::option::Option<::std::string::String>, $crate::Error> {
            $crate::startup::current::<$name>(db).await
        }

        /// The migrations not yet applied, oldest first (one SELECT).
        pub async fn pending(
            db: &$crate::__private::DatabaseConnection,
        ) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, $crate::Error> {
            $crate::startup::pending::<$name>(db).await
        }

        /// The newest migration this build knows.
        pub fn head() -> &'static str {
            $crate::startup::head::<$name>().unwrap_or("none")
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

/// How one of the platform's databases is named and found.
#[derive(Debug, Clone, Copy)]
pub struct Database {
    /// Short lowercase name, used in messages: `sketch2bim`.
    pub name: &'static str,
    /// Name for people: `Sketch2BIM`.
    pub title: &'static str,
    /// The environment variable naming this database's URL: `SKETCH2BIM_DATABASE_URL`.
    pub url_env: &'static str,
    /// SQLite file used, in the working directory, when no URL is configured.
    pub default_sqlite_file: &'static str,
    /// The migrator crate's directory, where `generate` writes new migrations.
    pub crate_dir: &'static str,
    /// How many revisions the Alembic migrator this history replaces had:
    /// migrations 1..=N are its revisions '001'… (0 for a history that
    /// replaces none). A database stamped with a later revision is refused
    /// however many migrations came after.
    pub alembic_revisions: usize,
}

/// `850 µs`, `12 ms`, `1.25 s`.
pub fn fmt_duration(d: std::time::Duration) -> String {
    let micros = d.as_micros();
    if micros < 1000 {
        format!("{micros} µs")
    } else if micros < 10_000_000 {
        format!("{} ms", micros / 1000)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}
