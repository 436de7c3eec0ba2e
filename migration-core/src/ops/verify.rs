//! `verify`: whether each applied migration is what this binary renders.

use sea_orm::DatabaseConnection;

use crate::Error;
use crate::ops::read::read_state;
use crate::pure::checksum::{self, Entry};
use crate::pure::history::History;

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Nothing recorded yet: the Alembic migrator built the database, at
    /// this revision; the next run that changes state records it.
    AtAlembic { revision: String },
    /// No migration is applied.
    NothingApplied,
    /// Each applied migration, oldest first, with what its checksum says.
    Checked(Vec<Entry>),
}

/// Compares each applied migration's recorded checksum with what this
/// binary renders, changing nothing. Refuses a database that records names
/// this binary does not have, damaged records, and another migrator's
/// history (whose migrations render differently too).
pub async fn verify(db: &DatabaseConnection, history: &History) -> Result<Verification, Error> {
    let state = read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    state.refuse_damage(history)?;
    if let Some(found) = &state.alembic {
        return Ok(Verification::AtAlembic {
            revision: found.revision.clone(),
        });
    }
    if state.applied.is_empty() {
        return Ok(Verification::NothingApplied);
    }
    let checks = checksum::compare(history, &state, db.get_database_backend(), false).await;
    if !checksum::edited(&checks).is_empty() {
        crate::ops::checks::refuse_foreign(db, history, &state).await?;
    }
    Ok(Verification::Checked(checks))
}
