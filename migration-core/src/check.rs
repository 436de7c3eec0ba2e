//! `check`: does the database match what the application's entities
//! describe? Tables, columns, types, nullability, primary keys and unique
//! indexes are compared; defaults and plain indexes are the migrations'
//! business and are not.
//!
//! The entities' side is built for real, from their `CREATE` statements, in
//! a scratch schema inside a transaction that is rolled back (an in-memory
//! database on SQLite), and read back through the same catalog queries as
//! the database, so both sides speak the database's own type names.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

use crate::Error;
use crate::catalog::{Catalog, Table};

/// The `CREATE` statements of an application's entities for one database,
/// tables in dependency order (`entities::sketch2bim::statements`).
pub type EntityStatements = fn(DbBackend) -> (Vec<TableCreateStatement>, Vec<IndexCreateStatement>);

/// The catalog the entities describe, built where it leaves no trace.
pub async fn entity_catalog(
    db: &DatabaseConnection,
    statements: EntityStatements,
) -> Result<Catalog, Error> {
    let failed = || Error::db("building the entities' schema");
    let backend = db.get_database_backend();
    let (tables, indexes) = statements(backend);
    async fn build<C: ConnectionTrait>(
        db: &C,
        tables: &[TableCreateStatement],
        indexes: &[IndexCreateStatement],
    ) -> Result<Catalog, DbErr> {
        for table in tables {
            db.execute(table).await?;
        }
        for index in indexes {
            db.execute(index).await?;
        }
        Catalog::read(db, &[]).await
    }
    match backend {
        DbBackend::Postgres => {
            let scratch = format!("kvshvl_entity_check_{}", std::process::id());
            let txn = db.begin().await.map_err(failed())?;
            let built = async {
                txn.execute_unprepared(&format!(
                    "CREATE SCHEMA \"{scratch}\"; SET LOCAL search_path TO \"{scratch}\""
                ))
                .await?;
                build(&txn, &tables, &indexes).await
            }
            .await;
            let _ = txn.rollback().await;
            built.map_err(failed())
        }
        _ => {
            let scratch = sea_orm::Database::connect("sqlite::memory:")
                .await
                .map_err(failed())?;
            let built = build(&scratch, &tables, &indexes).await;
            let _ = scratch.close().await;
            built.map_err(failed())
        }
    }
}

/// Every difference between the database and the entities, one line each,
/// by table and column.
pub fn compare(database: &Catalog, entities: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = database
        .tables
        .keys()
        .chain(entities.tables.keys())
        .collect();
    for name in names {
        match (database.tables.get(name), entities.tables.get(name)) {
            (Some(_), None) => out.push(format!("{name}: table in the database, no entity has it")),
            (None, Some(_)) => out.push(format!(
                "{name}: table of an entity, missing from the database"
            )),
            (Some(have), Some(want)) => compare_table(name, have, want, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn compare_table(name: &str, have: &Table, want: &Table, out: &mut Vec<String>) {
    for column in &have.columns {
        match want.columns.iter().find(|c| c.name == column.name) {
            None => out.push(format!(
                "{name}.{}: column in the database, not in the entity",
                column.name
            )),
            Some(expected) => {
                if !same_type(&expected.data_type, &column.data_type) {
                    out.push(format!(
                        "{name}.{}: type {} in the database, {} in the entity",
                        column.name, column.data_type, expected.data_type
                    ));
                }
                if expected.not_null != column.not_null {
                    let says = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
                    out.push(format!(
                        "{name}.{}: {} in the database, {} in the entity",
                        column.name,
                        says(column.not_null),
                        says(expected.not_null)
                    ));
                }
            }
        }
    }
    for column in &want.columns {
        if !have.columns.iter().any(|c| c.name == column.name) {
            out.push(format!(
                "{name}.{}: column of the entity, missing from the database",
                column.name
            ));
        }
    }
    let (have_pk, want_pk) = (primary_key(have), primary_key(want));
    if have_pk != want_pk {
        out.push(format!(
            "{name}: primary key ({}) in the database, ({}) in the entity",
            have_pk.join(", "),
            want_pk.join(", ")
        ));
    }
    let (have_unique, want_unique) = (unique_sets(have), unique_sets(want));
    for set in have_unique.difference(&want_unique) {
        out.push(format!(
            "{name}.{}: unique in the database, not in the entity",
            set.join("+")
        ));
    }
    for set in want_unique.difference(&have_unique) {
        out.push(format!(
            "{name}.{}: unique in the entity, not in the database",
            set.join("+")
        ));
    }
}

/// Type names that store the same values the same way. On SQLite
/// sea-query names a timestamp column `timestamp_text` and a datetime one
/// `datetime_text`: both hold the same ISO 8601 text.
fn same_type(a: &str, b: &str) -> bool {
    const ALIASES: &[&[&str]] = &[&["timestamp_text", "datetime_text"]];
    a == b
        || ALIASES
            .iter()
            .any(|group| group.contains(&a) && group.contains(&b))
}

/// The columns between the first parentheses of a definition.
fn columns_of(definition: &str) -> Vec<String> {
    let Some(start) = definition.find('(') else {
        return Vec::new();
    };
    let rest = &definition[start + 1..];
    let end = rest.find(')').unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

fn primary_key(table: &Table) -> Vec<String> {
    table
        .constraints
        .values()
        .find(|d| d.starts_with("PRIMARY KEY"))
        .map(|d| columns_of(d))
        .unwrap_or_default()
}

/// Column sets that are unique, whether by index or constraint, the primary
/// key aside.
fn unique_sets(table: &Table) -> BTreeSet<Vec<String>> {
    let pk = primary_key(table);
    let mut sets: BTreeSet<Vec<String>> = table
        .constraints
        .values()
        .filter(|d| d.starts_with("UNIQUE"))
        .map(|d| columns_of(d))
        .collect();
    let definitions: BTreeMap<&String, &String> = table.indexes.iter().collect();
    for definition in definitions.values() {
        let upper = definition.to_ascii_uppercase();
        if upper.starts_with("CREATE UNIQUE INDEX") {
            let after_on = definition
                .split_once(" ON ")
                .map_or(definition.as_str(), |(_, rest)| rest);
            sets.insert(columns_of(after_on));
        }
    }
    sets.remove(&pk);
    sets
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_come_from_the_first_parentheses() {
        assert_eq!(super::columns_of("PRIMARY KEY (id)"), vec!["id"]);
        assert_eq!(
            super::columns_of("UNIQUE (organization_id, user_id)"),
            vec!["organization_id", "user_id"]
        );
        assert_eq!(
            super::columns_of("users USING btree (email)"),
            vec!["email"]
        );
    }
}
