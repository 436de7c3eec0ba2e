//! What every step of a locked run shares.

use sea_orm::DatabaseConnection;

use crate::backend::postgres::lock::MigrationLock;
use crate::model::recorded::State;
use crate::model::run::{Direction, RunOptions};
use crate::pure::history::History;

/// What every step of a locked run shares.
pub(crate) struct Run<'a> {
    pub(crate) db: &'a DatabaseConnection,
    pub(crate) history: &'a History,
    pub(crate) direction: Direction,
    pub(crate) state: &'a State,
    pub(crate) options: &'a RunOptions,
    pub(crate) lock: &'a MigrationLock,
}
