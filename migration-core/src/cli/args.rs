//! The command line's commands and flags, as clap parses them.

use clap::{Parser, Subcommand, ValueEnum};
use std::time::Duration;

use crate::Error;

/// The longest `--wait-budget`: PostgreSQL's `lock_timeout` takes at most
/// 2^31-1 ms, and no run should wait for another longer than a day.
const MAX_WAIT_BUDGET_SECONDS: u64 = 86_400;

#[derive(Debug, Parser)]
#[command(
    about = "Migrates the database: applies, rolls back and reports its migrations",
    version,
    disable_help_subcommand = true
)]
pub(super) struct Cli {
    /// Database URL (postgres://… or sqlite://…). Default: the database's own
    /// URL variable, then DATABASE_URL, then a .env file, then a SQLite file in
    /// the working directory. A password given here is visible to other users
    /// of the machine (ps shows the command line): put it in the environment
    /// or .env instead.
    #[arg(short = 'u', long = "database-url", global = true, value_name = "URL")]
    pub(super) database_url: Option<String>,

    /// PostgreSQL schema to migrate: the bookkeeping and the migrations'
    /// tables live there, whatever search path the database or role sets.
    /// Default: public.
    #[arg(
        short = 's',
        long = "database-schema",
        global = true,
        value_name = "SCHEMA",
        value_parser = parse_schema
    )]
    pub(super) database_schema: Option<String>,

    /// How long the run may wait in all, in seconds: for another run's
    /// migration lock, and for busy tables' locks across every retry of a
    /// migration. From 1 to 86400 (a day). Formerly --lock-timeout.
    #[arg(
        long = "wait-budget",
        alias = "lock-timeout",
        global = true,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_BUDGET_SECONDS)
    )]
    pub(super) wait_budget: u64,

    /// PostgreSQL: how long one migration statement may wait for a table's
    /// lock (PostgreSQL's lock_timeout; the application's queries queue
    /// behind it) before the migration is rolled back and retried: 500ms,
    /// 2s, or 0 for no bound. Default: MIGRATION_LOCK_WAIT, else 2s.
    /// Formerly --lock-wait.
    #[arg(
        long = "table-lock-timeout",
        alias = "lock-wait",
        global = true,
        value_name = "DURATION",
        value_parser = parse_lock_wait
    )]
    pub(super) table_lock_timeout: Option<LockWait>,

    /// Also print every SQL statement sent.
    #[arg(short = 'v', long, global = true)]
    pub(super) verbose: bool,

    /// MIGRATION_ALLOW_EDITED, read once parsed.
    #[arg(skip)]
    pub(super) allow_edited_env: bool,

    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Apply pending migrations (all by default)
    Up {
        /// Apply at most N migrations
        #[arg(short = 'n', long = "num", value_name = "N", conflicts_with = "to")]
        num: Option<u32>,
        /// Apply pending migrations up to and including NAME
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// Print the SQL the run would execute, and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Run even though an applied migration was edited since it was
        /// applied, warning about each (also MIGRATION_ALLOW_EDITED=1)
        #[arg(long)]
        allow_edited: bool,
    },
    /// Roll back applied migrations (one by default)
    Down {
        /// Roll back N migrations
        #[arg(short = 'n', long = "num", value_name = "N", conflicts_with = "to")]
        num: Option<u32>,
        /// Roll back until NAME is the newest applied migration (NAME stays applied)
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// Print the SQL the run would execute, and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Allow rolling back more than one migration on a remote server
        #[arg(long)]
        yes: bool,
        /// Run even though an applied migration was edited since it was
        /// applied, warning about each (also MIGRATION_ALLOW_EDITED=1)
        #[arg(long)]
        allow_edited: bool,
    },
    /// List every migration, applied or pending
    Status {
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the newest applied migration, or `none`
    Current,
    /// List every migration in order with what it does
    History,
    /// Drop every table, then apply every migration
    Fresh {
        /// Allow this on a remote server
        #[arg(long)]
        yes: bool,
    },
    /// Roll back every applied migration, then apply every migration
    Refresh {
        /// Allow this on a remote server
        #[arg(long)]
        yes: bool,
    },
    /// Roll back every applied migration
    Reset {
        /// Allow this on a remote server
        #[arg(long)]
        yes: bool,
    },
    /// Take over a database the Alembic migrator built: record its revision's
    /// migrations as applied (up does this by itself). With --at, baseline a
    /// database that has a migration's schema but no record of it
    Adopt {
        /// Baseline a database without alembic_version or recorded
        /// migrations: record the migrations up to and including NAME,
        /// after checking that its schema is what they build
        #[arg(long, value_name = "NAME")]
        at: Option<String>,
        /// Take the database over even where its schema differs from what
        /// the recorded migrations build, printing every difference accepted
        #[arg(long)]
        accept_differences: bool,
    },
    /// Drop the Alembic migrator's alembic_version table from an adopted database
    DropAlembicVersion,
    /// Compare each applied migration's recorded checksum with what this
    /// binary renders; exit 1 listing every migration edited since it was
    /// applied
    Verify,
    /// After reviewing the edits verify reports: record the checksums this
    /// binary renders for the applied migrations whose recorded ones differ
    /// or are missing
    Repair,
    /// Compare the database with the application's entities; exit 1 listing
    /// every difference
    Check,
    /// Check every migration's PostgreSQL statements for what locks busy
    /// tables (squawk's rules and the migrator's own); exit 1 listing every
    /// finding. Needs no database
    Lint {
        /// The PostgreSQL version the migrations run on
        #[arg(long, value_name = "VERSION", default_value = "15", value_parser = parse_pg_version)]
        pg_version: String,
    },
    /// Schema reference files
    Schema {
        #[command(subcommand)]
        action: SchemaCommand,
    },
    /// Write a new migration file and register it: empty, or with --autogenerate the changes that make the database match the entities
    Generate {
        /// What the migration does, in snake_case: add_notes_to_jobs
        name: String,
        /// The migrator crate to write into (default: the one this binary
        /// was built from)
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
        /// Write the changes from the database's schema to the entities'
        /// (the database must be at head)
        #[arg(long)]
        autogenerate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum SchemaCommand {
    /// Print the database's schema as SQL that recreates it (PostgreSQL)
    Dump {
        /// Write to FILE instead of stdout
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Regenerate the schema file: apply every migration to a scratch schema
    /// in the database (PostgreSQL; created and dropped again), and write
    /// its dump to schemas/<database>_schema.sql
    Update {
        /// Write to FILE instead of the workspace's schema file
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Format {
    Text,
    Json,
}

/// `--table-lock-timeout`: `None` inside means no bound.
#[derive(Debug, Clone, Copy)]
pub(super) struct LockWait(pub(super) Option<Duration>);

fn parse_lock_wait(value: &str) -> Result<LockWait, String> {
    crate::backend::postgres::lock_wait::parse_lock_wait("--table-lock-timeout", value)
        .map(LockWait)
        .map_err(|e| match e {
            Error::InvalidSetting { expected, .. } => format!("expected {expected}"),
            other => other.to_string(),
        })
}

/// `--pg-version`: a version squawk reads (`15`, `15.4`); a bad one is a
/// usage error.
fn parse_pg_version(value: &str) -> Result<String, String> {
    crate::tooling::lint::check_pg_version(value).map(|()| value.to_owned())
}

/// The schema name's form; an empty one (`-s ''`) is refused when connecting.
fn parse_schema(schema: &str) -> Result<String, String> {
    if !schema.is_empty() {
        crate::target::check_schema_name(schema)?;
    }
    Ok(schema.to_owned())
}
