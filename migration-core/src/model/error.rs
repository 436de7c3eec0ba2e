//! Everything that can go wrong, as data: each variant names the migration,
//! setting or database at fault. Messages are lowercase without a final full
//! stop and never contain a password (URLs are redacted before they get here);
//! the underlying cause is in `source()`, not repeated in the message.

use sea_orm::DbErr;

mod display;

pub(crate) use display::{
    adopt_at_other_revision, already_recorded, dotenv_without_url, edited_history, foreign_missing,
    plural,
};
use display::{list, suggestions};

/// What a migrator run can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured URL cannot be parsed or names an unsupported database.
    #[error("invalid database URL from {origin}: {reason}")]
    InvalidUrl { origin: String, reason: String },

    /// A setting has a value that means nothing.
    #[error("invalid {name}={value:?}: expected {expected}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },

    /// The server could not be reached or refused the connection.
    #[error("cannot connect to {target}")]
    Connect {
        target: String,
        #[source]
        source: DbErr,
    },

    /// A migration's own statements failed; its transaction was rolled back.
    #[error("migration {name} failed while {action}")]
    Migration {
        name: String,
        action: &'static str,
        #[source]
        source: DbErr,
    },

    /// The database records migrations that this binary does not have.
    #[error("{}", display::ahead(names))]
    Ahead { names: Vec<String> },

    /// The database records migrations that this binary has under another
    /// number: renumbered after a merge, most likely.
    #[error("{}", display::renumbered(renumbered))]
    Renumbered {
        renumbered: Vec<crate::model::recorded::Renumbered>,
    },

    /// Two migrations of this binary have one number, and the database
    /// records the later one without the earlier.
    #[error(
        "{missing} is not recorded although {recorded}, which has the same number, is: two \
         migrations share one number (two branches merged?); renumber the one that no \
         database has applied yet (not {recorded}, which this database has) to follow the \
         last migration, and deploy a binary with that; nothing was changed"
    )]
    SameNumber { missing: String, recorded: String },

    /// The bookkeeping table records a migration more than once.
    #[error(
        "{table} records {} more than once (a table made without its primary key?); delete \
         the extra rows, keeping one per migration; nothing was changed",
        list(names)
    )]
    DuplicateRows { names: Vec<String>, table: String },

    /// Migrations are not recorded while a later one is: applying them would
    /// run their statements on a schema that already has them.
    #[error("{}", display::gap(missing, later, table))]
    Gap {
        missing: Vec<String>,
        later: String,
        table: String,
    },

    /// The database records this history's first migration but lacks tables
    /// that migration creates: it holds another migrator's history.
    #[error(
        "this database's history belongs to another migrator: it records {first} but has no \
         {}, which this binary's {first} creates; check the database URL; nothing was \
         changed",
        foreign_missing(missing, columns)
    )]
    Foreign {
        first: String,
        /// Tables of the signature that are missing.
        missing: Vec<String>,
        /// Columns of the signature (`table.column`) that are missing.
        columns: Vec<String>,
    },

    /// A command that drops data was asked of a database ahead of this binary
    /// or holding another history, without being told to go ahead.
    #[error(
        "{command} would drop every table of a database whose history is not this binary's \
         ({reason})"
    )]
    NotOurHistory {
        /// `fresh`, `Migrator::fresh`.
        command: &'static str,
        /// What the database records that this binary does not know.
        reason: String,
    },

    /// A command that changes the database was given an in-memory SQLite
    /// database, which is gone when the run ends.
    #[error(
        "{command} on the in-memory SQLite database {target} would keep nothing: it is gone \
         when the run ends; give a SQLite file, e.g. sqlite://{file}?mode=rwc"
    )]
    SqliteInMemory {
        command: &'static str,
        target: String,
        /// The database's default file, as an example.
        file: &'static str,
    },

    /// A command that changes the database was given a SQLite file that
    /// does not exist, by a URL that does not ask to create it.
    #[error(
        "cannot open the SQLite file {path}: it does not exist; add ?mode=rwc to the URL to \
         create it"
    )]
    SqliteMissing { path: String },

    /// Another run held the migration lock for longer than the timeout.
    #[error("timed out after {seconds} s waiting for the migration lock held by another run")]
    LockTimeout { seconds: u64 },

    /// The run's migration lock was lost (its connection ended, or no
    /// longer holds it): the run stopped before `before`.
    #[error(
        "lost the migration lock before {before}{}; the run stopped there and changed nothing \
         more",
        if source.is_some() { "" } else { " (its connection no longer holds it)" }
    )]
    LockLost {
        /// `applying m009_…`, `committing m009_… (rolled back)`.
        before: String,
        #[source]
        source: Option<DbErr>,
    },

    /// The run was asked to stop (SIGTERM, SIGINT) and did.
    #[error(
        "stopped by {signal}: {}nothing more was changed; the migration lock is released",
        match step {
            Some(name) => format!("{name} was cancelled and rolled back, none of it is applied; "),
            None => String::new(),
        }
    )]
    Stopped {
        signal: &'static str,
        step: Option<String>,
    },

    /// The bookkeeping table has a column of a type the migrator cannot
    /// read back (or lacks one it needs); refused before anything is written.
    #[error(
        "{table}.{column} is {found} where the migrator needs {expected}: fix it with `{fix}` \
         and run again; nothing was changed"
    )]
    BookkeepingColumn {
        table: String,
        column: String,
        /// `of type bytea`, `missing`.
        found: String,
        expected: &'static str,
        fix: String,
    },

    /// A migration's statements kept waiting longer than the lock wait for a
    /// lock that another transaction holds, until the run's wait budget
    /// was spent; every attempt was rolled back whole.
    #[error("{}", display::lock_wait(wait))]
    LockWait {
        wait: Box<LockWaitFailure>,
        #[source]
        source: DbErr,
    },

    /// A migration running outside a transaction failed: nothing is
    /// recorded, what its earlier statements did stays, and each INVALID
    /// index a failed concurrent build left is named with its fix.
    #[error(
        "migration {name} failed while {action}: {cause}; {}{}",
        display::OUTSIDE_LEFT,
        display::invalid_indexes(invalid)
    )]
    OutsideTransaction {
        name: String,
        action: &'static str,
        cause: String,
        /// INVALID indexes of the schema, quoted, after the failure.
        invalid: Vec<String>,
    },

    /// Applied migrations edited since they were applied, refused by `up`
    /// and `down` (see [`crate::ops::edited`]).
    #[error("{}", edited_history(edits, ""))]
    EditedHistory {
        /// `m003_x (applied as 000000000000, 2627a9378446 now)`.
        edits: Vec<String>,
    },

    /// A migration name given by the user is not in the history.
    #[error("unknown migration {name}{}", suggestions(closest))]
    UnknownMigration { name: String, closest: Vec<String> },

    /// Reading or writing the bookkeeping table (or another query of the
    /// runner itself) failed.
    #[error("{action} failed")]
    Database {
        action: String,
        #[source]
        source: DbErr,
    },

    /// The working directory's `.env` names no database URL: the default
    /// SQLite file is only for a directory without one.
    #[error("{}", dotenv_without_url(url_env, sqlite_file, ""))]
    DotEnvWithoutUrl {
        url_env: &'static str,
        sqlite_file: &'static str,
    },

    /// A file could not be read or written (`generate`).
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A database about to be adopted or baselined does not have the schema
    /// its recorded position says; nothing was changed.
    #[error(
        "not {verb}: the schema differs from {against} in {} (changed by hand?): {}; \
         nothing was changed",
        plural(differences.len(), "place"), differences.join("; ")
    )]
    SchemaDrift {
        /// `adopting` or `baselining`.
        verb: &'static str,
        /// `Alembic revision 005`, `m001_initial_schema … m005_add_sketchup_url`.
        against: String,
        /// One line per difference.
        differences: Vec<String>,
    },

    /// `adopt --at` names another position than the Alembic revision the
    /// database records.
    #[error("{}", adopt_at_other_revision(revision, recorded, asked, ""))]
    AdoptAtOtherRevision {
        revision: String,
        recorded: String,
        asked: String,
    },

    /// `adopt --at` on a database that already records its migrations.
    #[error("{}", already_recorded(current, display::BASELINE_RULE))]
    AlreadyRecorded { current: String },
    /// A database the migrator has no backend for.
    #[error("the migrator supports PostgreSQL and SQLite databases, not {backend}")]
    UnsupportedBackend { backend: String },

    /// `adopt` on a database with neither `alembic_version` nor records.
    #[error("nothing to adopt: the database has no alembic_version and records no migrations")]
    NothingToAdopt,

    /// The first migration found its tables already there, in a database that
    /// records no migrations: it was built some other way.
    #[error(
        "migration {name} failed while applying it: the database already has its tables but \
         records no migrations"
    )]
    AlreadyBuilt {
        name: String,
        #[source]
        source: DbErr,
    },

    /// A `MigratorTrait` call was given a transaction or another executor
    /// on which the migrator's guarantees cannot hold.
    #[error(
        "{call} needs the DatabaseConnection (pass &db), not a transaction: the migration lock \
         holds a connection of its own and every migration runs in a transaction of its own"
    )]
    NeedsConnection {
        /// `Sketch2BIM's Migrator::up`.
        call: String,
    },

    /// Applied migrations whose code renders other statements than it did
    /// when they were applied (see [`crate::pure::checksum`]).
    #[error("{}", display::edited(names))]
    Edited { names: Vec<String> },

    /// `lint` found what locks busy tables, or breaks the runner's rules.
    #[error(
        "lint found {count} {} in {} (listed above); make each migration lock-safe (see \
         docs/lock-safe-migrations.md), or, in a migration that already shipped, allow the \
         finding with `// lint: allow RULE: REASON`",
        if *count == 1 { "problem" } else { "problems" },
        list(names)
    )]
    LintFindings { count: usize, names: Vec<String> },

    /// The connection pool cannot hold the migration lock and run a
    /// migration at once.
    #[error(
        "the connection pool allows {max} connection(s); migrating needs 2 (one holds the \
         migration lock): set max_connections to at least 2"
    )]
    PoolTooSmall { max: u32 },

    /// No schema of the connection's search path exists.
    #[error(
        "no schema to migrate: none of the search path ({search_path}) exists in the database; \
         create the schema first"
    )]
    SchemaMissing { search_path: String },

    /// The schema to migrate has a name that cannot be used.
    #[error("{reason}")]
    InvalidSchemaName { reason: String },

    /// `alembic_version`'s one row holds no revision (NULL or blank).
    #[error(
        "alembic_version records {found} revision, so the Alembic revision of this database is \
         unknown; nothing was changed"
    )]
    AlembicVersionBlank { found: &'static str },

    /// `adopt --at` on a database that has none of the tables the
    /// migrations up to it build.
    #[error(
        "not baselining at {at}: the database has none of the tables {at} and the migrations \
         before it build, so there is nothing to baseline; run up to migrate it instead; \
         nothing was changed"
    )]
    BaselineEmpty { at: String },

    /// Applied migrations whose recorded checksum is blank: an edit cannot
    /// be told from it.
    #[error("{}", display::blank_checksum(names))]
    BlankChecksum { names: Vec<String> },

    /// `alembic_version` exists but holds no row.
    #[error(
        "alembic_version is empty, so the Alembic revision of this database is unknown; nothing \
         was changed"
    )]
    AlembicVersionEmpty,

    /// `alembic_version` names a revision this binary does not have.
    #[error(
        "alembic_version records revision '{revision}', which this binary does not know (it \
         knows 001 … {known:03}); nothing was changed"
    )]
    AlembicRevisionUnknown { revision: String, known: usize },

    /// `alembic_version` holds several rows.
    #[error(
        "alembic_version holds {} rows ({}) where Alembic keeps one; nothing was changed",
        revisions.len(),
        revisions.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", ")
    )]
    AlembicVersionRows { revisions: Vec<String> },

    /// `drop-alembic-version` on a database that records nothing else.
    #[error(
        "alembic_version is this database's only record of its migrations: run `up` (or \
         `adopt`) first; nothing was changed"
    )]
    AlembicOnlyRecord,

    /// `down --to NAME` where NAME is not applied.
    #[error("{name} is not applied, so down cannot stop at it")]
    NotApplied { name: String },

    /// A command that drops data, against a remote server, without being
    /// told to go ahead.
    #[error("{what} on the remote database {target}{server} drops data")]
    RemoteDestructive {
        /// `fresh`, `down of more than one migration`.
        what: &'static str,
        /// The URL, password masked.
        target: String,
        /// ` (host from PGHOST)` when the URL's own host is not the one that
        /// counts; empty otherwise.
        server: String,
    },

    /// The async runtime could not be started.
    #[error("cannot start the async runtime")]
    Runtime {
        #[source]
        source: std::io::Error,
    },

    /// `check` or `generate --autogenerate` in a binary built without entities.
    #[error("this {database}-migration binary was built without entities to {purpose}")]
    NoEntities {
        database: &'static str,
        /// `check against`, `generate from`.
        purpose: &'static str,
    },

    /// `generate --autogenerate` on a database with pending migrations.
    #[error(
        "the database is not at head ({} pending): run up first, so the new migration starts \
         where the others end",
        list(pending)
    )]
    NotAtHead { pending: Vec<String> },

    /// `check`: the database differs from the entities.
    #[error(
        "the database differs from the entities in {} (listed above)",
        plural(differences.len(), "place")
    )]
    EntityDrift { differences: Vec<String> },

    /// A command that reads PostgreSQL's catalog, on another database.
    #[error("{command} reads PostgreSQL's catalog: it needs a PostgreSQL database")]
    PostgresOnly { command: &'static str },

    /// `generate NAME` with a name that cannot be a migration's.
    #[error(
        "invalid migration name '{}': use snake_case words (lowercase letters and digits, \
         starting with a letter, joined by single underscores), e.g. add_notes_to_jobs",
        crate::model::escape::escape(name)
    )]
    InvalidMigrationName { name: String },

    /// `generate mNNN_name` whose number is not the next one.
    #[error(
        "migration name '{name}' carries the number {number}, but the next migration in {dir} \
         is m{next:03}: give the name without its mNNN_ prefix"
    )]
    MigrationNumber {
        name: String,
        number: u32,
        dir: String,
        next: u32,
    },

    /// `generate` cannot find the `migrator!` list to register a migration in.
    #[error(
        "cannot find where to register {module} in {lib}: expected a `migration_core::migrator!` \
         list of `mNNN_…,` lines"
    )]
    Unregistrable { module: String, lib: String },

    /// `generate` would overwrite a file.
    #[error("{path} already exists")]
    AlreadyExists { path: String },
}

/// What a migration that gave up waiting for a lock waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockWaitFailure {
    /// The migration.
    pub name: String,
    /// The table (or other object) it waited for.
    pub relation: String,
    /// Who held it, as the last wait saw them.
    pub blockers: String,
    pub attempts: u32,
    /// Time spent waiting and pausing between attempts.
    pub waited: std::time::Duration,
    /// Whether the migration runs outside a transaction (its statements
    /// before the one that waited stay applied).
    pub outside_transaction: bool,
}

impl Error {
    pub(crate) fn db(action: impl Into<String>) -> impl FnOnce(DbErr) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }
}
