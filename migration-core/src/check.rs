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

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, ForeignKeyAction, IndexCreateStatement, PostgresQueryBuilder,
    Query, StringLen, TableCreateStatement, TableRef,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

use crate::Error;
use crate::catalog::{Catalog, Column, Sequence, Table, quote_ident};

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

/// The catalog PostgreSQL would hold after running `tables` and `indexes`,
/// as [`Catalog::read`] reads it, without running them. Defaults other than
/// a serial's are sea-query's rendering of the expression, not PostgreSQL's.
pub fn postgres_catalog(
    tables: &[TableCreateStatement],
    indexes: &[IndexCreateStatement],
) -> Result<Catalog, DbErr> {
    let serial = serial_columns();
    let mut catalog = Catalog::default();
    for statement in tables {
        let name = statement
            .get_table_name()
            .and_then(table_name)
            .ok_or_else(|| DbErr::Custom("an entity's CREATE TABLE names no table".into()))?;
        let mut table = Table::default();
        let table_pk: Vec<String> = statement
            .get_indexes()
            .iter()
            .filter(|i| i.is_primary_key())
            .flat_map(|i| i.get_index_spec().get_column_names())
            .collect();
        for column in statement.get_columns() {
            let column_name = column.get_column_name();
            let spec = column.get_column_spec();
            let data_type = match column.get_column_type() {
                Some(ty) => postgres_type(ty),
                None => {
                    return Err(DbErr::Custom(format!(
                        "{name}.{column_name}: the entity gives the column no type"
                    )));
                }
            };
            let mut default = spec.default.as_ref().map(|expr| {
                let select = Query::select()
                    .expr(expr.clone())
                    .to_string(PostgresQueryBuilder);
                select.strip_prefix("SELECT ").unwrap_or(&select).to_owned()
            });
            let mut identity = None;
            if spec.auto_increment {
                if serial {
                    let sequence = format!("{name}_{column_name}_seq");
                    default = Some(format!("nextval('{}'::regclass)", quote_ident(&sequence)));
                    let max = match data_type.as_str() {
                        "smallint" => i64::from(i16::MAX),
                        "integer" => i64::from(i32::MAX),
                        _ => i64::MAX,
                    };
                    catalog.sequences.insert(
                        sequence,
                        Sequence {
                            data_type: data_type.clone(),
                            start: 1,
                            increment: 1,
                            min: 1,
                            max,
                            cache: 1,
                            cycle: false,
                            owned_by: Some(format!("{name}.{column_name}")),
                        },
                    );
                } else {
                    identity = Some("d".to_owned());
                }
            }
            let in_pk = spec.primary_key || table_pk.contains(&column_name);
            table.columns.push(Column {
                position: table.columns.len() + 1,
                data_type,
                not_null: spec.nullable == Some(false) || in_pk || spec.auto_increment,
                default,
                identity,
                name: column_name.clone(),
            });
            if spec.primary_key {
                add_unique(
                    &mut table,
                    &name,
                    None,
                    "PRIMARY KEY",
                    std::slice::from_ref(&column_name),
                );
            }
            if spec.unique {
                add_unique(&mut table, &name, None, "UNIQUE", &[column_name]);
            }
        }
        for index in statement.get_indexes() {
            let columns = index.get_index_spec().get_column_names();
            let kind = if index.is_primary_key() {
                "PRIMARY KEY"
            } else if index.is_unique_key() {
                "UNIQUE"
            } else {
                continue;
            };
            add_unique(
                &mut table,
                &name,
                index.get_index_spec().get_name(),
                kind,
                &columns,
            );
        }
        for statement in statement.get_foreign_key_create_stmts() {
            let fk = statement.get_foreign_key();
            let columns = fk.get_columns();
            let to_table = fk.get_ref_table().and_then(table_name).ok_or_else(|| {
                DbErr::Custom(format!("{name}: a foreign key names no referenced table"))
            })?;
            let mut definition = format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                ident_list(&columns),
                quote_ident(&to_table),
                ident_list(&fk.get_ref_columns())
            );
            for (word, action) in [
                ("UPDATE", fk.get_on_update()),
                ("DELETE", fk.get_on_delete()),
            ] {
                if let Some(action) = action.and_then(fk_action) {
                    definition.push_str(&format!(" ON {word} {action}"));
                }
            }
            let constraint = fk.get_name().map_or_else(
                || format!("{name}_{}_fkey", columns.join("_")),
                str::to_owned,
            );
            table.constraints.insert(constraint, definition);
        }
        catalog.tables.insert(name, table);
    }
    for index in indexes {
        let sql = index.to_string(PostgresQueryBuilder);
        let table_name = index_table(&sql)
            .ok_or_else(|| DbErr::Custom(format!("an entity's index names no table: {sql}")))?;
        let name = index
            .get_index_spec()
            .get_name()
            .map(str::to_owned)
            .ok_or_else(|| DbErr::Custom(format!("an entity's index has no name: {sql}")))?;
        let method = sql
            .split_once(" USING ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map_or_else(|| "btree".to_owned(), str::to_lowercase);
        let definition = format!(
            "CREATE {}INDEX {} ON {} USING {method} ({})",
            if index.is_unique_key() { "UNIQUE " } else { "" },
            quote_ident(&name),
            quote_ident(&table_name),
            ident_list(&index.get_index_spec().get_column_names())
        );
        catalog
            .tables
            .entry(table_name)
            .or_default()
            .indexes
            .insert(name, definition);
    }
    Ok(catalog)
}

/// A primary key or UNIQUE constraint, and the index PostgreSQL builds for it.
fn add_unique(
    table: &mut Table,
    table_name: &str,
    name: Option<&str>,
    kind: &str,
    columns: &[String],
) {
    let name = name.map_or_else(
        || {
            if kind == "PRIMARY KEY" {
                format!("{table_name}_pkey")
            } else {
                format!("{table_name}_{}_key", columns.join("_"))
            }
        },
        str::to_owned,
    );
    let list = ident_list(columns);
    table.indexes.insert(
        name.clone(),
        format!(
            "CREATE UNIQUE INDEX {} ON {} USING btree ({list})",
            quote_ident(&name),
            quote_ident(table_name)
        ),
    );
    table.constraints.insert(name, format!("{kind} ({list})"));
}

/// Whether sea-query writes an auto-increment column as `serial` (its
/// `option-postgres-use-serial` feature) rather than as an identity column.
fn serial_columns() -> bool {
    sea_orm::sea_query::Table::create()
        .table(Alias::new("t"))
        .col(ColumnDef::new(Alias::new("c")).integer().auto_increment())
        .to_string(PostgresQueryBuilder)
        .contains("serial")
}

fn table_name(table: &TableRef) -> Option<String> {
    match table {
        TableRef::Table(name, _) => Some(name.1.to_string()),
        _ => None,
    }
}

/// The table of a rendered `CREATE INDEX … ON "schema"."table" (…)`.
fn index_table(sql: &str) -> Option<String> {
    let (_, rest) = sql.split_once(" ON ")?;
    let target = rest.split(" (").next()?.split(" USING ").next()?;
    let last = target.rsplit("\".").next()?;
    Some(last.trim().trim_matches('"').replace("\"\"", "\""))
}

fn fk_action(action: ForeignKeyAction) -> Option<&'static str> {
    match action {
        ForeignKeyAction::Restrict => Some("RESTRICT"),
        ForeignKeyAction::Cascade => Some("CASCADE"),
        ForeignKeyAction::SetNull => Some("SET NULL"),
        ForeignKeyAction::SetDefault => Some("SET DEFAULT"),
        _ => None,
    }
}

fn ident_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sea-query column type as PostgreSQL's `format_type` names it, typmods
/// included: what sea-query writes in `CREATE TABLE`, as the catalog then
/// prints it.
pub fn postgres_type(ty: &ColumnType) -> String {
    let with_length = |base: &str, length: Option<u32>| match length {
        Some(n) => format!("{base}({n})"),
        None => base.to_owned(),
    };
    match ty {
        ColumnType::Char(length) => format!("character({})", length.unwrap_or(1)),
        ColumnType::String(StringLen::N(n)) => format!("character varying({n})"),
        ColumnType::String(_) => "character varying".into(),
        ColumnType::Text => "text".into(),
        ColumnType::TinyInteger | ColumnType::TinyUnsigned | ColumnType::SmallInteger => {
            "smallint".into()
        }
        ColumnType::Integer | ColumnType::SmallUnsigned => "integer".into(),
        ColumnType::BigInteger | ColumnType::Unsigned | ColumnType::BigUnsigned => "bigint".into(),
        ColumnType::Float => "real".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Decimal(Some((precision, scale))) => format!("numeric({precision},{scale})"),
        ColumnType::Decimal(None) => "numeric".into(),
        ColumnType::DateTime | ColumnType::Timestamp => "timestamp without time zone".into(),
        ColumnType::TimestampWithTimeZone => "timestamp with time zone".into(),
        ColumnType::Time => "time without time zone".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Year => "year".into(),
        ColumnType::Interval(fields, precision) => {
            let mut name = "interval".to_owned();
            if let Some(fields) = fields {
                name.push(' ');
                name.push_str(&fields.to_string().to_lowercase());
            }
            if let Some(p) = precision {
                name.push_str(&format!("({p})"));
            }
            name
        }
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => "bytea".into(),
        ColumnType::Bit(length) => format!("bit({})", length.unwrap_or(1)),
        ColumnType::VarBit(n) => format!("bit varying({n})"),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Money(_) => "money".into(),
        ColumnType::Json => "json".into(),
        ColumnType::JsonBinary => "jsonb".into(),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Array(element) => format!("{}[]", postgres_type(element)),
        ColumnType::Vector(size) => with_length("vector", *size),
        ColumnType::Custom(name) | ColumnType::Enum { name, .. } => {
            postgres_type_name(&name.to_string())
        }
        ColumnType::Cidr => "cidr".into(),
        ColumnType::Inet => "inet".into(),
        ColumnType::MacAddr => "macaddr".into(),
        ColumnType::LTree => "ltree".into(),
        _ => format!("{ty:?}").to_lowercase(),
    }
}

/// A type written by hand (a custom column type) under the name
/// `format_type` prints for it: `int4` is `integer`, `varchar(20)` is
/// `character varying(20)`, `timestamptz` is `timestamp with time zone`.
/// A name PostgreSQL does not alias (an extension's or enum type) is kept
/// as written, in lower case.
fn postgres_type_name(written: &str) -> String {
    let lower = written.trim().to_lowercase();
    if let Some(element) = lower.strip_suffix("[]") {
        return format!("{}[]", postgres_type_name(element));
    }
    let (base, typmod) = match lower.split_once('(') {
        Some((base, rest)) => (
            base.trim(),
            Some(
                rest.trim_end_matches(')')
                    .split(',')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ),
        None => (lower.as_str(), None),
    };
    let canonical = match base {
        "int" | "int4" | "integer" | "serial" | "serial4" => "integer",
        "int2" | "smallint" | "smallserial" | "serial2" => "smallint",
        "int8" | "bigint" | "bigserial" | "serial8" => "bigint",
        "float4" | "real" => "real",
        "float8" | "double precision" | "float" => "double precision",
        "bool" | "boolean" => "boolean",
        "varchar" | "character varying" => "character varying",
        "char" | "character" | "bpchar" => "character",
        "decimal" | "numeric" => "numeric",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "time" | "time without time zone" => "time without time zone",
        "timetz" | "time with time zone" => "time with time zone",
        "varbit" | "bit varying" => "bit varying",
        other => other,
    };
    match (canonical, typmod) {
        ("character", None) => "character(1)".into(),
        ("timestamp without time zone", Some(p)) => format!("timestamp({p}) without time zone"),
        ("timestamp with time zone", Some(p)) => format!("timestamp({p}) with time zone"),
        ("time without time zone", Some(p)) => format!("time({p}) without time zone"),
        ("time with time zone", Some(p)) => format!("time({p}) with time zone"),
        (name, Some(p)) => format!("{name}({p})"),
        (name, None) => name.to_owned(),
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

    #[test]
    fn types_are_named_as_format_type_prints_them() {
        use sea_orm::sea_query::{ColumnType, StringLen};
        let cases = [
            (
                ColumnType::String(StringLen::N(255)),
                "character varying(255)",
            ),
            (ColumnType::String(StringLen::None), "character varying"),
            (ColumnType::Char(None), "character(1)"),
            (ColumnType::Decimal(Some((10, 2))), "numeric(10,2)"),
            (ColumnType::Double, "double precision"),
            (ColumnType::DateTime, "timestamp without time zone"),
            (
                ColumnType::TimestampWithTimeZone,
                "timestamp with time zone",
            ),
            (ColumnType::Boolean, "boolean"),
            (ColumnType::custom("INT4"), "integer"),
            (ColumnType::custom("varchar(40)"), "character varying(40)"),
            (ColumnType::custom("numeric(12, 4)"), "numeric(12,4)"),
            (
                ColumnType::custom("timestamptz(3)"),
                "timestamp(3) with time zone",
            ),
            (ColumnType::custom("int8[]"), "bigint[]"),
        ];
        for (ty, name) in cases {
            assert_eq!(super::postgres_type(&ty), name, "{ty:?}");
        }
    }
}
