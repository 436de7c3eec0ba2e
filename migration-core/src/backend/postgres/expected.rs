//! The catalog PostgreSQL builds from the entities' `CREATE` statements,
//! derived without a database: types named as `format_type` names them,
//! constraints and indexes named as PostgreSQL names them.

use sea_orm::DbErr;
use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, ForeignKeyAction, IndexCreateStatement, PostgresQueryBuilder,
    Query, StringLen, TableCreateStatement, TableRef,
};

use crate::pure::catalog::{
    Catalog, Column, Constraint, FkAction, ForeignKey, Index, Sequence, Table, quote_if_needed,
};

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
                    default = Some(format!(
                        "nextval('{}'::regclass)",
                        quote_if_needed(&sequence)
                    ));
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
                    true,
                    std::slice::from_ref(&column_name),
                );
            }
            if spec.unique {
                add_unique(&mut table, &name, None, false, &[column_name]);
            }
        }
        for index in statement.get_indexes() {
            let columns = index.get_index_spec().get_column_names();
            if !index.is_primary_key() && !index.is_unique_key() {
                continue;
            }
            add_unique(
                &mut table,
                &name,
                index.get_index_spec().get_name(),
                index.is_primary_key(),
                &columns,
            );
        }
        for statement in statement.get_foreign_key_create_stmts() {
            let fk = statement.get_foreign_key();
            let columns = fk.get_columns();
            let to_table = fk.get_ref_table().and_then(table_name).ok_or_else(|| {
                DbErr::Custom(format!("{name}: a foreign key names no referenced table"))
            })?;
            let foreign_key = ForeignKey {
                columns: columns.clone(),
                to_table,
                to_columns: fk.get_ref_columns(),
                on_update: fk_action(fk.get_on_update()),
                on_delete: fk_action(fk.get_on_delete()),
            };
            let constraint = fk.get_name().map_or_else(
                || format!("{name}_{}_fkey", columns.join("_")),
                str::to_owned,
            );
            table
                .constraints
                .insert(constraint, Constraint::foreign_key(foreign_key));
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
        let columns = index.get_index_spec().get_column_names();
        let built = Index::on_columns(&name, &table_name, &method, index.is_unique_key(), columns);
        catalog
            .tables
            .entry(table_name)
            .or_default()
            .indexes
            .insert(name, built);
    }
    Ok(catalog)
}

/// A primary key or UNIQUE constraint, and the index PostgreSQL builds for it.
fn add_unique(
    table: &mut Table,
    table_name: &str,
    name: Option<&str>,
    primary: bool,
    columns: &[String],
) {
    let name = name.map_or_else(
        || {
            if primary {
                format!("{table_name}_pkey")
            } else {
                format!("{table_name}_{}_key", columns.join("_"))
            }
        },
        str::to_owned,
    );
    table.indexes.insert(
        name.clone(),
        Index::on_columns(&name, table_name, "btree", true, columns.to_vec()),
    );
    let constraint = if primary {
        Constraint::primary_key(columns.to_vec())
    } else {
        Constraint::unique(columns.to_vec())
    };
    table.constraints.insert(name, constraint);
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

fn fk_action(action: Option<ForeignKeyAction>) -> FkAction {
    match action {
        Some(ForeignKeyAction::Restrict) => FkAction::Restrict,
        Some(ForeignKeyAction::Cascade) => FkAction::Cascade,
        Some(ForeignKeyAction::SetNull) => FkAction::SetNull,
        Some(ForeignKeyAction::SetDefault) => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
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

#[cfg(test)]
mod tests {
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
