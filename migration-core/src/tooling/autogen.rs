//! `generate NAME --autogenerate`: the source of a migration that takes the
//! database from its current schema to what the entities describe, and back.
//!
//! It creates and drops tables, adds and drops columns (with the defaults
//! the entities give them), creates and drops indexes and unique keys the
//! entities declare (`indexed`, `unique`) and foreign keys, each with its
//! exact inverse in `down`. What it cannot decide (a type or nullability
//! change, a column that may have been renamed, dropping a table with its
//! rows, a NOT NULL column without a default added to a table that may have
//! rows, an index over several columns, which no entity can declare) is
//! written as a `// review:` comment for a person to settle, never as a
//! guess. New objects follow the
//! schema's naming: `ix_<table>_<column>` indexes, `<table>_<column>_fkey`
//! foreign keys.

mod code;

use std::collections::BTreeMap;

use crate::pure::catalog::{Catalog, Column, ForeignKey, Table, quote_if_needed as q};
use code::{
    column_def, create_foreign_key, create_index, create_table, drop_column, drop_foreign_key,
    drop_index, drop_table, render,
};

/// A change, as builder code for `up` and its inverse for `down`.
#[derive(Default)]
struct Plan {
    up: Vec<String>,
    /// What the up step sends on PostgreSQL, near enough for `lint`: the
    /// statements on tables that exist already (a new table is empty).
    sql: Vec<String>,
    down: Vec<String>,
    summary: Vec<String>,
}

impl Plan {
    fn review(&mut self, note: String) {
        self.up.push(format!("// review: {note}"));
    }
}

/// The migration's source; `None` when the database already matches.
pub fn migration_source(have: &Catalog, want: &Catalog) -> Option<String> {
    let mut plan = Plan::default();
    let mut late_up = Vec::new();
    let mut late_sql = Vec::new();
    let mut early_down = Vec::new();

    // Tables the entities add, each after those it references.
    for name in want.creation_order() {
        if have.tables.contains_key(name) {
            continue;
        }
        let table = &want.tables[name];
        plan.up.push(create_table(name, table, true));
        plan.sql
            .push(format!("CREATE TABLE {} (id integer)", q(name)));
        plan.down.push(drop_table(name));
        for (index, columns, unique) in plain_indexes(name, table) {
            plan.up.push(create_index(&index, name, &columns, unique));
            plan.down.push(drop_index(&index, name));
        }
        plan.summary.push(format!("create table {name}"));
    }

    for (name, have_table) in &have.tables {
        let Some(want_table) = want.tables.get(name) else {
            continue;
        };
        let added: Vec<&Column> = want_table
            .columns
            .iter()
            .filter(|c| !have_table.columns.iter().any(|h| h.name == c.name))
            .collect();
        let dropped: Vec<&Column> = have_table
            .columns
            .iter()
            .filter(|c| !want_table.columns.iter().any(|w| w.name == c.name))
            .collect();
        if added.len() == 1 && dropped.len() == 1 && added[0].data_type == dropped[0].data_type {
            plan.review(format!(
                "{name}.{} may have been renamed to {}: if so, replace the add and drop below \
                 with a rename, or the column's values are lost",
                dropped[0].name, added[0].name
            ));
        }
        for column in &added {
            let (code, note) = column_def(column, false, true);
            if let Some(note) = note {
                plan.review(format!("{name}.{}: {note}", column.name));
            }
            if column.not_null && column.default.is_none() {
                plan.review(format!(
                    "{name}.{}: NOT NULL without a default fails on a table with rows (column \
                     contains null values); give the entity a default_value, or add the column \
                     nullable, fill it, and make it NOT NULL in a later migration",
                    column.name
                ));
            }
            plan.up.push(format!(
                "manager\n            .alter_table(Table::alter().table({name:?}).add_column({code}).to_owned())\n            .await?;"
            ));
            plan.sql.push(format!(
                "ALTER TABLE {} ADD COLUMN {} {}{}{}",
                q(name),
                q(&column.name),
                column.data_type,
                if column.not_null { " NOT NULL" } else { "" },
                column
                    .default
                    .as_deref()
                    .map_or(String::new(), |d| format!(" DEFAULT {d}"))
            ));
            plan.down.push(drop_column(name, &column.name));
            plan.summary
                .push(format!("add column {name}.{}", column.name));
        }
        for column in &dropped {
            let (code, _) = column_def(column, false, true);
            plan.review(format!(
                "{name}.{}: no entity has this column; the up step drops it with its values",
                column.name
            ));
            plan.up.push(drop_column(name, &column.name));
            plan.sql.push(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(name),
                q(&column.name)
            ));
            plan.down.push(format!(
                "manager\n            .alter_table(Table::alter().table({name:?}).add_column({code}).to_owned())\n            .await?;"
            ));
            plan.summary
                .push(format!("drop column {name}.{}", column.name));
        }
        for column in &want_table.columns {
            let Some(current) = have_table.columns.iter().find(|c| c.name == column.name) else {
                continue;
            };
            if current.data_type != column.data_type {
                plan.review(format!(
                    "{name}.{}: the database has {}, the entity {}; not changed",
                    column.name, current.data_type, column.data_type
                ));
            }
            if current.not_null != column.not_null {
                plan.review(format!(
                    "{name}.{}: the database has it {}, the entity {}; not changed",
                    column.name,
                    if current.not_null {
                        "NOT NULL"
                    } else {
                        "nullable"
                    },
                    if column.not_null {
                        "NOT NULL"
                    } else {
                        "nullable"
                    }
                ));
            }
        }

        // Indexes, by what they cover.
        let have_indexes = plain_indexes(name, have_table);
        let want_indexes = plain_indexes(name, want_table);
        let covers = |list: &[(String, Vec<String>, bool)],
                      constraints: &[&[String]],
                      columns: &[String],
                      unique: bool| {
            list.iter().any(|(_, c, u)| c == columns && *u == unique)
                || (unique && constraints.contains(&columns))
        };
        let have_unique: Vec<&[String]> = unique_constraints(have_table).map(|(_, c)| c).collect();
        let want_unique: Vec<&[String]> = unique_constraints(want_table).map(|(_, c)| c).collect();
        for index in expression_indexes(have_table) {
            plan.review(format!(
                "{name}: index {index} has an expression among its keys; not compared with the \
                 entities"
            ));
        }
        for (index, columns, unique) in &want_indexes {
            if !covers(&have_indexes, &have_unique, columns, *unique) {
                plan.up.push(create_index(index, name, columns, *unique));
                plan.sql.push(format!(
                    "CREATE {}INDEX {} ON {} ({})",
                    if *unique { "UNIQUE " } else { "" },
                    q(index),
                    q(name),
                    columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
                ));
                plan.down.push(drop_index(index, name));
                plan.summary.push(format!("create index {index}"));
            }
        }
        for (index, columns, unique) in &have_indexes {
            if !covers(&want_indexes, &want_unique, columns, *unique) && columns.len() > 1 {
                // An entity declares single-column indexes only (`indexed`,
                // `unique`): one over several columns cannot be in it.
                plan.review(format!(
                    "{name}: {} {index} on ({}) is in the database, and an entity cannot \
                     declare an index over several columns; kept: drop it here if it should go",
                    if *unique { "unique index" } else { "index" },
                    columns.join(", ")
                ));
                continue;
            }
            if !covers(&want_indexes, &want_unique, columns, *unique) {
                plan.up.push(drop_index(index, name));
                plan.sql.push(format!("DROP INDEX {}", q(index)));
                plan.down.push(create_index(index, name, columns, *unique));
                plan.summary.push(format!("drop index {index}"));
            }
        }

        // Foreign keys, by what they link.
        let have_fks = foreign_keys(name, have_table);
        let want_fks = foreign_keys(name, want_table);
        for (key, fk) in &want_fks {
            if !have_fks.contains_key(key) {
                late_up.push(create_foreign_key(fk));
                late_sql.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(name),
                    q(&fk.name),
                    fk.fk
                        .columns
                        .iter()
                        .map(|c| q(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                    q(&fk.fk.to_table),
                    fk.fk
                        .to_columns
                        .iter()
                        .map(|c| q(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                early_down.push(drop_foreign_key(fk));
                plan.summary.push(format!("add foreign key {}", fk.name));
            }
        }
        for (key, fk) in &have_fks {
            if !want_fks.contains_key(key) {
                plan.up.push(drop_foreign_key(fk));
                plan.sql.push(format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    q(name),
                    q(&fk.name)
                ));
                plan.down.push(create_foreign_key(fk));
                plan.summary.push(format!("drop foreign key {}", fk.name));
            }
        }
    }

    // Tables no entity describes.
    for name in have.creation_order().into_iter().rev() {
        if want.tables.contains_key(name) {
            continue;
        }
        let table = &have.tables[name];
        plan.review(format!(
            "no entity describes {name}: the up step drops it with its rows; delete these \
             lines if it should stay"
        ));
        for index in expression_indexes(table) {
            plan.review(format!(
                "{name}: index {index} has an expression among its keys; the down step does \
                 not recreate it"
            ));
        }
        for (index, _, _) in plain_indexes(name, table) {
            plan.up.push(drop_index(&index, name));
        }
        plan.up.push(drop_table(name));
        plan.sql.push(format!("DROP TABLE {}", q(name)));
        let mut recreate = vec![create_table(name, table, true)];
        for (index, columns, unique) in plain_indexes(name, table) {
            recreate.push(create_index(&index, name, &columns, unique));
        }
        plan.down.extend(recreate.into_iter().rev());
        plan.summary.push(format!("drop table {name}"));
    }

    if plan.summary.is_empty() {
        return None;
    }
    plan.up.extend(late_up);
    plan.sql.extend(late_sql);
    // What `lint` would find in it, as notes at the top of the up step.
    let lints = crate::tooling::lint::LintOptions::default();
    let found = crate::tooling::lint::lint_statements("the new migration", &plan.sql, true, &lints)
        .unwrap_or_default();
    for finding in found.iter().rev() {
        let statement = finding
            .statement
            .as_ref()
            .map_or(String::new(), |(_, sql)| format!(" ({sql})"));
        plan.up.insert(
            0,
            format!(
                "// review: lint {}{statement}: {}; safe pattern: {}",
                finding.rule, finding.why, finding.fix
            ),
        );
    }
    let mut down = early_down;
    down.extend(plan.down.into_iter().rev());
    Some(render(&plan.summary, &plan.up, &down))
}

/// Indexes that are not a primary key or UNIQUE constraint's, on columns
/// only: `(name, columns, unique)`. Unique single-column constraints of an
/// entity become unique indexes named by the schema's convention.
fn plain_indexes(table_name: &str, table: &Table) -> Vec<(String, Vec<String>, bool)> {
    let mut out = Vec::new();
    for (name, index) in &table.indexes {
        if table.constraints.contains_key(name) {
            continue;
        }
        let Some(columns) = index.column_names() else {
            continue;
        };
        let name = if name.starts_with("idx-") {
            format!("ix_{table_name}_{}", columns.join("_"))
        } else {
            name.clone()
        };
        out.push((name, columns, index.unique));
    }
    for (name, columns) in table.unique_constraints() {
        if is_entity_unique(name, columns) {
            out.push((
                format!("ix_{table_name}_{}", columns[0]),
                columns.to_vec(),
                true,
            ));
        }
    }
    out.sort();
    out
}

/// Indexes with an expression among their keys: `generate` does not
/// write them.
fn expression_indexes(table: &Table) -> impl Iterator<Item = &str> {
    table
        .indexes
        .iter()
        .filter(|(_, index)| index.column_names().is_none())
        .map(|(name, _)| name.as_str())
}

/// A `UNIQUE` constraint as an entity's `unique` attribute makes it
/// (`<table>_<column>_key`, one column).
fn is_entity_unique(name: &str, columns: &[String]) -> bool {
    name.ends_with("_key") && columns.len() == 1
}

/// The UNIQUE constraints that stay constraints: name → columns.
fn unique_constraints(table: &Table) -> impl Iterator<Item = (&str, &[String])> {
    table
        .unique_constraints()
        .filter(|(name, columns)| !is_entity_unique(name, columns))
}

/// A foreign key as `generate` writes it: on its table, under the name
/// the schema's convention gives it.
struct Link<'a> {
    name: String,
    table: &'a str,
    fk: &'a ForeignKey,
}

/// Foreign keys keyed by what they link, so differently named ones match.
fn foreign_keys<'a>(table_name: &'a str, table: &'a Table) -> BTreeMap<String, Link<'a>> {
    table
        .foreign_keys()
        .map(|(name, fk)| {
            let name = if name.starts_with("fk-") {
                format!("{table_name}_{}_fkey", fk.columns.join("_"))
            } else {
                name.to_owned()
            };
            let key = format!(
                "{}->{}({})",
                fk.columns.join(","),
                fk.to_table,
                fk.to_columns.join(",")
            );
            (
                key,
                Link {
                    name,
                    table: table_name,
                    fk,
                },
            )
        })
        .collect()
}

/// A migration `generate --autogenerate` wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The new migration's file.
    pub path: std::path::PathBuf,
    /// What `lint` found in it, as written in its review notes.
    pub lint_notes: Vec<String>,
}

/// Writes a migration that takes the database (at head) to what the
/// entities describe, registered in the migrator; `None` when they match.
pub(crate) async fn autogenerate(
    database: &crate::Database,
    history: &crate::pure::history::History,
    db: &sea_orm::DatabaseConnection,
    entities: Option<crate::tooling::check::EntityStatements>,
    dir: Option<&std::path::Path>,
    name: &str,
) -> Result<Option<Written>, crate::Error> {
    use crate::Error;
    let Some(entities) = entities else {
        return Err(Error::NoEntities {
            database: database.name,
            purpose: "generate from",
        });
    };
    let state = crate::ops::read::read_state(db, history).await?;
    crate::ops::checks::refuse_unknown(db, history, &state).await?;
    let pending = state.pending(history);
    if !pending.is_empty() || state.alembic.is_some() {
        return Err(Error::NotAtHead {
            pending: pending.into_iter().map(str::to_owned).collect(),
        });
    }
    let have = Catalog::read_schema(
        db,
        history.schema(),
        &[history.table(), crate::model::recorded::ALEMBIC_TABLE],
    )
    .await
    .map_err(Error::db("reading the catalog"))?;
    let want = crate::tooling::check::entity_catalog(db, entities).await?;
    let Some(source) = migration_source(&have, &want) else {
        return Ok(None);
    };
    let path = crate::tooling::generate::generate_source(database, dir, name, &source)?;
    let lint_notes = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// review: lint "))
        .map(str::to_owned)
        .collect();
    Ok(Some(Written { path, lint_notes }))
}

#[cfg(test)]
mod tests;
