//! Rows in every table, whatever the schema: the history walk proves each
//! migration on a database that has data, as production's has, so an up or
//! down step that only works on empty tables (a NOT NULL column without a
//! default, a unique index over duplicates, a table rebuild that loses rows)
//! fails in the tests rather than in a deploy.
//!
//! Values come from each column's type as the catalog names it; a foreign
//! key takes the referenced row's key, so tables are filled in dependency
//! order. Serial and identity columns take their defaults.

use migration_core::catalog::{Catalog, Column, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// Inserts one row into every table of `catalog` that has none, each after
/// the tables it references. Returns the tables it filled. A table no row
/// can be made for fails the test, naming it and the statement.
pub async fn fill_empty_tables(db: &DatabaseConnection, catalog: &Catalog) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut filled = Vec::new();
    for name in catalog.creation_order() {
        let table = &catalog.tables[name];
        let count = crate::db::int(
            db,
            &format!(
                "SELECT count(*) FROM {}",
                migration_core::catalog::quote_if_needed(name)
            ),
        )
        .await;
        if count > 0 {
            continue;
        }
        // Every column first, so each type is written and read back; then
        // only what must be given, for a table whose constraints the full
        // row breaks (a CHECK the made-up values do not meet).
        let full = insert(backend, name, table, true);
        if db.execute_unprepared(&full).await.is_err() {
            let minimal = insert(backend, name, table, false);
            if let Err(e) = db.execute_unprepared(&minimal).await {
                panic!(
                    "cannot put a row into {name} for the history walk: {e}\n  tried: {full}\n  \
                     and: {minimal}"
                );
            }
        }
        filled.push(name.to_owned());
    }
    filled
}

/// `INSERT INTO table (…) VALUES (…)`; with `every_column: false` only the
/// NOT NULL columns without a default get values.
fn insert(backend: DbBackend, name: &str, table: &Table, every_column: bool) -> String {
    let q = migration_core::catalog::quote_if_needed;
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in &table.columns {
        if takes_its_default(column) || (!every_column && !column.not_null) {
            continue;
        }
        if !every_column && column.default.is_some() {
            continue;
        }
        let referenced = table
            .foreign_keys()
            .find_map(|(_, fk)| {
                let at = fk.columns.iter().position(|c| *c == column.name)?;
                Some((fk.to_table.clone(), fk.to_columns.get(at)?.clone()))
            })
            .filter(|(to_table, _)| to_table != name);
        let value = match referenced {
            Some((to_table, to_column)) => {
                format!("(SELECT {} FROM {} LIMIT 1)", q(&to_column), q(&to_table))
            }
            None if table
                .foreign_keys()
                .any(|(_, fk)| fk.columns.contains(&column.name)) =>
            {
                // A key referencing its own table: nothing to point at yet.
                "NULL".to_owned()
            }
            None => value_for(backend, &column.data_type),
        };
        columns.push(q(&column.name));
        values.push(value);
    }
    if columns.is_empty() {
        return match backend {
            DbBackend::Sqlite | DbBackend::Postgres => {
                format!("INSERT INTO {} DEFAULT VALUES", q(name))
            }
            _ => format!("INSERT INTO {} () VALUES ()", q(name)),
        };
    }
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        q(name),
        columns.join(", "),
        values.join(", ")
    )
}

/// Serial, identity and SQLite's integer primary key columns number
/// themselves.
fn takes_its_default(column: &Column) -> bool {
    column.identity.is_some()
        || column
            .default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("))
        || column.data_type.contains("serial")
}

/// A literal of the column's type, as the catalog names it (PostgreSQL's
/// `character varying`, `double precision`, …; SQLite's declared type).
fn value_for(backend: DbBackend, data_type: &str) -> String {
    let t = data_type.to_ascii_lowercase();
    let has = |word: &str| t.contains(word);
    if has("bool") {
        "false".to_owned()
    } else if has("timestamp") || has("datetime") {
        if has("with time zone") || has("timestamptz") {
            "'2026-01-02 03:04:05+00'".to_owned()
        } else {
            "'2026-01-02 03:04:05'".to_owned()
        }
    } else if has("date") {
        "'2026-01-02'".to_owned()
    } else if has("time") {
        "'03:04:05'".to_owned()
    } else if has("int") {
        "7".to_owned()
    } else if has("double") || has("real") || has("float") || has("numeric") || has("decimal") {
        "1.5".to_owned()
    } else if has("json") {
        "'{}'".to_owned()
    } else if has("uuid") {
        "'00000000-0000-0000-0000-000000000007'".to_owned()
    } else if has("bytea") || has("blob") {
        match backend {
            DbBackend::Postgres => "'\\x07'::bytea".to_owned(),
            _ => "X'07'".to_owned(),
        }
    } else {
        "'row'".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_catalog_type_names() {
        let pg = DbBackend::Postgres;
        assert_eq!(value_for(pg, "character varying"), "'row'");
        assert_eq!(value_for(pg, "text"), "'row'");
        assert_eq!(value_for(pg, "integer"), "7");
        assert_eq!(value_for(pg, "bigint"), "7");
        assert_eq!(value_for(pg, "double precision"), "1.5");
        assert_eq!(value_for(pg, "boolean"), "false");
        assert_eq!(
            value_for(pg, "timestamp without time zone"),
            "'2026-01-02 03:04:05'"
        );
        assert_eq!(
            value_for(pg, "timestamp with time zone"),
            "'2026-01-02 03:04:05+00'"
        );
        assert_eq!(value_for(pg, "json"), "'{}'");
        assert_eq!(value_for(pg, "bytea"), "'\\x07'::bytea");
        assert_eq!(value_for(DbBackend::Sqlite, "blob"), "X'07'");
        assert_eq!(value_for(DbBackend::Sqlite, "json_text"), "'{}'");
        assert_eq!(
            value_for(DbBackend::Sqlite, "timestamp_text"),
            "'2026-01-02 03:04:05'"
        );
    }
}
