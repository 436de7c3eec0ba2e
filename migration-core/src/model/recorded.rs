//! What the bookkeeping table records: the applied migrations and, on a
//! database the Alembic migrator built, its revision. A "record" is always
//! one bookkeeping row.

/// The Alembic migrator's bookkeeping table.
pub const ALEMBIC_TABLE: &str = "alembic_version";

/// One bookkeeping row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub name: String,
    /// Unix seconds.
    pub applied_at: i64,
    /// Its checksum when it was applied ([`crate::pure::checksum`]), if recorded.
    pub checksum: Option<String>,
}

/// A recorded migration that this binary has under another number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renumbered {
    /// The name the database records.
    pub recorded: String,
    /// The binary's migration with the same words after its number.
    pub now: String,
    /// The bookkeeping table.
    pub table: String,
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
    /// Of those, the ones this binary has under another number (the same
    /// name after `mNNN_`): probably renumbered after a merge.
    pub renumbered: Vec<Renumbered>,
    /// Every row's name as read, duplicates kept (empty when nothing is
    /// recorded, Alembic adoption pending included).
    pub recorded: Vec<String>,
    /// Set when the database was built by the Alembic migrator and our
    /// bookkeeping is empty: `applied` then lists the migrations its revision
    /// stands for, to be recorded by the next run that changes state.
    pub alembic: Option<AlembicRevision>,
}

/// The Alembic revision found in a database our bookkeeping does not track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlembicRevision {
    /// As recorded: `005`.
    pub revision: String,
    /// How many of our migrations it stands for: 5.
    pub count: usize,
}
