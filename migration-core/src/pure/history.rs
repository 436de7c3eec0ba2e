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
//!   [`crate::pure::capture`]), so the rule follows the code, not a list kept by
//!   hand; ASK's first migration creates `groq_usage`, Sketch2BIM's `jobs`,
//!   and neither has the other's. It needs one catalog query, so the runner
//!   makes it only when there is something to apply or roll back (at head
//!   `up` stays one SELECT). When a migration involved reads the database
//!   and cannot be recorded, the check says nothing rather than guess.

use sea_orm_migration::MigrationTrait;

use crate::pure::dialect::Dialect;
use crate::pure::quote::quote_ident;
use crate::{Described, Error};

mod signature;

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
    /// Makes the migrations anew, for the same history in another schema.
    make: fn() -> Vec<Box<dyn MigrationTrait>>,
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
            make: M::migrations,
        }
    }

    /// The same history, migrating PostgreSQL schema `schema` instead of
    /// `public`.
    pub fn in_schema(mut self, schema: &str) -> History {
        schema.clone_into(&mut self.schema);
        self
    }

    /// This history again, migrating PostgreSQL schema `schema` (`schema
    /// update` builds the schema file in a scratch schema).
    pub fn for_schema(&self, schema: &str) -> History {
        History {
            migrations: (self.make)(),
            table: self.table.clone(),
            database: self.database,
            alembic_revisions: self.alembic_revisions,
            schema: schema.to_owned(),
            docs: self.docs,
            sources: self.sources,
            make: self.make,
        }
    }

    /// The PostgreSQL schema migrated (`public` unless given).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// `table` as SQL names it: on PostgreSQL qualified with the schema
    /// (`"public"."seaql_migrations"`), on SQLite quoted alone.
    pub(crate) fn qualified(&self, dialect: &dyn Dialect, table: &str) -> String {
        let quoted = quote_ident(table);
        if dialect.has_schemas() {
            format!("{}.{quoted}", quote_ident(&self.schema))
        } else {
            quoted
        }
    }

    /// The bookkeeping table as SQL names it ([`History::qualified`]).
    pub(crate) fn quoted_table(&self, dialect: &dyn Dialect) -> String {
        self.qualified(dialect, &self.table)
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
                    .map_or_else(String::new, |(_, doc)| {
                        crate::model::text::one_line_doc(doc)
                    });
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
            make: Vec::new,
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
    let number = |n: &str| crate::pure::layout::parse(n).map(|(k, _, _)| k);
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

pub use signature::{foreign, foreign_columns, signature_columns, signature_tables};

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
}
