//! Migrating at application startup, for apps that embed a migrator.
//!
//! ```ignore
//! let db = sea_orm::Database::connect(&url).await?;
//! let report = sketch2bim_migration::migrate_on_startup(&db).await?;
//! tracing::info!("{report}");
//! ```
//!
//! Pending migrations are applied unless `AUTO_RUN_MIGRATIONS` says not to
//! (`false`, `0`, `no`, `off`; `true`, `1`, `yes`, `on` or unset run them; any
//! other value is an error, so a typo never silently skips migrations). The
//! run takes the migration lock, so replicas starting together migrate once.
//! At head it costs one SELECT. `MIGRATION_LOCK_WAIT` (`500ms`, `2s`, `0` for
//! no bound; 2 s by default) bounds how long a migration queues the
//! application's queries behind it on a busy table; an invalid value is an
//! error. An applied migration edited since it was applied stops the run
//! unless `MIGRATION_ALLOW_EDITED=1` ([`crate::ops::edited`]).

use sea_orm::DatabaseConnection;

use crate::ops::runner::{self, Goal, History, RunOptions};
use crate::{Described, Error};

/// The environment variable that turns startup migration off.
pub const AUTO_RUN_ENV: &str = "AUTO_RUN_MIGRATIONS";

/// Whether to migrate at startup, from `AUTO_RUN_MIGRATIONS`.
pub fn auto_run_from_env() -> Result<bool, Error> {
    parse_auto_run(std::env::var(AUTO_RUN_ENV).ok().as_deref())
}

/// `None` (unset) and the usual spellings of true run migrations; the usual
/// spellings of false do not; anything else is an error.
pub fn parse_auto_run(value: Option<&str>) -> Result<bool, Error> {
    let Some(value) = value else {
        return Ok(true);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::InvalidSetting {
            name: AUTO_RUN_ENV,
            value: value.to_owned(),
            expected: "one of true, false, 1, 0, yes, no, on or off",
        }),
    }
}

/// What startup migration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupReport {
    /// `sketch2bim` or `ask`.
    pub database: &'static str,
    /// Whether migrations were run (`AUTO_RUN_MIGRATIONS`).
    pub auto_run: bool,
    /// Migrations applied by this call, oldest first.
    pub applied: Vec<String>,
    /// Newest applied migration afterwards.
    pub current: Option<String>,
    /// Newest migration the binary has.
    pub head: Option<String>,
    /// Migrations still pending afterwards.
    pub pending: Vec<String>,
    /// The Alembic revision adopted by this call, if it did.
    pub adopted: Option<String>,
    /// Applied migrations edited since they were applied, when
    /// `MIGRATION_ALLOW_EDITED` let the run go on (each also logged as a
    /// warning; see [`crate::ops::edited`]).
    pub edited: Vec<String>,
}

impl std::fmt::Display for StartupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.current.as_deref().unwrap_or("no migration");
        if !self.auto_run {
            write!(
                f,
                "{}: migrations not run ({AUTO_RUN_ENV}=false); at {at}, {} pending",
                self.database,
                self.pending.len()
            )
        } else {
            write!(f, "{}: ", self.database)?;
            if let Some(revision) = &self.adopted {
                write!(f, "adopted Alembic revision {revision}; ")?;
            }
            if self.applied.is_empty() {
                write!(f, "up to date at {at}")?;
            } else {
                write!(f, "applied {}; at {at}", self.applied.join(", "))?;
            }
            if !self.edited.is_empty() {
                write!(
                    f,
                    "; edited since applied: {} (review, then run repair)",
                    self.edited.join(", ")
                )?;
            }
            Ok(())
        }
    }
}

/// Runs the pending migrations of `M` on `db` unless `AUTO_RUN_MIGRATIONS`
/// turns that off, each statement waiting at most `MIGRATION_LOCK_WAIT`
/// (2 s by default) for a busy table's lock before its migration is rolled
/// back and retried (see [`crate::backend::postgres::lock_wait`]).
pub async fn migrate_on_startup<M: Described>(
    db: &DatabaseConnection,
) -> Result<StartupReport, Error> {
    let auto_run = auto_run_from_env()?;
    let options = RunOptions {
        lock_wait: crate::backend::postgres::lock_wait::lock_wait_from_env()?,
        allow_edited: crate::ops::edited::allow_edited_from_env()?,
        ..RunOptions::default()
    };
    migrate_with::<M>(db, auto_run, &options).await
}

/// As [`migrate_on_startup`], with the decision and options given.
pub async fn migrate_with<M: Described>(
    db: &DatabaseConnection,
    auto_run: bool,
    options: &RunOptions,
) -> Result<StartupReport, Error> {
    let history = History::of::<M>();
    let report = if auto_run {
        runner::up(db, &history, &Goal::All, options).await?
    } else {
        runner::status(db, &history).await?
    };
    Ok(StartupReport {
        database: M::DATABASE.name,
        auto_run,
        applied: report.steps.into_iter().map(|s| s.name).collect(),
        current: report.current,
        head: report.head,
        pending: report.pending,
        adopted: report.adopted,
        edited: report.edited,
    })
}

/// The newest applied migration of `M` on `db` (one SELECT), for health checks.
pub async fn current<M: Described>(db: &DatabaseConnection) -> Result<Option<String>, Error> {
    let history = History::of::<M>();
    Ok(runner::read_state(db, &history)
        .await?
        .current()
        .map(str::to_owned))
}

/// Migrations of `M` not yet applied on `db` (one SELECT), for health checks.
pub async fn pending<M: Described>(db: &DatabaseConnection) -> Result<Vec<String>, Error> {
    let history = History::of::<M>();
    let state = runner::read_state(db, &history).await?;
    Ok(state
        .pending(&history)
        .into_iter()
        .map(str::to_owned)
        .collect())
}

/// The newest migration `M` has.
pub fn head<M: Described>() -> Option<&'static str> {
    M::summaries().last().map(|(name, _)| *name)
}
