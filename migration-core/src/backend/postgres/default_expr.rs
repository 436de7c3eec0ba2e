//! Which column defaults adoption may evaluate to compare them.
//!
//! Adoption compares a database's defaults with what the migrations build,
//! and two spellings of one value (`0.0`, `'0.0'`, `'0'::double precision`)
//! must count as one. Evaluating an expression would run whatever it calls,
//! and a default can call any function: one that terminates sessions, or
//! sleeps while the migration lock is held. So a default is evaluated only
//! when its parse tree (`pg_attrdef.adbin`) provably calls nothing but
//! built-in casts of constants; any other default is compared as the
//! catalog prints it (`pg_get_expr`), and a different text is a listed
//! difference. On SQLite only plain literals are evaluated.

use std::collections::BTreeMap;

use sea_orm::DbErr;

use crate::backend::transport::Reader;

/// How long any one statement of an adoption may run (`SET LOCAL
/// statement_timeout`).
pub(crate) const STATEMENT_TIMEOUT: &str = "30s";

/// PostgreSQL's first OID of objects made after `initdb`: below it are the
/// built-in types and functions, which no role but a superuser can change.
const FIRST_NORMAL_OBJECT_ID: u64 = 16384;

/// `(table, column)` → whether that column's default may be evaluated.
pub(crate) type Evaluable = BTreeMap<(String, String), bool>;

/// Whether every column default of the tables of `schema` (an SQL
/// expression: a quoted literal, or `current_schema()`) may be evaluated;
/// on SQLite nothing is read (see `backend::sqlite::adoption::literal`).
pub(crate) async fn evaluable<C: Reader + ?Sized>(
    db: &C,
    schema: &str,
) -> Result<Evaluable, DbErr> {
    let mut out = Evaluable::new();
    if db.backend() != sea_orm::DbBackend::Postgres {
        return Ok(out);
    }
    let sql = format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                d.adbin::text AS tree, (a.atttypid < {FIRST_NORMAL_OBJECT_ID}) AS builtin_type \
         FROM pg_catalog.pg_attrdef d \
         JOIN pg_catalog.pg_class c ON c.oid = d.adrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
         WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p')"
    );
    for row in db.query_all(sql).await? {
        let tree: String = row.try_get("", "tree")?;
        let builtin_type: bool = row.try_get("", "builtin_type")?;
        out.insert(
            (
                row.try_get("", "table_name")?,
                row.try_get("", "column_name")?,
            ),
            builtin_type && calls_only_builtin_casts(&tree),
        );
    }
    Ok(out)
}

/// Whether a default's parse tree, as `pg_node_tree` prints it, holds only
/// constants of built-in types and built-in casts of them: every node is a
/// `CONST`, a `RELABELTYPE` or `COERCEVIAIO` to a built-in type, or a
/// `FUNCEXPR` that is a cast (`:funcformat` 1 or 2) to a built-in function.
/// Anything else (a function call, an operator, a sub-select, a user type)
/// is not evaluated.
pub(crate) fn calls_only_builtin_casts(tree: &str) -> bool {
    let mut words = tree.split_whitespace().peekable();
    let mut seen_node = false;
    let builtin = |value: Option<&str>| {
        value
            .map(|v| v.trim_end_matches([')', '}']))
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|oid| oid < FIRST_NORMAL_OBJECT_ID)
    };
    while let Some(word) = words.next() {
        let word = word.trim_start_matches('(');
        if let Some(tag) = word.strip_prefix('{') {
            if !matches!(tag, "CONST" | "FUNCEXPR" | "RELABELTYPE" | "COERCEVIAIO") {
                return false;
            }
            seen_node = true;
            continue;
        }
        let fine = match word {
            ":funcid" | ":funcresulttype" | ":consttype" | ":resulttype" => builtin(words.next()),
            ":funcformat" => matches!(words.next(), Some("1" | "2")),
            ":funcretset" | ":funcvariadic" => words.next() == Some("false"),
            _ => true,
        };
        if !fine {
            return false;
        }
    }
    seen_node
}

#[cfg(test)]
mod tests {
    use super::calls_only_builtin_casts;
    use crate::backend::sqlite::adoption::literal as sqlite_literal;

    #[test]
    fn only_constants_and_builtin_casts_are_evaluated() {
        // `0.0` on a double precision column: numeric cast to float8.
        let numeric_cast = "{FUNCEXPR :funcid 1746 :funcresulttype 701 :funcretset false \
            :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args ({CONST \
            :consttype 1700 :consttypmod -1 :constcollid 0 :constlen -1 :constbyval false \
            :constisnull false :location 33 :constvalue 6 [ 24 0 0 0 -128 -128 ]}) :location -1}";
        // `'0'::double precision`.
        let constant = "{CONST :consttype 701 :consttypmod -1 :constcollid 0 :constlen 8 \
            :constbyval true :constisnull false :location 55 :constvalue 8 [ 0 0 0 0 0 0 0 0 ]}";
        let relabel = "{RELABELTYPE :arg {CONST :consttype 25 :consttypmod -1 :constcollid 100 \
            :constlen -1 :constbyval false :constisnull false :location 1 :constvalue 7 \
            [ 28 0 0 0 117 115 100 ]} :resulttype 1043 :resulttypmod -1 :resultcollid 100 \
            :relabelformat 2 :location -1}";
        for tree in [numeric_cast, constant, relabel] {
            assert!(calls_only_builtin_casts(tree), "{tree}");
        }
        // now(): a call (funcformat 0) under a cast.
        let now = "{FUNCEXPR :funcid 2027 :funcresulttype 1114 :funcretset false \
            :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args ({FUNCEXPR \
            :funcid 1299 :funcresulttype 1184 :funcretset false :funcvariadic false \
            :funcformat 0 :funccollid 0 :inputcollid 0 :args <> :location 145}) :location -1}";
        // A user's function, even one the parser marks as a cast.
        let user = "{FUNCEXPR :funcid 16500 :funcresulttype 1043 :funcretset false \
            :funcvariadic false :funcformat 2 :funccollid 0 :inputcollid 0 :args <> :location 1}";
        let user_type = "{CONST :consttype 16600 :consttypmod -1 :constcollid 0 :constlen 4 \
            :constbyval true :constisnull false :location 1 :constvalue 4 [ 1 0 0 0 0 0 0 0 ]}";
        let operator = "{OPEXPR :opno 551 :opfuncid 177 :opresulttype 23 :opretset false \
            :opcollid 0 :inputcollid 0 :args ({CONST :consttype 23 :consttypmod -1 \
            :constcollid 0 :constlen 4 :constbyval true :constisnull false :location 1 \
            :constvalue 4 [ 1 0 0 0 0 0 0 0 ]}) :location 3}";
        let sublink = "{SUBLINK :subLinkType 4 :subLinkId 0 :testexpr <> :operName <> \
            :subselect {QUERY} :location 1}";
        for tree in [now, user, user_type, operator, sublink, "", "garbage"] {
            assert!(!calls_only_builtin_casts(tree), "{tree}");
        }
    }

    #[test]
    fn sqlite_evaluates_only_literals() {
        for expr in ["0", "0.0", "'0.0'", "-1", "(5)", "'it''s'", "NULL", "1e3"] {
            assert!(sqlite_literal(expr), "{expr}");
        }
        for expr in [
            "random()",
            "abs(-1)",
            "'a' || 'b'",
            "x",
            "",
            "'a'b'",
            "1 + 1",
        ] {
            assert!(!sqlite_literal(expr), "{expr}");
        }
    }
}
