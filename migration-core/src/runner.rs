//! Applies and rolls back migrations, one transaction per migration.
//!
//! Each migration runs in a transaction together with its bookkeeping row (on
//! PostgreSQL and SQLite alike, both have transactional DDL), so a failing
//! statement, a crash or a kill leaves the database at the previous migration,
//! never between two. Every run that changes migration state first reads what
//! is applied without locking (at head that single query is the whole cost and
//! nothing else is sent), and only when there is work takes the migration lock
//! ([`crate::lock`]) and reads again, so the losers of a race find nothing left
//! to do. The bookkeeping table is sea-orm-migration's (`seaql_migrations`:
//! `version`, `applied_at` in Unix seconds), so the stock tooling reads it too.
//!
//! On PostgreSQL a migration whose statements cannot depend on the database
//! (it reads nothing and opens no transaction of its own, see
//! [`crate::dry_run`]) is recorded first and sent as one batch, bookkeeping
//! row included, between its BEGIN and COMMIT: three round trips however many
//! statements it has. Any other migration runs statement by statement.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Schema, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, SchemaManager, seaql_migrations};
use std::time::{Duration, Instant};

use crate::adopt::{AlembicRevision, Takeover};
use crate::lock::{DEFAULT_LOCK_TIMEOUT, MigrationLock, sqlstate};
use crate::sql::Reader;
use crate::{Described, Error};

/// A migrator's history: its migrations in order and its bookkeeping table.
pub struct History {
    pub(crate) migrations: Vec<Box<dyn MigrationTrait>>,
    table: String,
    summaries: Vec<String>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("migrations", &self.names())
            .field("table", &self.table)
            .finish()
    }
}

impl History {
    pub fn of<M: Described>() -> History {
        let migrations = M::migrations();
        let summaries = M::summaries();
        History {
            summaries: migrations
                .iter()
                .map(|m| {
                    summaries
                        .iter()
                        .find(|(name, _)| *name == m.name())
                        .map_or_else(String::new, |(_, doc)| crate::one_line_doc(doc))
                })
                .collect(),
            migrations,
            table: M::migration_table_name().to_string(),
        }
    }

    /// `(name, what it does)` per migration, oldest first.
    pub fn summaries(&self) -> Vec<(&str, &str)> {
        self.migrations
            .iter()
            .zip(&self.summaries)
            .map(|(m, s)| (m.name(), s.as_str()))
            .collect()
    }

    /// Migration names, oldest first.
    pub fn names(&self) -> Vec<&str> {
        self.migrations.iter().map(|m| m.name()).collect()
    }

    /// The newest migration's name.
    pub fn head(&self) -> Option<&str> {
        self.migrations.last().map(|m| m.name())
    }

    /// The bookkeeping table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn position(&self, name: &str) -> Result<usize, Error> {
        self.migrations
            .iter()
            .position(|m| m.name() == name)
            .ok_or_else(|| Error::UnknownMigration {
                name: name.to_owned(),
                closest: closest(name, &self.names()),
            })
    }
}

/// The known names closest to `name`, best first: the one with the same
/// number (`3`, `m3`, `m0003` all mean `m003_…`), else those within a few
/// edits of the whole name or of its beginning.
fn closest(name: &str, known: &[&str]) -> Vec<String> {
    let number = |s: &str| -> Option<u32> {
        let digits = s.strip_prefix('m').unwrap_or(s);
        let digits = digits.split('_').next().unwrap_or(digits);
        digits.parse().ok()
    };
    let mut scored: Vec<(usize, &str)> = known
        .iter()
        .filter_map(|k| {
            let d = if number(name).is_some() && number(name) == number(k) {
                0
            } else {
                let prefix: String = k.chars().take(name.chars().count()).collect();
                edit_distance(name, k).min(edit_distance(name, &prefix) + 1)
            };
            (d <= 3.max(name.len() / 4)).then_some((d, *k))
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |(d, _)| *d);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= best + 1)
        .take(2)
        .map(|(_, k)| k.to_owned())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// One bookkeeping row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub name: String,
    /// Unix seconds.
    pub applied_at: i64,
    /// Its checksum when it was applied ([`crate::checksum`]), if recorded.
    pub checksum: Option<String>,
}

/// What the bookkeeping table says.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Whether the bookkeeping table exists.
    pub tracked: bool,
    /// Whether it is known to have the checksum column (known only when it
    /// holds a row).
    pub checksum_column: bool,
    /// Applied migrations that this binary knows, in history order.
    pub applied: Vec<Applied>,
    /// Applied migrations that this binary does not know.
    pub unknown: Vec<String>,
    /// Every row's name as read, duplicates kept (empty when nothing is
    /// recorded, Alembic adoption pending included).
    pub recorded: Vec<String>,
    /// Set when the database was built by the Alembic migrator and our
    /// bookkeeping is empty: `applied` then lists the migrations its revision
    /// stands for, to be recorded by the next run that changes state.
    pub alembic: Option<AlembicRevision>,
}

impl State {
    fn is_applied(&self, name: &str) -> bool {
        self.applied.iter().any(|a| a.name == name)
    }

    /// The newest applied migration, in history order.
    pub fn current(&self) -> Option<&str> {
        self.applied.last().map(|a| a.name.as_str())
    }

    /// Refuses duplicate rows and gaps ([`crate::history::check`]); pure.
    pub fn refuse_damage(&self, history: &History) -> Result<(), Error> {
        let recorded: Vec<&str> = self.recorded.iter().map(String::as_str).collect();
        crate::history::check(&history.names(), &recorded, &history.table)
    }

    pub(crate) fn refuse_unknown(&self) -> Result<(), Error> {
        if self.unknown.is_empty() {
            Ok(())
        } else {
            Err(Error::Ahead {
                names: self.unknown.clone(),
            })
        }
    }
}

/// Reads the bookkeeping table with one SELECT; a missing table means nothing
/// is applied. Issues no DDL, so a read-only role can call it. On
/// PostgreSQL it is a simple query ([`crate::sql`]), safe behind a
/// transaction-pooling proxy.
pub async fn read_state<C: Reader + ?Sized>(db: &C, history: &History) -> Result<State, Error> {
    let backend = db.backend();
    let sql = format!(
        "SELECT * FROM {} ORDER BY version",
        quote_ident(backend, &history.table)
    );
    let rows = match db.query_all(sql).await {
        Ok(rows) => rows,
        Err(e) if is_undefined_table(&e) => {
            let state = State {
                alembic: crate::adopt::read_alembic(db, history).await?,
                ..State::default()
            };
            return Ok(state.with_alembic(history));
        }
        Err(e) => {
            return Err(Error::Database {
                action: format!("reading {}", history.table),
                source: e,
            });
        }
    };
    let mut found = Vec::with_capacity(rows.len());
    // Absent from a table made before checksums were kept.
    let checksum_column = rows.first().is_some_and(|row| {
        row.column_names()
            .iter()
            .any(|c| c == crate::checksum::COLUMN)
    });
    for row in rows {
        let read = |e| Error::Database {
            action: format!("reading {}", history.table),
            source: e,
        };
        found.push(Applied {
            name: row.try_get::<String>("", "version").map_err(read)?,
            applied_at: row.try_get::<i64>("", "applied_at").map_err(read)?,
            checksum: match checksum_column {
                true => row
                    .try_get::<Option<String>>("", crate::checksum::COLUMN)
                    .map_err(read)?,
                false => None,
            },
        });
    }
    let names = history.names();
    let mut state = State {
        tracked: true,
        checksum_column,
        ..State::default()
    };
    if found.is_empty() {
        state.alembic = crate::adopt::read_alembic(db, history).await?;
        return Ok(state.with_alembic(history));
    }
    for name in &names {
        if let Some(a) = found.iter().find(|a| a.name == *name) {
            state.applied.push(a.clone());
        }
    }
    for a in &found {
        if !names.contains(&a.name.as_str()) && !state.unknown.contains(&a.name) {
            state.unknown.push(a.name.clone());
        }
    }
    state.recorded = found.into_iter().map(|a| a.name).collect();
    Ok(state)
}

impl State {
    /// The migrations an Alembic revision stands for, as if recorded.
    fn with_alembic(mut self, history: &History) -> State {
        if let Some(found) = &self.alembic {
            self.applied = history.names()[..found.count]
                .iter()
                .map(|name| Applied {
                    name: (*name).to_owned(),
                    applied_at: 0,
                    checksum: None,
                })
                .collect();
        }
        self
    }
}

pub(crate) fn quote_ident(backend: DbBackend, ident: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn is_undefined_table(e: &DbErr) -> bool {
    sqlstate(e).as_deref() == Some("42P01") || e.to_string().contains("no such table")
}

/// How far `up` or `down` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Every pending migration (`up`) or every applied one (`down`).
    All,
    /// At most this many.
    Steps(u32),
    /// `up`: up to and including this migration. `down`: until it is the
    /// newest applied (it stays applied).
    To(String),
}

/// Tuning of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long to wait for another run's lock; also how long, in all, a run
    /// keeps retrying migrations that time out waiting for a table's lock.
    pub lock_timeout: Duration,
    /// PostgreSQL: how long one statement of a migration may wait for a lock
    /// (`SET LOCAL lock_timeout`) before the migration is rolled back and
    /// retried; `None` waits without bound (see [`crate::lock_wait`]).
    pub lock_wait: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_wait: Some(crate::lock_wait::DEFAULT_LOCK_WAIT),
        }
    }
}

/// Which way a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// One migration applied or rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub direction: Direction,
    /// Its (last) transaction's, or outside one its statements', duration.
    pub elapsed: Duration,
    /// How many times it gave up waiting for a table's lock, was rolled
    /// back and tried again (see [`crate::lock_wait`]).
    pub lock_waits: u32,
}

/// What a run did and where it left the database.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    /// Newest applied migration afterwards.
    pub current: Option<String>,
    /// Newest migration this binary has.
    pub head: Option<String>,
    /// Migrations still pending afterwards, oldest first.
    pub pending: Vec<String>,
    /// The Alembic revision this run adopted, if it did.
    pub adopted: Option<String>,
    /// The migration `adopt --at` baselined the database at, if it did.
    pub baselined: Option<String>,
    /// Applied migrations edited since they were applied (`up` only; see
    /// [`crate::checksum`]), each warned about.
    pub edited: Vec<String>,
}

impl Report {
    fn new(history: &History, state: &State, steps: Vec<Step>) -> Report {
        Report {
            steps,
            adopted: None,
            baselined: None,
            edited: Vec::new(),
            current: state.current().map(str::to_owned),
            head: history.head().map(str::to_owned),
            pending: history
                .names()
                .into_iter()
                .filter(|n| !state.is_applied(n))
                .map(str::to_owned)
                .collect(),
        }
    }
}

pub(crate) fn plan_up(history: &History, state: &State, goal: &Goal) -> Result<Vec<usize>, Error> {
    let pending: Vec<usize> = (0..history.migrations.len())
        .filter(|&i| !state.is_applied(history.migrations[i].name()))
        .collect();
    Ok(match goal {
        Goal::All => pending,
        Goal::Steps(n) => pending.into_iter().take(*n as usize).collect(),
        Goal::To(name) => {
            let last = history.position(name)?;
            pending.into_iter().filter(|&i| i <= last).collect()
        }
    })
}

pub(crate) fn plan_down(
    history: &History,
    state: &State,
    goal: &Goal,
) -> Result<Vec<usize>, Error> {
    let mut applied: Vec<usize> = (0..history.migrations.len())
        .filter(|&i| state.is_applied(history.migrations[i].name()))
        .collect();
    applied.reverse();
    Ok(match goal {
        Goal::All => applied,
        Goal::Steps(n) => applied.into_iter().take(*n as usize).collect(),
        Goal::To(name) => {
            let keep = history.position(name)?;
            if !state.is_applied(name) {
                return Err(Error::NotApplied { name: name.clone() });
            }
            applied.into_iter().filter(|&i| i > keep).collect()
        }
    })
}

/// Where the database stands, changing nothing (one SELECT).
pub async fn status<C: Reader + ?Sized>(db: &C, history: &History) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    Ok(Report::new(history, &state, Vec::new()))
}

/// Applies pending migrations up to `goal`.
pub async fn up(
    db: &DatabaseConnection,
    history: &History,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    state.refuse_unknown()?;
    state.refuse_damage(history)?;
    let at_goal = state.alembic.is_none() && plan_up(history, &state, goal)?.is_empty();
    if !at_goal {
        // Another migrator's history is said as such, not as edits.
        refuse_foreign(db, history, &state).await?;
    }
    let edited = warn_edited(history, &state, db.get_database_backend()).await;
    if at_goal {
        let mut report = Report::new(history, &state, Vec::new());
        report.edited = edited;
        return Ok(report);
    }
    let untracked = state.current().is_none();
    let report = locked(
        db,
        history,
        options,
        |state| plan_up(history, state, goal),
        Direction::Up,
    )
    .await
    .map_err(|e| match history.names().first() {
        Some(first) if untracked => already_built(e, first),
        _ => e,
    });
    report.map(|mut report| {
        report.edited = edited;
        report
    })
}

/// Warns about every applied migration edited since it was applied
/// ([`crate::checksum`]) and returns their names; sends nothing.
pub async fn warn_edited(history: &History, state: &State, backend: DbBackend) -> Vec<String> {
    let entries = crate::checksum::compare(history, state, backend).await;
    crate::checksum::edited(&entries)
        .into_iter()
        .map(|entry| {
            tracing::warn!("{}", crate::checksum::warning(entry));
            entry.name.clone()
        })
        .collect()
}

/// On a database that records no migrations, the first migration finding
/// its tables already there means the schema was built some other way:
/// say how to baseline it instead of only relaying the driver's complaint.
fn already_built(e: Error, first: &str) -> Error {
    match e {
        Error::Migration { name, source, .. }
            if name == first
                && (sqlstate(&source).as_deref() == Some("42P07")
                    || source.to_string().contains("already exists")) =>
        {
            Error::AlreadyBuilt { name, source }
        }
        other => other,
    }
}

/// Rolls back applied migrations down to `goal`.
pub async fn down(
    db: &DatabaseConnection,
    history: &History,
    goal: &Goal,
    options: &RunOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    state.refuse_unknown()?;
    state.refuse_damage(history)?;
    if state.alembic.is_none() && plan_down(history, &state, goal)?.is_empty() {
        return Ok(Report::new(history, &state, Vec::new()));
    }
    refuse_foreign(db, history, &state).await?;
    locked(
        db,
        history,
        options,
        |state| plan_down(history, state, goal),
        Direction::Down,
    )
    .await
}

/// Rolls back every applied migration, then applies them all.
pub async fn refresh(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Report, Error> {
    let down = down(db, history, &Goal::All, options).await?;
    let mut up = up(db, history, &Goal::All, options).await?;
    let mut steps = down.steps;
    steps.append(&mut up.steps);
    up.steps = steps;
    Ok(up)
}

/// How `adopt` takes a database over.
#[derive(Debug, Clone, Default)]
pub struct AdoptOptions {
    /// Baseline a database that records no migrations and has no
    /// `alembic_version` (built by the platform's old `create_all()`
    /// fallback, say): record the migrations up to and including this one.
    pub at: Option<String>,
    /// Take the database over even where its schema differs from what the
    /// recorded migrations build, logging every accepted difference.
    pub accept_differences: bool,
}

/// Adopts an Alembic-built database, or baselines one built some other way
/// (see [`crate::adopt`]), without applying anything else; reports where it
/// stands.
pub async fn adopt(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
    how: &AdoptOptions,
) -> Result<Report, Error> {
    let state = read_state(db, history).await?;
    state.refuse_unknown()?;
    if takeover(history, &state, how)?.is_none() {
        return Ok(Report::new(history, &state, Vec::new()));
    }
    let lock = MigrationLock::acquire(db, &history.table, options.lock_timeout).await?;
    let outcome = async {
        // Again under the lock: another run may have taken it over meanwhile.
        let state = read_state(db, history).await?;
        state.refuse_unknown()?;
        let Some(takeover) = takeover(history, &state, how)? else {
            return Ok(Report::new(history, &state, Vec::new()));
        };
        let took = crate::adopt::adopt(db, history, &takeover, how.accept_differences).await?;
        let state = read_state(db, history).await?;
        let mut report = Report::new(history, &state, Vec::new());
        match takeover {
            Takeover::Alembic(found) if took => report.adopted = Some(found.revision),
            Takeover::Baseline(count) if took => {
                report.baselined = Some(history.names()[count - 1].to_owned())
            }
            _ => {}
        }
        Ok::<_, Error>(report)
    }
    .await;
    let released = lock.release().await;
    let report = outcome?;
    released?;
    Ok(report)
}

/// What `adopt` would take the database over as, given what it records:
/// `None` when it already records its migrations.
fn takeover(
    history: &History,
    state: &State,
    how: &AdoptOptions,
) -> Result<Option<Takeover>, Error> {
    let at = match &how.at {
        Some(name) => Some(history.position(name)? + 1),
        None => None,
    };
    if let Some(found) = &state.alembic {
        return match at {
            Some(count) if count != found.count => Err(Error::AdoptAtOtherRevision {
                revision: found.revision.clone(),
                recorded: history.names()[found.count - 1].to_owned(),
                asked: history.names()[count - 1].to_owned(),
            }),
            _ => Ok(Some(Takeover::Alembic(found.clone()))),
        };
    }
    match (state.current(), at) {
        (Some(current), Some(_)) => Err(Error::AlreadyRecorded {
            current: current.to_owned(),
        }),
        (Some(_), None) => Ok(None),
        (None, Some(count)) => Ok(Some(Takeover::Baseline(count))),
        (None, None) => Err(Error::NothingToAdopt),
    }
}

/// Records what this binary renders as the checksum of every applied
/// migration whose recorded checksum differs or is missing (see
/// [`crate::checksum`]), in one transaction under the lock, and returns
/// their names, in history order. For after a review of the edits `up`,
/// `status` and `verify` report; a database ahead of this binary, or with a
/// damaged history, is refused.
pub async fn repair(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Vec<String>, Error> {
    let backend = db.get_database_backend();
    let lock = MigrationLock::acquire(db, &history.table, options.lock_timeout).await?;
    let outcome = async {
        let state = read_state(db, history).await?;
        state.refuse_unknown()?;
        state.refuse_damage(history)?;
        let entries = crate::checksum::compare(history, &state, backend).await;
        let table = quote_ident(backend, &history.table);
        let mut repaired = Vec::new();
        let mut updates = Vec::new();
        for entry in &entries {
            let stale = matches!(
                entry.verdict,
                crate::checksum::Verdict::Edited { .. } | crate::checksum::Verdict::NotRecorded
            );
            if let (true, Some(now)) = (stale, &entry.now) {
                updates.push(format!(
                    "UPDATE {table} SET {} = {} WHERE version = {}",
                    crate::checksum::COLUMN,
                    crate::sql::literal(now),
                    crate::sql::literal(&entry.name)
                ));
                repaired.push((entry.name.clone(), now));
            }
        }
        if repaired.is_empty() {
            return Ok(Vec::new());
        }
        let failed = || Error::db(format!("recording checksums in {}", history.table));
        let txn = if backend == DbBackend::Sqlite {
            begin_immediate(db, options).await?
        } else {
            db.begin().await.map_err(failed())?
        };
        let wrote = async {
            crate::checksum::add_column(&txn, history).await?;
            txn.execute_unprepared(&updates.join(";\n")).await
        }
        .await;
        if let Err(e) = wrote {
            let _ = txn.rollback().await;
            return Err(failed()(e));
        }
        txn.commit().await.map_err(failed())?;
        for (name, now) in &repaired {
            tracing::info!(
                "recorded the checksum of {name} ({})",
                crate::checksum::short(now)
            );
        }
        Ok::<_, Error>(repaired.into_iter().map(|(name, _)| name).collect())
    }
    .await;
    let released = lock.release().await;
    let names = outcome?;
    released?;
    Ok(names)
}

/// Drops `alembic_version` from an adopted database, under the lock.
/// Returns whether there was one to drop.
pub async fn drop_alembic_version(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<bool, Error> {
    let lock = MigrationLock::acquire(db, &history.table, options.lock_timeout).await?;
    let outcome = async {
        let state = read_state(db, history).await?;
        crate::adopt::drop_alembic_version(db, state.alembic.is_none() && state.tracked).await
    }
    .await;
    let released = lock.release().await;
    let dropped = outcome?;
    released?;
    Ok(dropped)
}

/// Drops every table of the database (its current schema on PostgreSQL),
/// bookkeeping included, then applies every migration.
pub async fn fresh(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<Report, Error> {
    let lock = MigrationLock::acquire(db, &history.table, options.lock_timeout).await?;
    let dropped = drop_all_tables(db).await;
    lock.release().await?;
    dropped?;
    up(db, history, &Goal::All, options).await
}

/// Every table of the database (its current schema on PostgreSQL), one query.
async fn table_names<C: Reader + ?Sized>(db: &C) -> Result<Vec<String>, DbErr> {
    let list = match db.backend() {
        DbBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    db.query_all(list.to_owned())
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect()
}

/// Refuses a database that records this history's first migration but
/// lacks a table of its signature ([`crate::history`]): another migrator's
/// history. One catalog query and a second read of the bookkeeping, made
/// only when the first migration is recorded; says nothing when a migration
/// involved cannot be recorded without a database.
pub async fn refuse_foreign<C: Reader + ?Sized>(
    db: &C,
    history: &History,
    state: &State,
) -> Result<(), Error> {
    let Some(first) = history.migrations.first() else {
        return Ok(());
    };
    if state.alembic.is_some() || !state.is_applied(first.name()) {
        return Ok(());
    }
    let existing = table_names(db)
        .await
        .map_err(Error::db("reading the catalog"))?;
    // What is recorded, read again after the catalog: a run racing this one
    // may have applied a migration that drops one of the first migration's
    // tables since `state` was read. It committed its row with its drop,
    // before the catalog was read, so it is recorded now.
    let state = &read_state(db, history).await?;
    let backend = db.backend();
    let render = |statements: Vec<Statement>| -> Vec<String> {
        statements.iter().map(Statement::to_string).collect()
    };
    let Some(created) = crate::record::record(first.as_ref(), Direction::Up, backend).await else {
        return Ok(());
    };
    let mut later = Vec::new();
    for migration in &history.migrations[1..] {
        if state.is_applied(migration.name()) {
            match crate::record::record(migration.as_ref(), Direction::Up, backend).await {
                Some(statements) => later.push(render(statements)),
                None => return Ok(()),
            }
        }
    }
    let signature = crate::history::signature_tables(&render(created), &later);
    if signature.is_empty() {
        return Ok(());
    }
    crate::history::foreign(first.name(), &signature, &existing)
}

/// `command` (`fresh`, which drops every table) without `--yes`: refused on
/// a database that records migrations this binary does not know (ahead of
/// it, or another migrator's) or holds another migrator's history
/// ([`refuse_foreign`]). Costs the one SELECT of [`read_state`], and the
/// catalog query of the signature check when the first migration is
/// recorded.
pub async fn refuse_not_our_history(
    db: &DatabaseConnection,
    history: &History,
    command: &'static str,
    override_with: &'static str,
) -> Result<(), Error> {
    let state = read_state(db, history).await?;
    let reason = if !state.unknown.is_empty() {
        format!(
            "it records {} unknown to this binary",
            state.unknown.join(", ")
        )
    } else {
        match refuse_foreign(db, history, &state).await {
            Err(Error::Foreign { first, missing }) => format!(
                "it records {first} but has no {} {}: another migrator's",
                if missing.len() == 1 {
                    "table"
                } else {
                    "tables"
                },
                missing.join(", ")
            ),
            other => return other,
        }
    };
    Err(Error::NotOurHistory {
        command,
        reason,
        override_with,
    })
}

async fn drop_all_tables(db: &DatabaseConnection) -> Result<(), Error> {
    let failed = || Error::db("dropping all tables");
    let backend = db.get_database_backend();
    let names = table_names(db).await.map_err(failed())?;
    // Listed first: the run's lock holds one of the pool's two connections,
    // and this transaction the other.
    let txn = db.begin().await.map_err(failed())?;
    if backend == DbBackend::Sqlite {
        // Tables are dropped in any order; the foreign keys are checked at commit.
        txn.execute_unprepared("PRAGMA defer_foreign_keys = ON")
            .await
            .map_err(failed())?;
    }
    for name in &names {
        let cascade = if backend == DbBackend::Postgres {
            " CASCADE"
        } else {
            ""
        };
        txn.execute_unprepared(&format!(
            "DROP TABLE IF EXISTS {}{cascade}",
            quote_ident(backend, name)
        ))
        .await
        .map_err(failed())?;
    }
    txn.commit().await.map_err(failed())?;
    tracing::info!("dropped {} tables", names.len());
    Ok(())
}

/// Takes the lock, reads the state again, and runs what `plan` then says.
async fn locked(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
    plan: impl Fn(&State) -> Result<Vec<usize>, Error>,
    direction: Direction,
) -> Result<Report, Error> {
    let lock = MigrationLock::acquire(db, &history.table, options.lock_timeout).await?;
    let outcome = async {
        let mut state = read_state(db, history).await?;
        state.refuse_unknown()?;
        state.refuse_damage(history)?;
        let mut adopted = None;
        if let Some(found) = state.alembic.clone() {
            let revision = found.revision.clone();
            crate::adopt::adopt(db, history, &Takeover::Alembic(found), false).await?;
            adopted = Some(revision);
            state = read_state(db, history).await?;
        }
        let mut steps = Vec::new();
        let planned = plan(&state)?;
        if direction == Direction::Up && !planned.is_empty() && state.tracked {
            if !state.checksum_column {
                add_checksum_column(db, history, options).await?;
            }
            state.checksum_column = true;
        }
        let mut waited = Duration::ZERO;
        for (n, &index) in planned.iter().enumerate() {
            let flush = n + 1 == planned.len();
            let run = Run {
                db,
                history,
                direction,
                state: &state,
                options,
                lock: &lock,
            };
            if let Some(step) = run_step(&run, index, flush, &mut waited).await? {
                steps.push(step);
            }
            state = read_state_after(history, state, index, direction);
        }
        let mut report = Report::new(history, &state, steps);
        report.adopted = adopted;
        Ok::<_, Error>(report)
    }
    .await;
    let released = lock.release().await;
    let report = outcome?;
    released?;
    Ok(report)
}

/// Adds the checksum column to a bookkeeping table made before checksums
/// were kept ([`crate::checksum::add_column`]); under the run's lock, and on
/// SQLite in a write-locked transaction.
async fn add_checksum_column(
    db: &DatabaseConnection,
    history: &History,
    options: &RunOptions,
) -> Result<(), Error> {
    let failed = || Error::db(format!("adding the checksum column to {}", history.table));
    if db.get_database_backend() == DbBackend::Sqlite {
        let txn = begin_immediate(db, options).await?;
        crate::checksum::add_column(&txn, history)
            .await
            .map_err(failed())?;
        txn.commit().await.map_err(failed())
    } else {
        crate::checksum::add_column(db, history)
            .await
            .map_err(failed())
    }
}

/// The state after step `index` went `direction` (without asking the database).
fn read_state_after(
    history: &History,
    mut state: State,
    index: usize,
    direction: Direction,
) -> State {
    let name = history.migrations[index].name();
    match direction {
        Direction::Up => {
            if !state.is_applied(name) {
                state.applied.push(Applied {
                    name: name.to_owned(),
                    applied_at: now_unix(),
                    checksum: None,
                });
                let order = history.names();
                state
                    .applied
                    .sort_by_key(|a| order.iter().position(|n| *n == a.name));
            }
        }
        Direction::Down => state.applied.retain(|a| a.name != name),
    }
    if !state.tracked {
        // Made by the step, with the checksum column.
        state.checksum_column = true;
    }
    state.tracked = true;
    state
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What every step of a locked run shares.
struct Run<'a> {
    db: &'a DatabaseConnection,
    history: &'a History,
    direction: Direction,
    state: &'a State,
    options: &'a RunOptions,
    lock: &'a MigrationLock,
}

/// Runs one migration. Returns `None` when (SQLite) another run did this
/// step while this one waited.
///
/// A migration whose `use_transaction()` is `Some(false)` runs outside a
/// transaction ([`run_outside_transaction`]). Any other runs in one
/// transaction together with its bookkeeping row ([`attempt_step`]); on
/// PostgreSQL, when one of its statements gives up waiting for a lock (the
/// lock wait, see [`crate::lock_wait`]), the whole transaction is rolled back
/// and tried again after a pause (250 ms, doubling up to 2 s), each wait
/// logged with what it waited for and who held it, until `waited` (the run's
/// time spent so far waiting for table locks) reaches `--lock-timeout`.
async fn run_step(
    run: &Run<'_>,
    index: usize,
    flush: bool,
    waited: &mut Duration,
) -> Result<Option<Step>, Error> {
    use crate::lock_wait;
    let migration = &run.history.migrations[index];
    if migration.use_transaction() == Some(false) {
        return run_outside_transaction(run, index).await;
    }
    let name = migration.name();
    let wait = run.options.lock_wait;
    let mut pause = lock_wait::FIRST_BACKOFF;
    let mut attempt: u32 = 1;
    loop {
        let started = Instant::now();
        let (outcome, blockers) = lock_wait::watch(
            attempt_step(run, index, flush),
            run.lock.observer(),
            name,
            wait,
        )
        .await;
        let source = match outcome {
            Err(e) if lock_wait::lock_not_available(&e) => e,
            Ok(Some(mut step)) => {
                step.lock_waits = attempt - 1;
                return Ok(Some(step));
            }
            outcome => return outcome,
        };
        *waited += started.elapsed();
        let (relation, held) = lock_wait::describe(&blockers);
        if *waited >= run.options.lock_timeout {
            let source = match source {
                Error::Migration { source, .. } => source,
                _ => DbErr::Custom("lock timeout".into()),
            };
            return Err(Error::LockWait {
                wait: Box::new(crate::LockWaitFailure {
                    name: name.to_owned(),
                    relation,
                    blockers: held,
                    attempts: attempt,
                    waited: *waited,
                }),
                source,
            });
        }
        let pause_now = pause.min(run.options.lock_timeout - *waited);
        tracing::info!(
            "waiting for a lock on {relation} (attempt {attempt}, lock wait {}): {held}; \
             retrying in {}",
            lock_wait::show(wait),
            crate::fmt_duration(pause_now)
        );
        crate::rt::sleep(pause_now).await;
        *waited += pause_now;
        pause = (pause * 2).min(lock_wait::MAX_BACKOFF);
        attempt += 1;
    }
}

/// One try at a migration and its bookkeeping, in one transaction; any
/// failure rolls it all back.
///
/// On PostgreSQL the transaction first sets its lock wait and names itself
/// ([`crate::lock_wait`]), and only the last step of a run (`flush`) waits
/// for its commit to reach disk; the others commit with `synchronous_commit
/// = off`, saving a WAL flush each. Commits are replayed in order after a
/// crash, so a crash can only lose a suffix of the run's steps, each whole (a
/// migration and its bookkeeping row commit together), and the last commit
/// makes them all durable before the run reports success.
async fn attempt_step(run: &Run<'_>, index: usize, flush: bool) -> Result<Option<Step>, Error> {
    let Run {
        db,
        history,
        direction,
        state,
        options,
        ..
    } = *run;
    let migration = &history.migrations[index];
    let name = migration.name().to_owned();
    let backend = db.get_database_backend();
    let table = quote_ident(backend, &history.table);
    let started = Instant::now();
    let action = match direction {
        Direction::Up => "applying it",
        Direction::Down => "rolling it back",
    };
    let bookkeeping = |source| Error::Migration {
        name: name.clone(),
        action: "recording it",
        source,
    };
    // What opens the transaction on PostgreSQL: the lock wait, the name it
    // goes by while it runs, and for all but the last step no disk flush.
    let mut setup = Vec::new();
    if backend == DbBackend::Postgres {
        setup = crate::lock_wait::prologue(&name, options.lock_wait);
        if !flush {
            setup.push("SET LOCAL synchronous_commit = off".to_owned());
        }
    }

    let checksum = match direction {
        Direction::Up => crate::checksum::of(migration.as_ref(), backend).await,
        Direction::Down => None,
    };
    let checksum = checksum.as_deref();

    // On PostgreSQL a migration that cannot depend on what the database
    // holds is recorded first and sent as one batch inside its transaction:
    // BEGIN, the batch, COMMIT, three round trips whatever its size.
    let recorded = match backend {
        DbBackend::Postgres => crate::record::record(migration.as_ref(), direction, backend).await,
        _ => None,
    };

    let txn = if backend == DbBackend::Sqlite {
        begin_immediate(db, options).await?
    } else {
        db.begin()
            .await
            .map_err(Error::db("starting a transaction"))?
    };
    if let Some(statements) = recorded {
        let mut batch = setup;
        batch.reserve(statements.len() + 2);
        if !state.tracked && direction == Direction::Up {
            batch.push(
                backend
                    .build(&bookkeeping_table(backend, history))
                    .to_string(),
            );
        }
        batch.extend(statements.iter().map(Statement::to_string));
        batch.push(record_statement(backend, &table, &name, direction, checksum).to_string());
        if let Err(source) = txn.execute_unprepared(&batch.join(";\n")).await {
            let _ = txn.rollback().await;
            return Err(Error::Migration {
                name,
                action,
                source,
            });
        }
        return finish(txn, name, direction, started).await;
    }

    if !setup.is_empty() {
        txn.execute_unprepared(&setup.join(";\n"))
            .await
            .map_err(bookkeeping)?;
    }
    if !state.tracked && direction == Direction::Up {
        create_bookkeeping(&txn, history)
            .await
            .map_err(bookkeeping)?;
    }
    if backend == DbBackend::Sqlite {
        // No lock spans the run on SQLite: check again under the write lock.
        let done = is_recorded(&txn, &table, &name)
            .await
            .map_err(bookkeeping)?;
        if done == (direction == Direction::Up) {
            txn.rollback().await.map_err(bookkeeping)?;
            return Ok(None);
        }
    }

    let manager = SchemaManager::new(&txn);
    let ran = match direction {
        Direction::Up => migration.up(&manager).await,
        Direction::Down => migration.down(&manager).await,
    };
    if let Err(source) = ran {
        let _ = txn.rollback().await;
        return Err(Error::Migration {
            name,
            action,
            source,
        });
    }
    let record = record_statement(backend, &table, &name, direction, checksum);
    let recorded = match backend {
        DbBackend::Postgres => txn.execute_unprepared(&record.to_string()).await,
        _ => txn.execute_raw(record).await,
    };
    if let Err(source) = recorded {
        let _ = txn.rollback().await;
        return Err(bookkeeping(source));
    }
    finish(txn, name, direction, started).await
}

/// A migration whose `use_transaction()` is `Some(false)`, so that it can
/// run what PostgreSQL refuses inside a transaction block (`CREATE INDEX
/// CONCURRENTLY`): its statements are sent one by one, each committing on
/// its own (on PostgreSQL each as a simple query when the migration reads
/// nothing, as recorded by [`crate::record::record`]), and its bookkeeping
/// row is written once they have all succeeded. A failure records nothing
/// and leaves what the database left (a failed `CREATE INDEX CONCURRENTLY`
/// leaves an INVALID index), so the migration stays pending and the next run
/// runs it again from its first statement: such a migration must be
/// rerunnable, e.g. `DROP INDEX CONCURRENTLY IF EXISTS ix` before `CREATE
/// INDEX CONCURRENTLY ix …`. No lock wait is set (a `SET` would outlive the
/// migration on a pooled connection, and a concurrent index build waits for
/// older transactions by design); the migration lock still serialises runs
/// on PostgreSQL. On SQLite, which has no run-long lock, whether the step is
/// still to be done is read without the write lock.
async fn run_outside_transaction(run: &Run<'_>, index: usize) -> Result<Option<Step>, Error> {
    let Run {
        db,
        history,
        direction,
        state,
        ..
    } = *run;
    let migration = &history.migrations[index];
    let name = migration.name().to_owned();
    let backend = db.get_database_backend();
    let table = quote_ident(backend, &history.table);
    let started = Instant::now();
    let action = match direction {
        Direction::Up => "applying it outside a transaction",
        Direction::Down => "rolling it back outside a transaction",
    };
    let bookkeeping = |source| Error::Migration {
        name: name.clone(),
        action: "recording it",
        source,
    };
    if !state.tracked && direction == Direction::Up {
        let create = backend.build(&bookkeeping_table(backend, history));
        db.execute_unprepared(&create.to_string())
            .await
            .map_err(bookkeeping)?;
    }
    if backend == DbBackend::Sqlite {
        let done = is_recorded(db, &table, &name).await.map_err(bookkeeping)?;
        if done == (direction == Direction::Up) {
            return Ok(None);
        }
    }
    let recorded = match backend {
        DbBackend::Postgres => crate::record::record(migration.as_ref(), direction, backend).await,
        _ => None,
    };
    let ran = match recorded {
        Some(statements) => {
            let mut ran = Ok(());
            for statement in &statements {
                if let Err(e) = db.execute_unprepared(&statement.to_string()).await {
                    ran = Err(e);
                    break;
                }
            }
            ran
        }
        None => {
            let manager = SchemaManager::new(db);
            match direction {
                Direction::Up => migration.up(&manager).await,
                Direction::Down => migration.down(&manager).await,
            }
        }
    };
    ran.map_err(|source| Error::Migration {
        name: name.clone(),
        action,
        source,
    })?;
    let checksum = match direction {
        Direction::Up => crate::checksum::of(migration.as_ref(), backend).await,
        Direction::Down => None,
    };
    let record = record_statement(backend, &table, &name, direction, checksum.as_deref());
    let recorded = match backend {
        DbBackend::Postgres => db.execute_unprepared(&record.to_string()).await,
        _ => db.execute_raw(record).await,
    };
    recorded.map_err(bookkeeping)?;
    let elapsed = started.elapsed();
    let what = match direction {
        Direction::Up => "applied",
        Direction::Down => "rolled back",
    };
    tracing::info!(
        "{what} {name} outside a transaction ({})",
        crate::fmt_duration(elapsed)
    );
    Ok(Some(Step {
        name,
        direction,
        elapsed,
        lock_waits: 0,
    }))
}

/// SQLite: whether `table` (quoted) records migration `name`, read on `db`
/// (inside the step's write-locked transaction, where there is one).
async fn is_recorded<C: ConnectionTrait>(db: &C, table: &str, name: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!("SELECT count(*) AS n FROM {table} WHERE version = ?"),
            [name.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i32>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// The bookkeeping row's INSERT (up, with the migration's checksum) or
/// DELETE (down).
pub(crate) fn record_statement(
    backend: DbBackend,
    table: &str,
    name: &str,
    direction: Direction,
    checksum: Option<&str>,
) -> Statement {
    match direction {
        Direction::Up => Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO {table} (version, applied_at, {}) VALUES ({}, {}, {})",
                crate::checksum::COLUMN,
                placeholder(backend, 1),
                placeholder(backend, 2),
                placeholder(backend, 3)
            ),
            [
                name.into(),
                now_unix().into(),
                checksum.map(str::to_owned).into(),
            ],
        ),
        Direction::Down => Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM {table} WHERE version = {}",
                placeholder(backend, 1)
            ),
            [name.into()],
        ),
    }
}

/// Commits a step's transaction and reports it.
async fn finish(
    txn: sea_orm::DatabaseTransaction,
    name: String,
    direction: Direction,
    started: Instant,
) -> Result<Option<Step>, Error> {
    txn.commit().await.map_err(|source| Error::Migration {
        name: name.clone(),
        action: "committing it",
        source,
    })?;
    let elapsed = started.elapsed();
    match direction {
        Direction::Up => tracing::info!("applied {name} ({})", crate::fmt_duration(elapsed)),
        Direction::Down => {
            tracing::info!("rolled back {name} ({})", crate::fmt_duration(elapsed))
        }
    }
    Ok(Some(Step {
        name,
        direction,
        elapsed,
        lock_waits: 0,
    }))
}

/// `CREATE TABLE IF NOT EXISTS seaql_migrations …`, as sea-orm-migration makes it.
pub(crate) async fn create_bookkeeping<C: ConnectionTrait>(
    db: &C,
    history: &History,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let create = backend.build(&bookkeeping_table(backend, history));
    db.execute_unprepared(&create.to_string()).await.map(|_| ())
}

/// `CREATE TABLE IF NOT EXISTS` of the bookkeeping table: sea-orm-migration's
/// `version` and `applied_at`, and the checksum ([`crate::checksum`]).
pub(crate) fn bookkeeping_table(
    backend: DbBackend,
    history: &History,
) -> sea_orm::sea_query::TableCreateStatement {
    use sea_orm::sea_query::{Alias, ColumnDef};
    let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
    create.table(Alias::new(history.table.as_str()));
    // Nullable, and unknown to sea-orm's own CLI, which leaves it empty.
    create.col(ColumnDef::new(Alias::new(crate::checksum::COLUMN)).string());
    create.if_not_exists();
    create
}

pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// `BEGIN IMMEDIATE` on SQLite: takes the file's write lock, waiting up to the
/// connection's busy timeout, and says so when it has to wait.
async fn begin_immediate(
    db: &DatabaseConnection,
    options: &RunOptions,
) -> Result<sea_orm::DatabaseTransaction, Error> {
    let begin = db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    });
    let result = crate::rt::announce_if_slow(
        begin,
        Duration::from_millis(500),
        "waiting for the SQLite write lock: another run is migrating this database",
    )
    .await;
    result.map_err(|e| {
        if e.to_string().contains("database is locked") {
            Error::LockTimeout {
                seconds: options.lock_timeout.as_secs(),
            }
        } else {
            Error::Database {
                action: "starting a transaction".into(),
                source: e,
            }
        }
    })
}
