//! `check`: does the database match what the application's entities
//! describe? Tables, columns, types, nullability, primary keys and unique
//! indexes are compared; defaults and plain indexes are the migrations'
//! business and are not.
//!
//! `check` writes nothing to the database it checks: it reads the catalog
//! ([`Catalog::read`]) and nothing else, so it runs as a role with only
//! `SELECT`, in a read-only transaction (`default_transaction_read_only`)
//! and on a hot standby.
//!
//! On PostgreSQL the entities' side is derived from their `CREATE`
//! statements alone: every column's sea-query type is named the way
//! PostgreSQL's `format_type` prints it (`character varying(255)`,
//! `double precision`, `timestamp without time zone`, `integer` for a
//! serial), and constraints and indexes are named the way PostgreSQL names
//! them (`<table>_pkey`, `<table>_<column>_key`, `<table>_<column>_fkey`
//! unless the statement names them). On SQLite the statements are run in a
//! private in-memory database and read back, so both sides speak SQLite's
//! declared type names; the checked database is not touched.
//! `generate --autogenerate` starts from the same derived catalog.

use std::collections::BTreeSet;

use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::Error;
use crate::pure::catalog::{Catalog, Index, Table};

pub use crate::backend::postgres::expected::{postgres_catalog, postgres_type};

/// The `CREATE` statements of an application's entities for one database,
/// tables in dependency order (`entities::sketch2bim::statements`).
pub type EntityStatements = fn(DbBackend) -> (Vec<TableCreateStatement>, Vec<IndexCreateStatement>);

/// The catalog the entities describe, for `db`'s backend. Only the
/// backend is taken from `db`: nothing is sent to it.
pub async fn entity_catalog(
    db: &DatabaseConnection,
    statements: EntityStatements,
) -> Result<Catalog, Error> {
    let failed = || Error::db("deriving the entities' schema");
    let backend = db.get_database_backend();
    let (tables, indexes) = statements(backend);
    match backend {
        DbBackend::Postgres => postgres_catalog(&tables, &indexes).map_err(failed()),
        _ => {
            let scratch = sea_orm::Database::connect("sqlite::memory:")
                .await
                .map_err(failed())?;
            let built = async {
                for table in &tables {
                    scratch.execute(table).await?;
                }
                for index in &indexes {
                    scratch.execute(index).await?;
                }
                Catalog::read(&scratch, &[]).await
            }
            .await;
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
    let (have_pk, want_pk) = (have.primary_key(), want.primary_key());
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

/// Column sets that are unique, whether by index or constraint, the primary
/// key aside. An index with an expression among its keys is no column set.
fn unique_sets(table: &Table) -> BTreeSet<Vec<String>> {
    let mut sets: BTreeSet<Vec<String>> = table
        .unique_constraints()
        .map(|(_, columns)| columns.to_vec())
        .collect();
    sets.extend(
        table
            .indexes
            .values()
            .filter(|index| index.unique)
            .filter_map(Index::column_names),
    );
    sets.remove(&table.primary_key());
    sets
}

#[cfg(test)]
mod tests {
    use crate::pure::catalog::{Catalog, Column, Constraint, Index, Table};

    fn users(primary_key: &[&str]) -> Table {
        let column = |name: &str| Column {
            name: name.to_owned(),
            position: 0,
            data_type: "character varying".to_owned(),
            not_null: false,
            default: None,
            identity: None,
        };
        let mut table = Table {
            columns: vec![column("id"), column("email"), column("name")],
            ..Table::default()
        };
        let names = primary_key.iter().map(|c| c.to_string()).collect();
        table
            .constraints
            .insert("users_pkey".into(), Constraint::primary_key(names));
        table
    }

    fn catalog(table: Table) -> Catalog {
        let mut catalog = Catalog::default();
        catalog.tables.insert("users".into(), table);
        catalog
    }

    #[test]
    fn unique_is_unique_by_index_or_constraint_and_expressions_are_no_columns() {
        let mut database = users(&["id"]);
        database.indexes.insert(
            "ix_users_email".into(),
            Index::on_columns(
                "ix_users_email",
                "users",
                "btree",
                true,
                vec!["email".into()],
            ),
        );
        database.indexes.insert(
            "ix_users_lower_name".into(),
            Index {
                unique: true,
                columns: vec![None],
                definition: "CREATE UNIQUE INDEX ix_users_lower_name ON users USING btree \
                             (lower(name))"
                    .into(),
            },
        );
        let mut entity = users(&["id"]);
        entity.constraints.insert(
            "users_email_key".into(),
            Constraint::unique(vec!["email".into()]),
        );
        assert_eq!(
            super::compare(&catalog(database.clone()), &catalog(entity.clone())),
            Vec::<String>::new()
        );

        entity.constraints.insert(
            "users_name_key".into(),
            Constraint::unique(vec!["name".into()]),
        );
        entity.constraints.insert(
            "users_pkey".into(),
            Constraint::primary_key(vec!["id".into(), "email".into()]),
        );
        assert_eq!(
            super::compare(&catalog(database), &catalog(entity)),
            [
                "users: primary key (id) in the database, (id, email) in the entity",
                "users.name: unique in the entity, not in the database",
            ]
        );
    }
}

/// What [`check`] found: how many tables the entities have, and every
/// difference of the database from them, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub tables: usize,
    pub differences: Vec<String>,
}

/// Compares the database's schema (the bookkeeping tables aside) with what
/// `entities` describe. Reads the catalog; changes nothing.
pub async fn check(
    db: &DatabaseConnection,
    history: &crate::pure::history::History,
    entities: EntityStatements,
) -> Result<CheckReport, Error> {
    let have = Catalog::read_schema(
        db,
        history.schema(),
        &[history.table(), crate::model::recorded::ALEMBIC_TABLE],
    )
    .await
    .map_err(Error::db("reading the catalog"))?;
    let want = entity_catalog(db, entities).await?;
    Ok(CheckReport {
        tables: want.tables.len(),
        differences: compare(&have, &want),
    })
}
