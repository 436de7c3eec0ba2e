//! What a database's catalog says about its schema: tables, columns, indexes,
//! constraints and sequences, read from PostgreSQL's `pg_catalog` or SQLite's
//! `sqlite_master` and pragmas.
//!
//! A [`Catalog`] flattens to one line per schema object ([`Catalog::objects`]),
//! so two databases compare object by object and their differences read as a
//! list ([`Catalog::diff`]). Column positions are ranks among the live columns
//! (PostgreSQL keeps dropped columns as holes), so a table rebuilt by the same
//! steps compares equal however many columns came and went before.

use sea_orm::{DbBackend, DbErr, QueryResult};

use crate::sql::Reader;
use std::collections::BTreeMap;

/// One table column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// 1-based rank among the table's live columns.
    pub position: usize,
    /// As the database names it: `character varying`, `double precision`, `json`…
    pub data_type: String,
    pub not_null: bool,
    /// The default expression as the database prints it, e.g. `'trial'::character varying`.
    pub default: Option<String>,
    /// PostgreSQL identity column (`GENERATED … AS IDENTITY`): `a` or `d`.
    pub identity: Option<String>,
}

/// One table with what hangs off it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Constraint name → definition (`PRIMARY KEY (id)`, `FOREIGN KEY …`, `UNIQUE …`).
    pub constraints: BTreeMap<String, String>,
    /// Index name → definition.
    pub indexes: BTreeMap<String, String>,
}

/// A PostgreSQL sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `table.column` owning the sequence (a serial column), if any.
    pub owned_by: Option<String>,
}

/// The schema of one database (PostgreSQL: its current schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub tables: BTreeMap<String, Table>,
    pub sequences: BTreeMap<String, Sequence>,
}

impl Catalog {
    /// Reads the catalog of the connected database, leaving out the tables
    /// named in `exclude` (bookkeeping tables) and everything that hangs off them.
    /// `db` is a connection (reads go through its pool) or a
    /// [`crate::sql::Transaction`]; on PostgreSQL every read is a simple query.
    pub async fn read<C: Reader + ?Sized>(db: &C, exclude: &[&str]) -> Result<Catalog, DbErr> {
        let mut catalog = match db.backend() {
            DbBackend::Postgres => read_postgres(db).await?,
            DbBackend::Sqlite => read_sqlite(db).await?,
            other => {
                return Err(DbErr::Custom(format!(
                    "reading the catalog of {other:?} is not supported"
                )));
            }
        };
        catalog
            .tables
            .retain(|name, _| !exclude.contains(&name.as_str()));
        catalog.sequences.retain(|_, seq| {
            seq.owned_by
                .as_deref()
                .and_then(|owner| owner.split_once('.'))
                .is_none_or(|(table, _)| !exclude.contains(&table))
        });
        Ok(catalog)
    }

    /// One line per schema object: key (`column jobs.id`) → description.
    /// `with_positions: false` leaves column positions out of the description.
    pub fn objects(&self, with_positions: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (table_name, table) in &self.tables {
            out.insert(format!("table {table_name}"), String::new());
            for c in &table.columns {
                let mut desc = String::new();
                if with_positions {
                    desc.push_str(&format!("#{} ", c.position));
                }
                desc.push_str(&c.data_type);
                if c.not_null {
                    desc.push_str(" NOT NULL");
                }
                if let Some(d) = &c.default {
                    desc.push_str(&format!(" DEFAULT {d}"));
                }
                if let Some(i) = &c.identity {
                    desc.push_str(&format!(" IDENTITY {i}"));
                }
                out.insert(format!("column {table_name}.{}", c.name), desc);
            }
            for (name, def) in &table.constraints {
                out.insert(format!("constraint {table_name}.{name}"), def.clone());
            }
            for (name, def) in &table.indexes {
                out.insert(format!("index {name}"), def.clone());
            }
        }
        for (name, s) in &self.sequences {
            out.insert(
                format!("sequence {name}"),
                format!(
                    "{} START {} INCREMENT {} MIN {} MAX {} CACHE {}{} OWNED BY {}",
                    s.data_type,
                    s.start,
                    s.increment,
                    s.min,
                    s.max,
                    s.cache,
                    if s.cycle { " CYCLE" } else { "" },
                    s.owned_by.as_deref().unwrap_or("NONE")
                ),
            );
        }
        out
    }

    /// Every difference between `self` (what the database has) and `expected`,
    /// one line each: `missing column jobs.batch_id`, `unexpected index ix_x`,
    /// `column users.credits: has integer DEFAULT 0, expected integer DEFAULT 5`.
    pub fn diff(&self, expected: &Catalog, with_positions: bool) -> Vec<String> {
        let have = self.objects(with_positions);
        let want = expected.objects(with_positions);
        let mut out = Vec::new();
        for (key, desc) in &want {
            match have.get(key) {
                None => out.push(format!("missing {key}")),
                Some(h) if h != desc => out.push(format!("{key}: has {h}, expected {desc}")),
                Some(_) => {}
            }
        }
        for key in have.keys() {
            if !want.contains_key(key) {
                out.push(format!("unexpected {key}"));
            }
        }
        out
    }

    /// Only the tables and their columns: constraints, indexes and
    /// sequences left out.
    pub fn tables_and_columns(&self) -> Catalog {
        let mut out = self.clone();
        out.sequences.clear();
        for table in out.tables.values_mut() {
            table.constraints.clear();
            table.indexes.clear();
        }
        out
    }

    /// Table name → column names in position order.
    pub fn column_names(&self) -> BTreeMap<String, Vec<String>> {
        self.tables
            .iter()
            .map(|(t, table)| {
                (
                    t.clone(),
                    table.columns.iter().map(|c| c.name.clone()).collect(),
                )
            })
            .collect()
    }

    /// Names of all indexes, across tables.
    pub fn index_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .tables
            .values()
            .flat_map(|t| t.indexes.keys().cloned())
            .collect();
        names.sort();
        names
    }
}

async fn rows<C: Reader + ?Sized>(db: &C, sql: &str) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(sql.to_owned()).await
}

fn text(row: &QueryResult, col: &str) -> Result<String, DbErr> {
    row.try_get::<String>("", col)
}

fn opt_text(row: &QueryResult, col: &str) -> Result<Option<String>, DbErr> {
    row.try_get::<Option<String>>("", col)
}

async fn read_postgres<C: Reader + ?Sized>(db: &C) -> Result<Catalog, DbErr> {
    let mut catalog = Catalog::default();
    for row in rows(
        db,
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
                pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                NULLIF(a.attidentity::text, '') AS identity \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         ORDER BY c.relname, a.attnum",
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
    for row in rows(
        db,
        "SELECT cl.relname::text AS table_name, co.conname::text AS name, \
                pg_get_constraintdef(co.oid) AS definition \
         FROM pg_constraint co \
         JOIN pg_class cl ON cl.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE n.nspname = current_schema() \
         ORDER BY 1, 2",
    )
    .await?
    {
        catalog
            .tables
            .entry(text(&row, "table_name")?)
            .or_default()
            .constraints
            .insert(text(&row, "name")?, text(&row, "definition")?);
    }
    for row in rows(
        db,
        "SELECT t.relname::text AS table_name, i.relname::text AS name, \
                pg_get_indexdef(i.oid) AS definition \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
         ORDER BY 1, 2",
    )
    .await?
    {
        catalog
            .tables
            .entry(text(&row, "table_name")?)
            .or_default()
            .indexes
            .insert(text(&row, "name")?, text(&row, "definition")?);
    }
    for row in rows(
        db,
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
         WHERE s.relkind = 'S' AND n.nspname = current_schema() \
         ORDER BY 1",
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

#[derive(Default)]
struct SqliteForeignKey {
    ref_table: String,
    from: Vec<String>,
    to: Vec<String>,
    on_update: String,
    on_delete: String,
}

async fn read_sqlite<C: Reader + ?Sized>(db: &C) -> Result<Catalog, DbErr> {
    let mut catalog = Catalog::default();
    let names: Vec<String> = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .await?
    .iter()
    .map(|r| text(r, "name"))
    .collect::<Result<_, _>>()?;
    for name in names {
        let lit = crate::sql::literal(&name);
        let mut table = Table::default();
        let mut pk: Vec<(i32, String)> = Vec::new();
        for row in rows(
            db,
            &format!(
                "SELECT name, type, \"notnull\" AS not_null, dflt_value, pk \
                 FROM pragma_table_info({lit}) ORDER BY cid"
            ),
        )
        .await?
        {
            let column = text(&row, "name")?;
            let pk_rank: i32 = row.try_get("", "pk")?;
            if pk_rank > 0 {
                pk.push((pk_rank, column.clone()));
            }
            table.columns.push(Column {
                name: column,
                position: table.columns.len() + 1,
                data_type: text(&row, "type")?.to_lowercase(),
                not_null: row.try_get::<i32>("", "not_null")? != 0,
                default: opt_text(&row, "dflt_value")?,
                identity: None,
            });
        }
        if !pk.is_empty() {
            pk.sort();
            let cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
            table.constraints.insert(
                "PRIMARY KEY".into(),
                format!("PRIMARY KEY ({})", cols.join(", ")),
            );
        }
        let mut fks: BTreeMap<i32, SqliteForeignKey> = BTreeMap::new();
        for row in rows(
            db,
            &format!(
                "SELECT id, \"table\" AS ref_table, \"from\" AS from_col, \"to\" AS to_col, \
                        on_update, on_delete \
                 FROM pragma_foreign_key_list({lit}) ORDER BY id, seq"
            ),
        )
        .await?
        {
            let id: i32 = row.try_get("", "id")?;
            let fk = fks.entry(id).or_default();
            fk.ref_table = text(&row, "ref_table")?;
            fk.from.push(text(&row, "from_col")?);
            fk.to.push(opt_text(&row, "to_col")?.unwrap_or_default());
            fk.on_update = text(&row, "on_update")?;
            fk.on_delete = text(&row, "on_delete")?;
        }
        for fk in fks.into_values() {
            let key = format!("FOREIGN KEY ({})", fk.from.join(", "));
            let def = format!(
                "{key} REFERENCES {}({}) ON UPDATE {} ON DELETE {}",
                fk.ref_table,
                fk.to.join(", "),
                fk.on_update,
                fk.on_delete
            );
            table.constraints.insert(key, def);
        }
        for row in rows(
            db,
            &format!(
                "SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list({lit}) \
                 ORDER BY name"
            ),
        )
        .await?
        {
            let index = text(&row, "name")?;
            let unique = row.try_get::<i32>("", "is_unique")? != 0;
            let origin = text(&row, "origin")?;
            let cols: Vec<String> = rows(
                db,
                &format!(
                    "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
                    crate::sql::literal(&index)
                ),
            )
            .await?
            .iter()
            .map(|r| opt_text(r, "name").map(Option::unwrap_or_default))
            .collect::<Result<_, _>>()?;
            let def = format!(
                "{}INDEX ON {name} ({}) [{origin}]",
                if unique { "UNIQUE " } else { "" },
                cols.join(", ")
            );
            table.indexes.insert(index, def);
        }
        catalog.tables.insert(name, table);
    }
    Ok(catalog)
}

/// An identifier as PostgreSQL's `quote_ident` writes it: bare when it is
/// lower-case letters, digits and underscores, starts with a letter or an
/// underscore and is not a keyword PostgreSQL restricts anywhere (`on`,
/// `to`, `when`, `user`, `position`…); otherwise in double quotes, inner
/// quotes doubled. The keywords are those of PostgreSQL 17, so a name that
/// only newer servers reserve (`json_table`, `system_user`) is quoted too
/// and a schema file loads on either.
pub fn quote_ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && KEYWORDS.binary_search(&name).is_err();
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The keywords `quote_ident` quotes (PostgreSQL's reserved, column-name and
/// type-or-function-name keywords, through PostgreSQL 17), sorted.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character",
    "check", "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having",
    "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into",
    "is", "isnull", "join", "json", "json_array", "json_arrayagg", "json_exists", "json_object",
    "json_objectagg", "json_query", "json_scalar", "json_serialize", "json_table", "json_value",
    "lateral", "leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
    "merge_action", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
    "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps",
    "overlay", "placing", "position", "precision", "primary", "real", "references", "returning",
    "right", "row", "select", "session_user", "setof", "similar", "smallint", "some", "substring",
    "symmetric", "system_user", "table", "tablesample", "then", "time", "timestamp", "to",
    "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values", "varchar",
    "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat",
    "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
    "xmlserialize", "xmltable",
];

#[cfg(test)]
mod tests {
    use super::{KEYWORDS, quote_ident};

    #[test]
    fn keywords_are_sorted_for_the_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers_are_quoted_as_postgres_quotes_them() {
        for (name, quoted) in [
            ("users", "users"),
            ("_x1", "_x1"),
            ("user", "\"user\""),
            ("on", "\"on\""),
            ("to", "\"to\""),
            ("when", "\"when\""),
            ("position", "\"position\""),
            ("name", "name"),
            ("type", "type"),
            ("Mixed", "\"Mixed\""),
            ("1st", "\"1st\""),
            ("a b", "\"a b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("", "\"\""),
        ] {
            assert_eq!(quote_ident(name), quoted, "{name}");
        }
    }
}
