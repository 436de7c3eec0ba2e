//! Reading what the bookkeeping table records, with one SELECT that issues
//! no DDL (a read-only role can make it), and the Alembic revision.

use sea_orm::DbErr;

use crate::Error;
use crate::backend::transport::Reader;
use crate::model::recorded::{ALEMBIC_TABLE, AlembicRevision, Applied, Renumbered, State};
use crate::pure::history::History;

/// Reads the bookkeeping table with one SELECT; a missing table means nothing
/// is applied. Issues no DDL, so a read-only role can call it. On
/// PostgreSQL it is a simple query ([`crate::backend::transport`]), safe behind a
/// transaction-pooling proxy.
pub async fn read_state<C: Reader + ?Sized>(db: &C, history: &History) -> Result<State, Error> {
    crate::backend::supported(db.backend())?;
    let backend = db.backend();
    let sql = format!(
        "SELECT * FROM {} ORDER BY version",
        history.quoted_table(crate::backend::of(backend))
    );
    let rows = match db.query_all(sql).await {
        Ok(rows) => rows,
        Err(e) if is_undefined_table(db.backend(), &e) => {
            let state = State {
                alembic: read_alembic(db, history).await?,
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
            .any(|c| c == crate::pure::checksum::COLUMN)
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
                    .try_get::<Option<String>>("", crate::pure::checksum::COLUMN)
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
        state.alembic = read_alembic(db, history).await?;
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
            if let Some(now) = crate::pure::layout::renumbered_as(&a.name, &names) {
                state.renumbered.push(Renumbered {
                    recorded: a.name.clone(),
                    now: now.to_owned(),
                    table: history.table.clone(),
                });
            }
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

pub(crate) fn is_undefined_table(backend: sea_orm::DbBackend, e: &DbErr) -> bool {
    crate::backend::of(backend).is_undefined_table(e)
}

/// Reads `alembic_version` (one SELECT): `None` when there is no such table;
/// an error when it is empty, has several rows or names a revision this
/// history does not have.
pub(crate) async fn read_alembic<C: crate::backend::transport::Reader + ?Sized>(
    db: &C,
    history: &History,
) -> Result<Option<AlembicRevision>, Error> {
    let sql = format!(
        "SELECT version_num FROM {} ORDER BY version_num",
        history.qualified(crate::backend::of(db.backend()), ALEMBIC_TABLE)
    );
    let rows = match db.query_all(sql).await {
        Ok(rows) => rows,
        Err(e) if is_undefined_table(db.backend(), &e) => return Ok(None),
        Err(e) => return Err(Error::db(format!("reading {ALEMBIC_TABLE}"))(e)),
    };
    let found: Vec<Option<String>> = rows
        .iter()
        .map(|r| r.try_get_by_index::<Option<String>>(0))
        .collect::<Result<_, _>>()
        .map_err(Error::db(format!("reading {ALEMBIC_TABLE}")))?;
    if let [one] = found.as_slice() {
        match one.as_deref().map(str::trim) {
            None => return Err(Error::AlembicVersionBlank { found: "a NULL" }),
            Some("") => return Err(Error::AlembicVersionBlank { found: "an empty" }),
            Some(_) => {}
        }
    }
    let found: Vec<String> = found
        .into_iter()
        .map(|r| r.unwrap_or_else(|| "NULL".to_owned()))
        .collect();
    let known = history.alembic_revisions.min(history.names().len());
    match found.as_slice() {
        [] => Err(Error::AlembicVersionEmpty),
        [revision] => match revision.parse::<usize>() {
            Ok(n) if (1..=known).contains(&n) && *revision == format!("{n:03}") => {
                Ok(Some(AlembicRevision {
                    revision: revision.clone(),
                    count: n,
                }))
            }
            _ => Err(Error::AlembicRevisionUnknown {
                revision: revision.clone(),
                known,
            }),
        },
        many => Err(Error::AlembicVersionRows {
            revisions: many.to_vec(),
        }),
    }
}
