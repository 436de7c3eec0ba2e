//! The migrator's own rules, on the shape of each statement.

use super::{
    CONCURRENTLY_IN_TRANSACTION, DDL_OUTSIDE_TRANSACTION, Finding, LONG_WITH_OTHER_DDL, own,
};

/// What a statement is, for the migrator's own rules.
struct Shape {
    ddl: bool,
    concurrently: bool,
    /// Validates or rewrites existing rows of `table`.
    long: Option<String>,
    /// The table a `CREATE TABLE` makes.
    creates: Option<String>,
}

fn shape(statement: &str) -> Shape {
    let upper = statement.trim_start().to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let first = words.first().copied().unwrap_or("");
    let ddl = matches!(
        first,
        "CREATE"
            | "ALTER"
            | "DROP"
            | "COMMENT"
            | "TRUNCATE"
            | "REINDEX"
            | "CLUSTER"
            | "GRANT"
            | "REVOKE"
    );
    let concurrently = words.contains(&"CONCURRENTLY");
    let table_after = |keyword: &[&str]| -> Option<String> {
        let at = words.windows(keyword.len()).position(|w| w == keyword)? + keyword.len();
        let mut i = at;
        while matches!(
            words.get(i),
            Some(&"ONLY") | Some(&"IF") | Some(&"EXISTS") | Some(&"NOT")
        ) {
            i += 1;
        }
        words.get(i).map(|w| {
            w.trim_matches(|c| c == '"' || c == '(')
                .split('(')
                .next()
                .unwrap_or("")
                .to_owned()
        })
    };
    let creates = (first == "CREATE" && words.get(1) == Some(&"TABLE"))
        .then(|| table_after(&["TABLE"]))
        .flatten();
    let long = if first == "UPDATE" {
        table_after(&["UPDATE"])
    } else if first == "CREATE" && !concurrently && words.contains(&"INDEX") {
        table_after(&["ON"])
    } else if first == "ALTER" && words.get(1) == Some(&"TABLE") {
        let validates = upper.contains("VALIDATE CONSTRAINT")
            || upper.contains("SET NOT NULL")
            || (upper.contains(" TYPE ") && upper.contains("ALTER COLUMN"))
            || ((upper.contains("FOREIGN KEY") || upper.contains(" CHECK "))
                && upper.contains("ADD CONSTRAINT")
                && !upper.contains("NOT VALID"));
        if validates {
            table_after(&["TABLE"])
        } else {
            None
        }
    } else {
        None
    };
    Shape {
        ddl,
        concurrently,
        long,
        creates,
    }
}

pub(super) fn own_rules(name: &str, statements: &[String], in_transaction: bool) -> Vec<Finding> {
    let shapes: Vec<Shape> = statements.iter().map(|s| shape(s)).collect();
    let created: Vec<&str> = shapes.iter().filter_map(|s| s.creates.as_deref()).collect();
    let ddl_count = shapes.iter().filter(|s| s.ddl).count();
    let mut out = Vec::new();
    for (i, (statement, s)) in statements.iter().zip(&shapes).enumerate() {
        let at = Some((i + 1, statement.as_str()));
        if in_transaction && s.concurrently {
            out.push(own(name, at, CONCURRENTLY_IN_TRANSACTION, ""));
        }
        if !in_transaction && s.ddl && !s.concurrently {
            out.push(own(name, at, DDL_OUTSIDE_TRANSACTION, ""));
        }
        if in_transaction
            && let Some(table) = &s.long
            && !created.iter().any(|c| c.eq_ignore_ascii_case(table))
            && ddl_count - usize::from(s.ddl) > 0
        {
            out.push(own(name, at, LONG_WITH_OTHER_DDL, ""));
        }
    }
    out
}
