//! Everything that can go wrong, as data: each variant names the migration,
//! setting or database at fault. Messages are lowercase without a final full
//! stop and never contain a password (URLs are redacted before they get here);
//! the underlying cause is in `source()`, not repeated in the message.

use sea_orm::DbErr;

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
    #[error(
        "the database is ahead of this binary: it records {} unknown to it; \
         deploy a binary that has {}",
        list(names), if names.len() == 1 { "it" } else { "them" }
    )]
    Ahead { names: Vec<String> },

    /// The database records migrations that this binary has under another
    /// number: renumbered after a merge, most likely.
    #[error(
        "the database records {}, which this binary does not have but has as {}: renumbered \
         since {} applied (two branches took one number?); if {} the same migration, rename \
         the row{}: {}; nothing was changed",
        list(&renumbered.iter().map(|r| r.recorded.clone()).collect::<Vec<_>>()),
        list(&renumbered.iter().map(|r| r.now.clone()).collect::<Vec<_>>()),
        if renumbered.len() == 1 { "it was" } else { "they were" },
        if renumbered.len() == 1 { "it is" } else { "they are" },
        if renumbered.len() == 1 { "" } else { "s" },
        renumbered.iter().map(|r| format!(
            "UPDATE {} SET version = '{}' WHERE version = '{}'", r.table, r.now, r.recorded
        )).collect::<Vec<_>>().join("; "),
    )]
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
    #[error(
        "the database's history has a gap: {} {} not recorded although the later {later} is; \
         check that the schema has {} changes, then record {} again in {table} (or restore \
         {}); nothing was changed",
        list(missing),
        if missing.len() == 1 { "is" } else { "are" },
        if missing.len() == 1 { "its" } else { "their" },
        if missing.len() == 1 { "it" } else { "them" },
        if missing.len() == 1 { "its row" } else { "their rows" }
    )]
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
    /// or holding another history, without `--yes`.
    #[error(
        "{command} would drop every table of a database whose history is not this binary's \
         ({reason}); {override_with}"
    )]
    NotOurHistory {
        /// `fresh`, `Migrator::fresh`.
        command: &'static str,
        /// What the database records that this binary does not know.
        reason: String,
        /// How to do it anyway: `run it again with --yes if that is what you want`.
        override_with: &'static str,
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
    /// lock that another transaction holds, until the run's `--lock-timeout`
    /// was spent; every attempt was rolled back whole.
    #[error(
        "migration {} gave up waiting for a lock on {} after {} ({}): {}; {}",
        wait.name, wait.relation, crate::fmt_duration(wait.waited),
        plural(wait.attempts as usize, "attempt"), wait.blockers,
        if wait.outside_transaction { OUTSIDE_LEFT } else { "it was rolled back, none of it is applied" }
    )]
    LockWait {
        wait: Box<LockWaitFailure>,
        #[source]
        source: DbErr,
    },

    /// A migration running outside a transaction failed: nothing is
    /// recorded, what its earlier statements did stays, and each INVALID
    /// index a failed concurrent build left is named with its fix.
    #[error(
        "migration {name} failed while {action}: {cause}; {OUTSIDE_LEFT}{}",
        invalid_indexes(invalid)
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
    #[error(
        "{} {} edited after {} applied: {}; revert the {}, or review {} and run repair to \
         record the new {} (--allow-edited or MIGRATION_ALLOW_EDITED=1 runs anyway); nothing \
         was changed",
        plural(edits.len(), "applied migration"),
        if edits.len() == 1 { "was" } else { "were" },
        if edits.len() == 1 { "it was" } else { "they were" },
        list(edits),
        if edits.len() == 1 { "edit" } else { "edits" },
        if edits.len() == 1 { "it" } else { "them" },
        if edits.len() == 1 { "checksum" } else { "checksums" }
    )]
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
    #[error(
        ".env in the working directory sets neither {url_env} nor DATABASE_URL; set one of \
         them in it to the database's URL, or pass -u (the SQLite file {sqlite_file} is used \
         only where there is no .env)"
    )]
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
         nothing was changed (`adopt --accept-differences` takes it over as it is)",
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
    #[error(
        "alembic_version records revision {revision}, which is {recorded}, not {asked}: run \
         adopt without --at to adopt it at its recorded revision; nothing was changed"
    )]
    AdoptAtOtherRevision {
        revision: String,
        recorded: String,
        asked: String,
    },

    /// `adopt --at` on a database that already records its migrations.
    #[error(
        "the database already records its migrations (at {current}): adopt --at only baselines \
         a database that records none; nothing was changed"
    )]
    AlreadyRecorded { current: String },
    /// A database the migrator has no backend for.
    #[error("the migrator supports PostgreSQL and SQLite databases, not {backend}")]
    UnsupportedBackend { backend: String },

    /// `adopt` on a database with neither `alembic_version` nor records.
    #[error(
        "nothing to adopt: the database has no alembic_version and records no migrations; to \
         baseline a database that already has a migration's schema, run adopt --at <migration>"
    )]
    NothingToAdopt,

    /// The first migration found its tables already there, in a database that
    /// records no migrations: it was built some other way.
    #[error(
        "migration {name} failed while applying it: the database already has its tables but \
         records no migrations; if its schema is at a known migration, baseline it with \
         `adopt --at <migration>`"
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
    #[error(
        "{} {} edited after {} applied: {}; review the {}, then run repair to record the new \
         {}",
        plural(names.len(), "applied migration"),
        if names.len() == 1 { "was" } else { "were" },
        if names.len() == 1 { "it was" } else { "they were" },
        list(names),
        if names.len() == 1 { "change" } else { "changes" },
        if names.len() == 1 { "checksum" } else { "checksums" }
    )]
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

    /// `-s`/`--database-schema` names no usable schema.
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
    #[error(
        "{} {} a blank checksum recorded: {}; check {} against the code, then run repair to \
         record {}",
        plural(names.len(), "applied migration"),
        if names.len() == 1 { "has" } else { "have" },
        list(names),
        if names.len() == 1 { "its schema" } else { "their schemas" },
        if names.len() == 1 { "its checksum" } else { "their checksums" }
    )]
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

    /// A command that drops data, against a remote server, without `--yes`.
    #[error(
        "{what} on the remote database {target}{server} drops data; run it again with --yes if \
         that is what you want"
    )]
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
    #[error("{command} reads PostgreSQL's catalog: point -u at a PostgreSQL database")]
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

/// `1 migration`, `2 migrations`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
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

/// What a migration that ran outside a transaction leaves when it fails.
const OUTSIDE_LEFT: &str = "it ran outside a transaction, so nothing is recorded and the \
     statements before the failing one stay applied (run up again once fixed: such a migration \
     must be safe to repeat)";

/// `; it left the INVALID index "ix": drop it with …`.
fn invalid_indexes(indexes: &[String]) -> String {
    match indexes {
        [] => String::new(),
        [one] => format!(
            "; it left the INVALID index {one}: drop it with `DROP INDEX CONCURRENTLY {one}`, \
             then run up again (or make the migration drop it first)"
        ),
        many => format!(
            "; it left the INVALID indexes {}: drop them with {}, then run up again (or make \
             the migration drop them first)",
            list(many),
            many.iter()
                .map(|i| format!("`DROP INDEX CONCURRENTLY {i}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

/// `tables jobs, users`, `column jobs.status`.
pub(crate) fn foreign_missing(tables: &[String], columns: &[String]) -> String {
    let mut parts = Vec::new();
    for (names, one, many) in [(tables, "table", "tables"), (columns, "column", "columns")] {
        match names.len() {
            0 => {}
            1 => parts.push(format!("{one} {}", list(names))),
            _ => parts.push(format!("{many} {}", list(names))),
        }
    }
    parts.join(" and ")
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

fn suggestions(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", closest.join(" or "))
    }
}

impl Error {
    pub(crate) fn db(action: impl Into<String>) -> impl FnOnce(DbErr) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }
}
