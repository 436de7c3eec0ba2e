//! The statements of one step around its migration's own: what opens it,
//! whether it makes the bookkeeping table, whether it checks again under
//! the write lock that it is still due, and the bookkeeping row it writes.
//! Built once, here, for the executor (`ops::step`) and the dry run alike.

use sea_orm::Statement;

use crate::model::run::Direction;
use crate::pure::bookkeeping::{create_sql, is_recorded_statement, record_statement};
use crate::pure::dialect::Dialect;
use crate::pure::history::History;

/// What a step does besides its migration's statements.
#[derive(Debug, Clone)]
pub(crate) struct StepPlan {
    /// The settings its transaction starts with (the backend's prologue).
    pub(crate) setup: Vec<String>,
    /// The bookkeeping table's `CREATE`, when the step is the first to record.
    pub(crate) create_bookkeeping: Option<String>,
    /// The query telling, under the step's write lock, whether the
    /// migration is recorded already (where no lock spans the run).
    pub(crate) recheck: Option<Statement>,
    /// The bookkeeping row's `INSERT` (up, with its checksum) or `DELETE`.
    pub(crate) record: Statement,
}

/// The plan of migration `name` going `direction` in `history`'s
/// bookkeeping table, on a database that `tracked` it already or not.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_step(
    dialect: &dyn Dialect,
    history: &History,
    name: &str,
    direction: Direction,
    tracked: bool,
    rechecks: bool,
    setup: Vec<String>,
    checksum: Option<&str>,
) -> StepPlan {
    let table = history.quoted_table(dialect);
    StepPlan {
        setup,
        create_bookkeeping: (!tracked && direction == Direction::Up)
            .then(|| create_sql(dialect, history)),
        recheck: rechecks.then(|| is_recorded_statement(dialect, &table, name)),
        record: record_statement(dialect, &table, name, direction, checksum),
    }
}
