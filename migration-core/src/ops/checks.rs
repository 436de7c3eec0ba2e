//! Refusals that read the database before anything runs: another migrator's
//! history (its first migration recorded, the tables it creates missing), and
//! a destructive command on a history that is not this binary's.

use sea_orm::{DatabaseConnection, DbErr, Statement};

use crate::Error;
use crate::backend::transport::Reader;
use crate::model::recorded::State;
use crate::model::run::Direction;
use crate::ops::read::read_state;
use crate::pure::history::History;

/// Every table of the database (of `schema` on PostgreSQL), one query.
pub(crate) async fn table_names<C: Reader + ?Sized>(
    db: &C,
    schema: &str,
) -> Result<Vec<String>, DbErr> {
    let list = crate::backend::of(db.backend()).table_names(schema);
    db.query_all(list)
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect()
}

/// Refuses a database that records this history's first migration but
/// lacks a table of its signature ([`crate::pure::history`]): another migrator's
/// history. One catalog query and a second read of the bookkeeping, made
/// only when the first migration is recorded; says nothing when a migration
/// involved cannot be recorded without a database.
///
/// A run racing this one (on SQLite, where nothing is locked while this is
/// read) may apply a migration that drops a table or column between the
/// reads: when the check fails and what is recorded has changed since
/// `state`, it is made again with what is recorded now.
pub async fn refuse_foreign<C: Reader + ?Sized>(
    db: &C,
    history: &History,
    state: &State,
) -> Result<(), Error> {
    let mut seen = state
        .applied
        .iter()
        .map(|a| a.name.clone())
        .collect::<Vec<_>>();
    loop {
        let refused = match check_foreign(db, history, state).await {
            Err(e @ Error::Foreign { .. }) => e,
            other => return other,
        };
        let now = read_state(db, history).await?;
        let names = now
            .applied
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>();
        if names == seen {
            return Err(refused);
        }
        seen = names;
    }
}

async fn check_foreign<C: Reader + ?Sized>(
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
    let existing = table_names(db, history.schema())
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
    let Some(created) = crate::pure::capture::batch(first.as_ref(), Direction::Up, backend).await
    else {
        return Ok(());
    };
    let mut later = Vec::new();
    for migration in &history.migrations[1..] {
        if state.is_applied(migration.name()) {
            match crate::pure::capture::batch(migration.as_ref(), Direction::Up, backend).await {
                Some(statements) => later.push(render(statements)),
                None => return Ok(()),
            }
        }
    }
    let created = render(created);
    let signature = crate::pure::history::signature_tables(&created, &later);
    if signature.is_empty() {
        return Ok(());
    }
    crate::pure::history::foreign(first.name(), &signature, &existing)?;
    if ahead_of(history, state) {
        // This history, grown past the binary: a later migration it does
        // not know may have renamed or dropped a column of those tables.
        return Ok(());
    }
    // Tables of the right names: their columns too (one more query).
    let columns = crate::pure::history::signature_columns(&created, &later, &signature);
    if columns.is_empty() {
        return Ok(());
    }
    let existing = column_names(db, history.schema(), &signature)
        .await
        .map_err(Error::db("reading the catalog"))?;
    crate::pure::history::foreign_columns(first.name(), &columns, &existing)
}

/// Every (table, column) of `tables` (in `schema` on PostgreSQL), one query.
async fn column_names<C: Reader + ?Sized>(
    db: &C,
    schema: &str,
    tables: &[String],
) -> Result<Vec<(String, String)>, DbErr> {
    let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
    let sql = crate::backend::of(db.backend()).column_names(schema, &tables);
    db.query_all(sql)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String>("", "t")?, r.try_get::<String>("", "c")?)))
        .collect()
}

/// Refuses names this binary does not know ([`State::refuse_unknown`]); when
/// the database holds another migrator's history (which records names this
/// binary does not have once that history grew past its first migration),
/// says that instead. The catalog query is made only on that refusal's path.
pub async fn refuse_unknown<C: Reader + ?Sized>(
    db: &C,
    history: &History,
    state: &State,
) -> Result<(), Error> {
    match state.refuse_unknown() {
        Ok(()) => Ok(()),
        Err(ahead) => {
            refuse_foreign(db, history, state).await?;
            Err(ahead)
        }
    }
}

/// What a run checks again once it holds the migration lock, before its
/// first write (another run may have changed the database while it waited):
/// names this binary does not know, a damaged history, another migrator's
/// history, and bookkeeping columns it could not read back
/// ([`crate::ops::record::check_columns`]).
pub(crate) async fn refuse_under_lock(
    db: &DatabaseConnection,
    history: &History,
    state: &State,
) -> Result<(), Error> {
    refuse_unknown(db, history, state).await?;
    state.refuse_damage(history)?;
    refuse_foreign(db, history, state).await?;
    if state.tracked {
        crate::ops::record::check_columns(db, history).await?;
    }
    Ok(())
}

/// `command` (`fresh`, which drops every table) unless told to go ahead: refused on
/// a database that records migrations this binary does not know (ahead of
/// it, or another migrator's) or holds another migrator's history
/// ([`refuse_foreign`]). Costs the one SELECT of [`read_state`], and the
/// catalog query of the signature check when the first migration is
/// recorded.
pub async fn refuse_not_our_history(
    db: &DatabaseConnection,
    history: &History,
    command: &'static str,
) -> Result<(), Error> {
    let state = read_state(db, history).await?;
    let reason = if !state.unknown.is_empty() {
        format!(
            "it records {} unknown to this binary",
            state.unknown.join(", ")
        )
    } else {
        match refuse_foreign(db, history, &state).await {
            Err(Error::Foreign {
                first,
                missing,
                columns,
            }) => format!(
                "it records {first} but has no {}: another migrator's",
                crate::model::error::foreign_missing(&missing, &columns)
            ),
            other => return other,
        }
    };
    Err(Error::NotOurHistory { command, reason })
}

/// Whether `state` records every migration of `history` and, past them,
/// only names numbered after its head: this history run further by a newer
/// binary, whatever those migrations changed.
fn ahead_of(history: &History, state: &State) -> bool {
    let number = |name: &str| crate::pure::layout::parse(name).map(|(n, _, _)| n);
    let head = history.head().and_then(number);
    !state.unknown.is_empty()
        && history.names().iter().all(|n| state.is_applied(n))
        && state
            .unknown
            .iter()
            .all(|u| matches!((number(u), head), (Some(u), Some(h)) if u > h))
}
