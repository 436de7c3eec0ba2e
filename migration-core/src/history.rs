//! A migrator's history: its migrations in order, their bookkeeping table,
//! the names a mistyped one is closest to, and the checks of what the
//! bookkeeping table records against it, made before any statement that
//! changes something.
//!
//! - [`check`] is pure: over the recorded names (every row, duplicates
//!   kept) and the binary's names it finds **duplicate rows** of one
//!   migration (possible when the table was made by hand without its
//!   primary key) and **gaps** (a migration not recorded while a later one
//!   is: applying it would run its statements on a schema that already has
//!   them). Names the binary does not know are the runner's "ahead" refusal.
//! - [`foreign`] tells **another migrator's history** from this one's by a
//!   signature in the catalog. Both histories of this project start with
//!   `m001_initial_schema`, so the names alone cannot tell an ASK database
//!   from a Sketch2BIM one at its first migration. The rule: when the first
//!   migration is recorded, every table it creates that no later recorded
//!   migration drops or renames must exist. The tables are taken from the
//!   first migration's own statements, recorded without a database (see
//!   [`crate::record`]), so the rule follows the code, not a list kept by
//!   hand; ASK's first migration creates `groq_usage`, Sketch2BIM's `jobs`,
//!   and neither has the other's. It needs one catalog query, so the runner
//!   makes it only when there is something to apply or roll back (at head
//!   `up` stays one SELECT). When a migration involved reads the database
//!   and cannot be recorded, the check says nothing rather than guess.

use sea_orm_migration::MigrationTrait;

use crate::{Described, Error};

/// The PostgreSQL schema migrated when none is given.
pub const DEFAULT_SCHEMA: &str = "public";

/// A migrator's history: its migrations in order and its bookkeeping table.
pub struct History {
    pub(crate) migrations: Vec<Box<dyn MigrationTrait>>,
    pub(crate) table: String,
    /// The database's short name ([`crate::Database::name`]): `sketch2bim`.
    pub(crate) database: &'static str,
    /// How many Alembic revisions the first migrations stand for.
    pub(crate) alembic_revisions: usize,
    /// The PostgreSQL schema migrated: `public` unless given (`-s`). Every
    /// bookkeeping statement and catalog read names it, and migrations run
    /// with it first on their search path, whatever the database or role sets.
    pub(crate) schema: String,
    /// `(name, leading doc paragraph)` per migration, read only by
    /// [`History::summaries`] (not on the startup path).
    docs: fn() -> Vec<(&'static str, &'static str)>,
    /// `(name, whole source)` per migration, read only by `lint`.
    sources: fn() -> Vec<(&'static str, &'static str)>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("migrations", &self.names())
            .field("table", &self.table)
            .field("schema", &self.schema)
            .finish()
    }
}

impl History {
    pub fn of<M: Described>() -> History {
        History {
            migrations: M::migrations(),
            table: M::migration_table_name().to_string(),
            database: M::DATABASE.name,
            alembic_revisions: M::DATABASE.alembic_revisions,
            schema: DEFAULT_SCHEMA.to_owned(),
            docs: M::summaries,
            sources: M::sources,
        }
    }

    /// The same history, migrating PostgreSQL schema `schema` instead of
    /// `public`.
    pub fn in_schema(mut self, schema: &str) -> History {
        schema.clone_into(&mut self.schema);
        self
    }

    /// The PostgreSQL schema migrated (`public` unless given).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// `table` as SQL names it: on PostgreSQL qualified with the schema
    /// (`"public"."seaql_migrations"`), on SQLite quoted alone.
    pub(crate) fn qualified(&self, backend: sea_orm::DbBackend, table: &str) -> String {
        let quoted = crate::sql::quote_ident(backend, table);
        match backend {
            sea_orm::DbBackend::Postgres => {
                format!(
                    "{}.{quoted}",
                    crate::sql::quote_ident(backend, &self.schema)
                )
            }
            _ => quoted,
        }
    }

    /// The bookkeeping table as SQL names it ([`History::qualified`]).
    pub(crate) fn quoted_table(&self, backend: sea_orm::DbBackend) -> String {
        self.qualified(backend, &self.table)
    }

    /// `(name, what it does)` per migration, oldest first.
    pub fn summaries(&self) -> Vec<(&str, String)> {
        let docs = (self.docs)();
        self.migrations
            .iter()
            .map(|m| {
                let doc = docs
                    .iter()
                    .find(|(name, _)| *name == m.name())
                    .map_or_else(String::new, |(_, doc)| crate::one_line_doc(doc));
                (m.name(), doc)
            })
            .collect()
    }

    /// `(name, source)` per migration, oldest first: the files as written.
    pub fn sources(&self) -> Vec<(&'static str, &'static str)> {
        (self.sources)()
    }

    /// Migration names, oldest first.
    pub fn names(&self) -> Vec<&str> {
        self.migrations.iter().map(|m| m.name()).collect()
    }

    /// The newest migration's name.
    pub fn head(&self) -> Option<&str> {
        self.migrations.last().map(|m| m.name())
    }

    /// A history of migrations that do nothing, named `names`, for tests of
    /// the pure core.
    #[cfg(test)]
    pub(crate) fn named(names: &[&'static str]) -> History {
        struct Named(&'static str);
        impl sea_orm_migration::MigrationName for Named {
            fn name(&self) -> &str {
                self.0
            }
        }
        #[sea_orm_migration::async_trait::async_trait]
        impl MigrationTrait for Named {
            async fn up(&self, _: &sea_orm_migration::SchemaManager) -> Result<(), sea_orm::DbErr> {
                Ok(())
            }
        }
        History {
            migrations: names
                .iter()
                .map(|n| Box::new(Named(n)) as Box<dyn MigrationTrait>)
                .collect(),
            table: "seaql_migrations".to_owned(),
            database: "test",
            alembic_revisions: 0,
            schema: DEFAULT_SCHEMA.to_owned(),
            docs: Vec::new,
            sources: Vec::new,
        }
    }

    /// The bookkeeping table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Where `name` is in the history; an unknown name is an error that
    /// suggests the closest names.
    pub(crate) fn position(&self, name: &str) -> Result<usize, Error> {
        self.migrations
            .iter()
            .position(|m| m.name() == name)
            .ok_or_else(|| Error::UnknownMigration {
                name: name.to_owned(),
                closest: closest(name, &self.names()),
            })
    }
}

/// The known names closest to `name`, best first: the one with the same
/// number (`3`, `m3`, `m0003` all mean `m003_…`), else those within a few
/// edits of the whole name or of its beginning.
fn closest(name: &str, known: &[&str]) -> Vec<String> {
    let number = |s: &str| -> Option<u32> {
        let digits = s.strip_prefix('m').unwrap_or(s);
        let digits = digits.split('_').next().unwrap_or(digits);
        digits.parse().ok()
    };
    let mut scored: Vec<(usize, &str)> = known
        .iter()
        .filter_map(|k| {
            let d = if number(name).is_some() && number(name) == number(k) {
                0
            } else {
                let prefix: String = k.chars().take(name.chars().count()).collect();
                strsim::levenshtein(name, k).min(strsim::levenshtein(name, &prefix) + 1)
            };
            (d <= 3.max(name.len() / 4)).then_some((d, *k))
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |(d, _)| *d);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= best + 1)
        .take(2)
        .map(|(_, k)| k.to_owned())
        .collect()
}

/// Refuses recorded rows that are inconsistent in themselves: a migration
/// recorded more than once, or one missing while a later one is recorded.
/// `recorded` is every row's name in any order; `names` the binary's
/// migrations, oldest first. Names the binary does not know are ignored.
pub fn check(names: &[&str], recorded: &[&str], table: &str) -> Result<(), Error> {
    let mut duplicates: Vec<String> = Vec::new();
    for (i, name) in recorded.iter().enumerate() {
        if recorded[..i].contains(name) && !duplicates.iter().any(|d| d == name) {
            duplicates.push((*name).to_owned());
        }
    }
    if !duplicates.is_empty() {
        // In history order where known, for a stable message.
        duplicates.sort_by_key(|d| names.iter().position(|n| n == d).unwrap_or(usize::MAX));
        return Err(Error::DuplicateRows {
            names: duplicates,
            table: table.to_owned(),
        });
    }
    let Some(last) = names.iter().rposition(|n| recorded.contains(n)) else {
        return Ok(());
    };
    let missing: Vec<String> = names[..last]
        .iter()
        .filter(|n| !recorded.contains(n))
        .map(|n| (*n).to_owned())
        .collect();
    let number = |n: &str| crate::layout::parse(n).map(|(k, _, _)| k);
    let same_number = missing.iter().find_map(|m| {
        let k = number(m)?;
        let twin = names
            .iter()
            .find(|n| *n != m && number(n) == Some(k) && recorded.contains(*n))?;
        Some((m.clone(), (*twin).to_owned()))
    });
    if missing.is_empty() {
        Ok(())
    } else if let Some((missing, recorded)) = same_number {
        Err(Error::SameNumber { missing, recorded })
    } else {
        Err(Error::Gap {
            missing,
            later: names[last].to_owned(),
            table: table.to_owned(),
        })
    }
}

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

    const NAMES: [&str; 5] = ["m001_a", "m002_b", "m003_c", "m004_d", "m005_e"];

    fn line(e: Error) -> String {
        e.to_string()
    }

    fn suggested(name: &str) -> Vec<String> {
        match History::named(&SKETCH2BIM).position(name) {
            Err(Error::UnknownMigration { closest, .. }) => closest,
            other => panic!("{name}: {other:?}"),
        }
    }

    const SKETCH2BIM: [&str; 4] = [
        "m003_add_batch_id_to_jobs",
        "m004_add_iterations_variations_referrals",
        "m005_add_sketchup_url",
        "m010_remove_reader_type_column",
    ];

    #[test]
    fn a_number_alone_names_its_migration() {
        assert_eq!(
            suggested("4"),
            vec!["m004_add_iterations_variations_referrals"]
        );
        assert_eq!(
            suggested("m4"),
            vec!["m004_add_iterations_variations_referrals"]
        );
        assert_eq!(suggested("m0010"), vec!["m010_remove_reader_type_column"]);
    }

    #[test]
    fn a_truncated_or_mistyped_name_suggests_the_closest() {
        assert_eq!(
            suggested("m004_add_iterations"),
            vec!["m004_add_iterations_variations_referrals"]
        );
        assert_eq!(
            suggested("m005_add_sketchup_ulr"),
            vec!["m005_add_sketchup_url"]
        );
    }

    #[test]
    fn nothing_close_suggests_nothing() {
        assert!(suggested("drop_everything").is_empty());
        assert_eq!(
            History::named(&SKETCH2BIM)
                .position("m005_add_sketchup_url")
                .ok(),
            Some(2)
        );
    }

    #[test]
    fn a_consistent_history_passes() {
        assert!(check(&NAMES, &[], "seaql_migrations").is_ok());
        assert!(check(&NAMES, &["m001_a", "m002_b"], "seaql_migrations").is_ok());
        assert!(check(&NAMES, &NAMES, "seaql_migrations").is_ok());
        // Order of the rows does not matter; unknown names are the ahead check's.
        assert!(check(&NAMES, &["m002_b", "m001_a", "m011_x"], "seaql_migrations").is_ok());
    }

    #[test]
    fn a_gap_names_every_missing_migration() {
        let e = check(
            &NAMES,
            &["m001_a", "m002_b", "m004_d", "m005_e"],
            "seaql_migrations",
        )
        .expect_err("refused");
        assert_eq!(
            line(e),
            "the database's history has a gap: m003_c is not recorded although the later \
             m005_e is; check that the schema has its changes, then record it again in \
             seaql_migrations (or restore its row); nothing was changed"
        );
        let e = check(&NAMES, &["m001_a", "m004_d"], "seaql_migrations").expect_err("refused");
        assert_eq!(
            line(e),
            "the database's history has a gap: m002_b, m003_c are not recorded although the \
             later m004_d is; check that the schema has their changes, then record them again \
             in seaql_migrations (or restore their rows); nothing was changed"
        );
        // The first migration missing is a gap too.
        assert!(matches!(
            check(&NAMES, &["m002_b"], "t"),
            Err(Error::Gap { missing, .. }) if missing == ["m001_a"]
        ));
    }

    #[test]
    fn duplicate_rows_are_named_once_each() {
        let e = check(
            &NAMES,
            &["m001_a", "m002_b", "m002_b", "m001_a", "m002_b"],
            "seaql_migrations",
        )
        .expect_err("refused");
        assert_eq!(
            line(e),
            "seaql_migrations records m001_a, m002_b more than once (a table made without its \
             primary key?); delete the extra rows, keeping one per migration; nothing was \
             changed"
        );
        // Duplicates are reported before a gap.
        assert!(matches!(
            check(&NAMES, &["m003_c", "m003_c"], "t"),
            Err(Error::DuplicateRows { .. })
        ));
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
