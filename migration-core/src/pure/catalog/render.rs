//! SQL the catalog writes itself: identifiers quoted the way PostgreSQL
//! quotes them, and the definitions of keys, foreign keys and indexes built
//! without a database (an entity's, or a SQLite table's), spelled as
//! PostgreSQL's `pg_get_constraintdef` and `pg_get_indexdef` spell them.

use super::{Constraint, ConstraintKind, FkAction, ForeignKey, Index};

/// An identifier as PostgreSQL's `quote_ident` writes it: bare when it is
/// lower-case letters, digits and underscores, starts with a letter or an
/// underscore and is not a keyword PostgreSQL restricts anywhere (`on`,
/// `to`, `when`, `user`, `position`…); otherwise in double quotes, inner
/// quotes doubled. The keywords are those of PostgreSQL 17, so a name that
/// only newer servers reserve (`json_table`, `system_user`) is quoted too
/// and a schema file loads on either.
pub fn quote_if_needed(name: &str) -> String {
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

/// `a, "to", b`.
pub(crate) fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_if_needed(n))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Constraint {
    /// `PRIMARY KEY (columns)`.
    pub fn primary_key(columns: Vec<String>) -> Constraint {
        Constraint {
            definition: format!("PRIMARY KEY ({})", ident_list(&columns)),
            kind: ConstraintKind::PrimaryKey(columns),
        }
    }

    /// `UNIQUE (columns)`.
    pub fn unique(columns: Vec<String>) -> Constraint {
        Constraint {
            definition: format!("UNIQUE ({})", ident_list(&columns)),
            kind: ConstraintKind::Unique(columns),
        }
    }

    /// `FOREIGN KEY (columns) REFERENCES table(columns)`, then the actions
    /// that are not `NO ACTION`.
    pub fn foreign_key(fk: ForeignKey) -> Constraint {
        let mut definition = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            ident_list(&fk.columns),
            quote_if_needed(&fk.to_table),
            ident_list(&fk.to_columns)
        );
        for (word, action) in [("UPDATE", fk.on_update), ("DELETE", fk.on_delete)] {
            if action != FkAction::NoAction {
                definition.push_str(&format!(" ON {word} {}", action.sql()));
            }
        }
        Constraint {
            definition,
            kind: ConstraintKind::ForeignKey(fk),
        }
    }
}

impl Index {
    /// A PostgreSQL index on plain columns:
    /// `CREATE [UNIQUE] INDEX name ON table USING method (columns)`.
    pub fn on_columns(
        name: &str,
        table: &str,
        method: &str,
        unique: bool,
        columns: Vec<String>,
    ) -> Index {
        Index {
            unique,
            definition: format!(
                "CREATE {}INDEX {} ON {} USING {method} ({})",
                if unique { "UNIQUE " } else { "" },
                quote_if_needed(name),
                quote_if_needed(table),
                ident_list(&columns)
            ),
            columns: columns.into_iter().map(Some).collect(),
        }
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
    use super::*;

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
            assert_eq!(quote_if_needed(name), quoted, "{name}");
        }
    }

    #[test]
    fn definitions_are_spelled_as_postgres_prints_them() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Constraint::primary_key(names(&["id"])).definition,
            "PRIMARY KEY (id)"
        );
        assert_eq!(
            Constraint::unique(names(&["organization_id", "user"])).definition,
            "UNIQUE (organization_id, \"user\")"
        );
        let fk = |on_update, on_delete| {
            Constraint::foreign_key(ForeignKey {
                columns: names(&["to"]),
                to_table: "on".into(),
                to_columns: names(&["id"]),
                on_update,
                on_delete,
            })
            .definition
        };
        assert_eq!(
            fk(FkAction::NoAction, FkAction::NoAction),
            "FOREIGN KEY (\"to\") REFERENCES \"on\"(id)"
        );
        assert_eq!(
            fk(FkAction::Cascade, FkAction::SetNull),
            "FOREIGN KEY (\"to\") REFERENCES \"on\"(id) ON UPDATE CASCADE ON DELETE SET NULL"
        );
        let index = Index::on_columns("ix_when", "on", "btree", true, names(&["when", "b"]));
        assert_eq!(
            index.definition,
            "CREATE UNIQUE INDEX ix_when ON \"on\" USING btree (\"when\", b)"
        );
        assert_eq!(index.column_names(), Some(names(&["when", "b"])));
    }
}
