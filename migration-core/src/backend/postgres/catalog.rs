//! Reading PostgreSQL's catalog (the current schema), one simple query per
//! kind of object.

use sea_orm::{DbErr, QueryResult};

use crate::backend::rows::{opt_text, rows, text};
use crate::backend::transport::Reader;
use crate::pure::catalog::{
    Catalog, Column, Constraint, ConstraintKind, FkAction, ForeignKey, Index, Sequence,
};

/// A JSON array of column names (`["user_id", null]`, `null` for an
/// expression key), as the queries below build them from the catalog's
/// column-number arrays; no array at all reads as an empty list.
fn names(row: &QueryResult, col: &str) -> Result<Vec<Option<String>>, DbErr> {
    match opt_text(row, col)? {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| DbErr::Custom(format!("the catalog's {col} is not a list of names: {e}"))),
    }
}

/// As [`names`], every entry a column.
fn column_names(row: &QueryResult, col: &str) -> Result<Vec<String>, DbErr> {
    Ok(names(row, col)?.into_iter().flatten().collect())
}

/// `pg_constraint.confupdtype` / `confdeltype`.
fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

/// The catalog of `schema`, an SQL expression (a literal, `current_schema()`).
pub(crate) async fn read<C: Reader + ?Sized>(db: &C, schema: &str) -> Result<Catalog, DbErr> {
    let mut catalog = Catalog::default();
    for row in rows(
        db,
        &format!(
            "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
                pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                NULLIF(a.attidentity::text, '') AS identity \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p') \
         ORDER BY c.relname, a.attnum"
        ),
    )
    .await?
    {
        let table = catalog.tables.entry(text(&row, "table_name")?).or_default();
        table.columns.push(Column {
            name: text(&row, "column_name")?,
            position: table.columns.len() + 1,
            data_type: text(&row, "data_type")?,
            not_null: row.try_get::<bool>("", "not_null")?,
            default: opt_text(&row, "default_expr")?,
            identity: opt_text(&row, "identity")?,
        });
    }
    // Key columns by number (conkey, confkey) turned into names, in key order.
    for row in rows(
        db,
        &format!(
            "SELECT cl.relname::text AS table_name, co.conname::text AS name, \
                co.contype::text AS kind, pg_get_constraintdef(co.oid) AS definition, \
                (SELECT json_agg(a.attname ORDER BY k.i) \
                 FROM unnest(co.conkey) WITH ORDINALITY AS k(attnum, i) \
                 JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum \
                )::text AS columns, \
                CASE WHEN rn.nspname = {schema} THEN rt.relname::text \
                     ELSE rn.nspname::text || '.' || rt.relname::text END AS to_table, \
                (SELECT json_agg(a.attname ORDER BY k.i) \
                 FROM unnest(co.confkey) WITH ORDINALITY AS k(attnum, i) \
                 JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum \
                )::text AS to_columns, \
                co.confupdtype::text AS on_update, co.confdeltype::text AS on_delete \
         FROM pg_constraint co \
         JOIN pg_class cl ON cl.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         LEFT JOIN pg_class rt ON rt.oid = co.confrelid \
         LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace \
         WHERE n.nspname = {schema} \
         ORDER BY 1, 2"
        ),
    )
    .await?
    {
        let kind = match text(&row, "kind")?.as_str() {
            "p" => ConstraintKind::PrimaryKey(column_names(&row, "columns")?),
            "u" => ConstraintKind::Unique(column_names(&row, "columns")?),
            "f" => ConstraintKind::ForeignKey(ForeignKey {
                columns: column_names(&row, "columns")?,
                to_table: opt_text(&row, "to_table")?.unwrap_or_default(),
                to_columns: column_names(&row, "to_columns")?,
                on_update: fk_action(&text(&row, "on_update")?),
                on_delete: fk_action(&text(&row, "on_delete")?),
            }),
            _ => ConstraintKind::Other,
        };
        catalog
            .tables
            .entry(text(&row, "table_name")?)
            .or_default()
            .constraints
            .insert(
                text(&row, "name")?,
                Constraint {
                    kind,
                    definition: text(&row, "definition")?,
                },
            );
    }
    // pg_get_indexdef names the table with its schema; the definition kept
    // names it as the schema's own objects are named, so one index reads the
    // same in any schema. Key columns come from indkey (0: an expression).
    for row in rows(
        db,
        &format!(
            "SELECT t.relname::text AS table_name, i.relname::text AS name, \
                x.indisunique AS is_unique, \
                (SELECT json_agg(a.attname ORDER BY k.i) \
                 FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, i) \
                 LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
                 WHERE k.i <= x.indnkeyatts \
                )::text AS columns, \
                CASE WHEN strpos(q.definition, q.qualified) > 0 \
                     THEN overlay(q.definition \
                                  PLACING ' ' || quote_ident(t.relname) || ' USING ' \
                                  FROM strpos(q.definition, q.qualified) \
                                  FOR length(q.qualified)) \
                     ELSE q.definition END AS definition \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL ( \
              SELECT pg_get_indexdef(x.indexrelid) AS definition, \
                     ' ' || quote_ident(n.nspname) || '.' || quote_ident(t.relname) \
                         || ' USING ' AS qualified) q \
         WHERE n.nspname = {schema} \
         ORDER BY 1, 2"
        ),
    )
    .await?
    {
        catalog
            .tables
            .entry(text(&row, "table_name")?)
            .or_default()
            .indexes
            .insert(
                text(&row, "name")?,
                Index {
                    unique: row.try_get::<bool>("", "is_unique")?,
                    columns: names(&row, "columns")?,
                    definition: text(&row, "definition")?,
                },
            );
    }
    for row in rows(
        db,
        &format!(
            "SELECT s.relname::text AS name, format_type(q.seqtypid, NULL) AS data_type, \
                q.seqstart AS start, q.seqincrement AS increment, q.seqmin AS min, \
                q.seqmax AS max, q.seqcache AS cache, q.seqcycle AS cycle, \
                t.relname::text || '.' || a.attname::text AS owned_by \
         FROM pg_class s \
         JOIN pg_namespace n ON n.oid = s.relnamespace \
         JOIN pg_sequence q ON q.seqrelid = s.oid \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class t ON t.oid = d.refobjid \
         LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
         WHERE s.relkind = 'S' AND n.nspname = {schema} \
         ORDER BY 1"
        ),
    )
    .await?
    {
        catalog.sequences.insert(
            text(&row, "name")?,
            Sequence {
                data_type: text(&row, "data_type")?,
                start: row.try_get("", "start")?,
                increment: row.try_get("", "increment")?,
                min: row.try_get("", "min")?,
                max: row.try_get("", "max")?,
                cache: row.try_get("", "cache")?,
                cycle: row.try_get("", "cycle")?,
                owned_by: opt_text(&row, "owned_by")?,
            },
        );
    }
    Ok(catalog)
}
