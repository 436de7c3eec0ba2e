//! The signature of a history in the catalog: the tables (and their
//! columns) that its first migration creates and no later recorded migration
//! drops or renames, read from the statements the migrations render (see
//! [`crate::pure::history`] for the rule and why), and the refusal of a database
//! that lacks them.
//!
//! The statements are read by hand, not with a SQL parser: they are
//! sea-query's own rendering (`CREATE TABLE`, `DROP TABLE`, `ALTER TABLE …
//! RENAME`, `ADD`/`DROP COLUMN`), a fixed and small shape, and the runtime
//! an application links should not carry a PostgreSQL grammar (the one
//! `lint` uses, squawk's, is behind the `tooling` feature) for it.

use crate::Error;

/// What the first migration leaves behind, as the signature of this
/// history: the tables `first` creates, less those that `later` (the
/// statements of each later recorded migration) drop or rename.
pub fn signature_tables(first: &[String], later: &[Vec<String>]) -> Vec<String> {
    let mut tables: Vec<String> = Vec::new();
    for sql in first {
        if let Some(name) = created_table(sql)
            && !tables.contains(&name)
        {
            tables.push(name);
        }
    }
    for sql in later.iter().flatten() {
        for gone in removed_tables(sql) {
            tables.retain(|t| *t != gone);
        }
    }
    tables
}

/// The columns (`table`, `column`) that `first` creates in the signature
/// `tables`, less those that `later` drops or renames: a table of the right
/// name made by another migrator (or by hand) lacks some of them.
pub fn signature_columns(
    first: &[String],
    later: &[Vec<String>],
    tables: &[String],
) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = Vec::new();
    for sql in first {
        if let Some(table) = created_table(sql)
            && tables.contains(&table)
        {
            for column in created_columns(sql) {
                columns.push((table.clone(), column));
            }
        }
    }
    for sql in later.iter().flatten() {
        if let Some((table, gone)) = removed_columns(sql) {
            columns.retain(|(t, c)| *t != table || !gone.contains(c));
        }
    }
    columns
}

/// Refuses a database that records this history's first migration but
/// lacks one of the tables of its signature ([`signature_tables`]);
/// `existing` is every table the database has.
pub fn foreign(first: &str, signature: &[String], existing: &[String]) -> Result<(), Error> {
    let missing: Vec<String> = signature
        .iter()
        .filter(|t| !existing.contains(t))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Foreign {
            first: first.to_owned(),
            missing,
            columns: Vec::new(),
        })
    }
}

/// Refuses a database whose signature tables lack columns of the signature
/// ([`signature_columns`]); `existing` is every (table, column) of those
/// tables.
pub fn foreign_columns(
    first: &str,
    signature: &[(String, String)],
    existing: &[(String, String)],
) -> Result<(), Error> {
    let columns: Vec<String> = signature
        .iter()
        .filter(|c| !existing.contains(c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    if columns.is_empty() {
        Ok(())
    } else {
        Err(Error::Foreign {
            first: first.to_owned(),
            missing: Vec::new(),
            columns,
        })
    }
}

/// `s` without its leading keywords `keyword` (any case), if it starts with them.
fn keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let s = s.trim_start();
    let head = s.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| &s[keyword.len()..])
}

/// `s` split at its top-level commas (outside parentheses and quotes).
fn top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The columns `CREATE TABLE "t" ( "a" …, "b" …, CONSTRAINT … )` defines.
fn created_columns(sql: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (sql.find('('), sql.rfind(')')) else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    const NOT_COLUMNS: [&str; 6] = [
        "CONSTRAINT ",
        "PRIMARY KEY",
        "FOREIGN KEY",
        "UNIQUE",
        "CHECK",
        "EXCLUDE",
    ];
    top_level(&sql[open + 1..close])
        .into_iter()
        .filter(|item| !NOT_COLUMNS.iter().any(|k| keyword(item, k).is_some()))
        .filter_map(|item| identifier(item).map(|(name, _)| name))
        .collect()
}

/// The table and the columns `ALTER TABLE "t" DROP COLUMN [IF EXISTS] "c",
/// RENAME COLUMN "d" TO …` drops or renames away.
fn removed_columns(sql: &str) -> Option<(String, Vec<String>)> {
    let rest = keyword(sql, "ALTER TABLE ")?;
    let rest = keyword(rest, "IF EXISTS ").unwrap_or(rest);
    let rest = keyword(rest, "ONLY ").unwrap_or(rest);
    let (table, actions) = identifier(rest)?;
    let mut gone = Vec::new();
    for action in top_level(actions) {
        let column = keyword(action, "DROP COLUMN ")
            .or_else(|| keyword(action, "DROP "))
            .map(|c| keyword(c, "IF EXISTS ").unwrap_or(c))
            .or_else(|| {
                keyword(action, "RENAME COLUMN ")
                    .or_else(|| keyword(action, "RENAME ").filter(|c| keyword(c, "TO ").is_none()))
            });
        if let Some((name, _)) = column.and_then(identifier) {
            gone.push(name);
        }
    }
    Some((table, gone))
}

/// `CREATE TABLE [IF NOT EXISTS] "name" …` → `name`.
fn created_table(sql: &str) -> Option<String> {
    let rest = sql.trim_start().strip_prefix("CREATE TABLE ")?;
    let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
    identifier(rest).map(|(name, _)| name)
}

/// The tables `DROP TABLE [IF EXISTS] "a", "b" …` drops, or the table
/// `ALTER TABLE "a" RENAME TO "b"` renames away.
fn removed_tables(sql: &str) -> Vec<String> {
    let sql = sql.trim_start();
    if let Some(rest) = sql.strip_prefix("DROP TABLE ") {
        let mut rest = rest.strip_prefix("IF EXISTS ").unwrap_or(rest);
        let mut out = Vec::new();
        while let Some((name, tail)) = identifier(rest) {
            out.push(name);
            match tail.trim_start().strip_prefix(',') {
                Some(more) => rest = more.trim_start(),
                None => break,
            }
        }
        return out;
    }
    if let Some(rest) = sql.strip_prefix("ALTER TABLE ")
        && let Some((name, tail)) = identifier(rest)
        && tail.trim_start().starts_with("RENAME TO ")
    {
        return vec![name];
    }
    Vec::new()
}

/// A leading identifier, `"quoted"` (with `""` escapes), `` `quoted` `` or
/// bare, and what follows it.
fn identifier(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let quote = s.chars().next()?;
    if quote == '"' || quote == '`' {
        let mut name = String::new();
        let mut chars = s[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                if s[1 + i + 1..].starts_with(quote) {
                    name.push(quote);
                    chars.next();
                } else {
                    return Some((name, &s[1 + i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        None
    } else {
        let len = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (len > 0).then(|| (s[..len].to_owned(), &s[len..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: Error) -> String {
        crate::one_line(&e, &[])
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_signature_is_what_the_first_migration_leaves() {
        let first = strings(&[
            r#"CREATE TABLE "users" ( "id" serial )"#,
            r#"CREATE TABLE IF NOT EXISTS "jobs" ( "id" serial )"#,
            r#"CREATE TABLE "api_keys" ( "id" serial )"#,
            r#"CREATE TABLE "old" ( "id" serial )"#,
            r#"CREATE INDEX "ix" ON "jobs" ("id")"#,
        ]);
        let later = vec![
            strings(&[r#"DROP TABLE IF EXISTS "api_keys""#]),
            strings(&[r#"ALTER TABLE "old" RENAME TO "new""#]),
            strings(&[r#"ALTER TABLE "jobs" ADD COLUMN "x" int"#]),
        ];
        assert_eq!(
            signature_tables(&first, &later),
            strings(&["users", "jobs"])
        );
        assert_eq!(
            signature_tables(&first, &[strings(&[r#"DROP TABLE "users", "jobs""#])]),
            strings(&["api_keys", "old"])
        );
        assert_eq!(
            identifier(r#""we""ird" x"#),
            Some(("we\"ird".to_owned(), " x"))
        );
    }

    #[test]
    fn another_migrators_history_lacks_the_signature() {
        let signature = strings(&["users", "jobs"]);
        assert!(
            foreign(
                "m001_initial_schema",
                &signature,
                &strings(&["jobs", "users", "x"])
            )
            .is_ok()
        );
        assert!(foreign("m001_initial_schema", &[], &[]).is_ok());
        let e = foreign(
            "m001_initial_schema",
            &signature,
            &strings(&["users", "payments", "groq_usage", "seaql_migrations"]),
        )
        .expect_err("refused");
        assert_eq!(
            line(e),
            "this database's history belongs to another migrator: it records \
             m001_initial_schema but has no table jobs, which this binary's \
             m001_initial_schema creates; check the database URL; nothing was changed"
        );
    }
}
