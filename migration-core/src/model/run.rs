//! What a run takes and reports: its goal, its options, its steps.

use std::time::Duration;

/// How long a run waits for another run's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one statement of a migration waits for a lock by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(2);

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

/// Which way a step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Tuning of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Whether `up` and `down` go on over applied migrations edited since
    /// they were applied, warning about each, instead of refusing to run
    /// (`--allow-edited`, `MIGRATION_ALLOW_EDITED`; see [`crate::ops::edited`]).
    pub allow_edited: bool,
    /// How long to wait for another run's lock; also how long, in all, a run
    /// keeps retrying migrations that time out waiting for a table's lock.
    pub lock_timeout: Duration,
    /// PostgreSQL: how long one statement of a migration may wait for a lock
    /// (`SET LOCAL lock_timeout`) before the migration is rolled back and
    /// retried; `None` waits without bound (see [`crate::backend::postgres::lock_wait`]).
    pub lock_wait: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            allow_edited: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            lock_wait: Some(DEFAULT_LOCK_WAIT),
        }
    }
}

/// One migration applied or rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub direction: Direction,
    /// Its (last) transaction's, or outside one its statements', duration.
    pub elapsed: Duration,
    /// How many times it gave up waiting for a table's lock, was rolled
    /// back and tried again (see [`crate::backend::postgres::lock_wait`]).
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
    /// Applied migrations edited since they were applied (`up` only, when
    /// allowed; see [`crate::ops::edited`]), each warned about.
    pub edited: Vec<String>,
}
