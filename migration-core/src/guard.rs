//! Refusals that read the database before anything runs: another migrator's
//! history (its first migration recorded, the tables it creates missing), and
//! a destructive command on a history that is not this binary's.

use sea_orm::{DatabaseConnection, DbErr, Statement};

use crate::Error;
use crate::history::History;
use crate::plan::Direction;
use crate::sql::Reader;
use crate::state::{State, read_state};

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
