//! Taking over a database that the Alembic migrator built.
//!
//! Such a database records its position in a one-row `alembic_version` table
//! ('001' … '010'), and nothing in our bookkeeping. Revision N maps to our
//! migration N of the same database. Before adopting, the database's tables
//! and columns are compared with what our migrations 1..N build (in a scratch
//! schema inside a transaction that is rolled back, or an in-memory SQLite
//! database); a difference means the schema was changed by hand, and adoption
//! is refused with the list. Adopting records migrations 1..N as applied in
//! one transaction, under the migration lock, so replicas adopt once.
//!
//! Reading commands (`status`, `current`, the health helpers) write nothing:
//! they report an adoptable database as being at revision N already.
//! `alembic_version` stays, so the previous deploy still works if it has to
//! come back; `drop-alembic-version` removes it once that is no longer needed.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::Error;
use crate::backend::adoption;
use crate::ops::read::is_undefined_table;
use crate::pure::history::History;

pub use crate::model::recorded::{ALEMBIC_TABLE, AlembicRevision};

/// What a database is taken over as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Takeover {
    /// Built by the Alembic migrator, at this revision.
    Alembic(AlembicRevision),
    /// Built some other way (the platform's `create_all()` fallback, a
    /// restore): baselined at the migration with this many steps.
    Baseline(usize),
}

impl Takeover {
    /// How many of the history's migrations it stands for.
    pub(crate) fn count(&self) -> usize {
        match self {
            Takeover::Alembic(found) => found.count,
            Takeover::Baseline(count) => *count,
        }
    }
}

/// Checks the schema against what migrations 1..N build (see
/// [`differences`]), then records them as applied in one transaction. Call
/// with the migration lock held. Returns `false` when another run took the
/// database over meanwhile. With `accept_differences` a differing schema is
/// taken over all the same, each accepted difference logged.
pub(crate) async fn adopt(
    db: &DatabaseConnection,
    history: &History,
    how: &Takeover,
    accept_differences: bool,
) -> Result<bool, Error> {
    let count = how.count();
    let names = history.names();
    let recorded = span(&names[..count]);
    let (differences, shared) = differences(db, history, count).await?;
    if let (Takeover::Baseline(_), false) = (how, shared) {
        // Nothing of the schema is there: a baseline would record
        // migrations that never ran, accepting every table as missing.
        return Err(Error::BaselineEmpty {
            at: names[count - 1].to_owned(),
        });
    }
    if !differences.is_empty() {
        if !accept_differences {
            return Err(match how {
                Takeover::Alembic(found) => Error::SchemaDrift {
                    verb: "adopting",
                    against: format!("Alembic revision {}", found.revision),
                    differences,
                },
                Takeover::Baseline(_) => Error::SchemaDrift {
                    verb: "baselining",
                    against: format!("what {recorded} build"),
                    differences,
                },
            });
        }
        for difference in &differences {
            tracing::warn!(
                "accepted difference: {}",
                crate::model::escape::escape(difference)
            );
        }
    }
    let backend = db.get_database_backend();
    let failed = || Error::db(format!("recording the adoption in {}", history.table()));
    let mut rows = Vec::with_capacity(count);
    for migration in &history.migrations[..count] {
        let checksum = crate::pure::checksum::of(migration.as_ref(), backend).await;
        rows.push((migration.name(), checksum));
    }
    let record =
        crate::pure::bookkeeping::record_adoption(crate::backend::of(backend), history, &rows);
    let txn = db.begin().await.map_err(failed())?;
    let timed = match adoption::prologue(backend) {
        Some(timeout) => txn.execute_unprepared(&timeout).await.map(|_| ()),
        None => Ok(()),
    };
    // A bookkeeping table made before checksums were kept gets the column.
    if let Err(e) = match timed {
        Ok(()) => crate::ops::record::add_checksum_column(&txn, history).await,
        Err(e) => Err(e),
    } {
        let _ = txn.rollback().await;
        return Err(failed()(e));
    }
    let inserted = match txn.execute_unprepared(&record).await {
        Ok(done) => done.rows_affected(),
        Err(e) => {
            let _ = txn.rollback().await;
            return Err(failed()(e));
        }
    };
    txn.commit().await.map_err(failed())?;
    if inserted == 0 {
        return Ok(false);
    }
    let accepted = if differences.is_empty() {
        String::new()
    } else {
        format!(
            " (accepting {} from the schema they build)",
            crate::model::error::plural(differences.len(), "difference")
        )
    };
    match how {
        Takeover::Alembic(found) => tracing::info!(
            "adopted the Alembic-built database at revision {}: recorded {recorded} as \
             applied{accepted}",
            found.revision,
        ),
        Takeover::Baseline(_) => tracing::info!(
            "baselined the database at {}: recorded {recorded} as applied{accepted}",
            names[count - 1]
        ),
    }
    Ok(true)
}

fn span(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{first} … {last}"),
    }
}

/// Every difference between the database's schema and what migrations
/// 1..`count` build: tables, columns (type, nullability, default, identity),
/// constraints, indexes and sequences, one line each. Column order is left
/// out. Defaults are compared as the catalog prints them; two that differ
/// are evaluated (see [`same_default`]) only when neither calls anything but
/// built-in casts of constants ([`crate::backend::postgres::default_expr`]), so `0.0`, `'0.0'`
/// and `'0'::double precision` are one default however a dump or a server
/// version spelled it, and no function of the database ever runs. Also
/// says whether the database has any of the tables they build.
pub(crate) async fn differences(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Vec<String>, bool), Error> {
    let (mut have, have_evaluable) = adoption::current(db, history).await?;
    let (want, want_evaluable) = adoption::expected(db, history, count).await?;
    let backend = db.get_database_backend();
    for (name, table) in &mut have.tables {
        let Some(wanted) = want.tables.get(name) else {
            continue;
        };
        for column in &mut table.columns {
            let Some(expected) = wanted.columns.iter().find(|c| c.name == column.name) else {
                continue;
            };
            let key = (name.clone(), column.name.clone());
            let (Some(a), Some(b)) = (&column.default, &expected.default) else {
                continue;
            };
            let evaluable = adoption::may_evaluate(
                backend,
                have_evaluable.get(&key) == Some(&true) && want_evaluable.get(&key) == Some(&true),
                a,
                b,
            );
            if a != b
                && evaluable
                && column.data_type == expected.data_type
                && adoption::same_default(db, &column.data_type, a, b).await
            {
                column.default = expected.default.clone();
            }
        }
    }
    let shared = want
        .tables
        .keys()
        .any(|name| have.tables.contains_key(name));
    Ok((have.diff(&want, false), shared))
}

/// Drops `alembic_version` once our bookkeeping records the adoption.
/// Call with the migration lock held.
pub(crate) async fn drop_alembic_version(
    db: &DatabaseConnection,
    history: &History,
    tracked: bool,
) -> Result<bool, Error> {
    let table = history.qualified(crate::backend::of(db.get_database_backend()), ALEMBIC_TABLE);
    let sql = format!("SELECT version_num FROM {table}");
    let exists = match crate::backend::transport::Reader::query_all(db, sql).await {
        Ok(_) => true,
        Err(e) if is_undefined_table(db.get_database_backend(), &e) => false,
        Err(e) => return Err(Error::db(format!("reading {ALEMBIC_TABLE}"))(e)),
    };
    if !exists {
        return Ok(false);
    }
    if !tracked {
        return Err(Error::AlembicOnlyRecord);
    }
    db.execute_unprepared(&format!("DROP TABLE {table}"))
        .await
        .map_err(Error::db(format!("dropping {ALEMBIC_TABLE}")))?;
    Ok(true)
}
