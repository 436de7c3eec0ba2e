//! What a database's catalog says about its schema: tables, columns, indexes,
//! constraints and sequences, read from PostgreSQL's `pg_catalog` or SQLite's
//! `sqlite_master` and pragmas.
//!
//! Primary keys, UNIQUE constraints, foreign keys and indexes are read into
//! typed parts (their columns, the table referenced, the actions) from the
//! catalog's own arrays (`pg_constraint.conkey`, `pg_index.indkey`, …). Each
//! also keeps its definition as the database prints it, for showing
//! differences and for schema dumps; nothing reads a definition back.
//!
//! A [`Catalog`] flattens to one line per schema object ([`Catalog::objects`]),
//! so two databases compare object by object and their differences read as a
//! list ([`Catalog::diff`]). Column positions are ranks among the live columns
//! (PostgreSQL keeps dropped columns as holes), so a table rebuilt by the same
//! steps compares equal however many columns came and went before.

mod order;
mod render;

use std::collections::{BTreeMap, BTreeSet};

pub use order::dependency_order;
pub use render::quote_if_needed;

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

/// What a foreign key does when the row it references is updated or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    /// As SQL writes it: `NO ACTION`, `SET NULL`…
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A foreign key's columns and what they reference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    /// The referenced table; `schema.table` when it lives in another schema
    /// than the catalog's.
    pub to_table: String,
    pub to_columns: Vec<String>,
    pub on_update: FkAction,
    pub on_delete: FkAction,
}

/// What kind of constraint, with the parts the migrator works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// The primary key's columns, in key order.
    PrimaryKey(Vec<String>),
    /// A UNIQUE constraint's columns, in key order.
    Unique(Vec<String>),
    ForeignKey(ForeignKey),
    /// CHECK, EXCLUDE and other constraints: described by their definition only.
    Other,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub kind: ConstraintKind,
    /// As PostgreSQL prints it (`pg_get_constraintdef`), e.g.
    /// `FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE`.
    pub definition: String,
}

/// A table index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub unique: bool,
    /// The key columns in order (`INCLUDE` columns are not keys); `None`
    /// for a key that is an expression.
    pub columns: Vec<Option<String>>,
    /// As PostgreSQL prints it (`pg_get_indexdef`), the table named without
    /// its schema: `CREATE INDEX ix_jobs_id ON jobs USING btree (id)`. On
    /// SQLite: `UNIQUE INDEX ON users (email) [c]`, with how it came to be
    /// (`c` CREATE INDEX, `u` UNIQUE constraint, `pk` primary key).
    pub definition: String,
}

impl Index {
    /// The key columns, when every key is a column (no expression).
    pub fn column_names(&self) -> Option<Vec<String>> {
        self.columns.iter().cloned().collect()
    }
}

/// One table with what hangs off it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Constraint name → constraint. SQLite's constraints have no names: its
    /// primary key is `PRIMARY KEY`, a foreign key `FOREIGN KEY (columns)`.
    pub constraints: BTreeMap<String, Constraint>,
    /// Index name → index.
    pub indexes: BTreeMap<String, Index>,
}

impl Table {
    /// The primary key's columns; empty without one.
    pub fn primary_key(&self) -> Vec<String> {
        self.constraints
            .values()
            .find_map(|c| match &c.kind {
                ConstraintKind::PrimaryKey(columns) => Some(columns.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The UNIQUE constraints: name → columns.
    pub fn unique_constraints(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.constraints
            .iter()
            .filter_map(|(name, c)| match &c.kind {
                ConstraintKind::Unique(columns) => Some((name.as_str(), columns.as_slice())),
                _ => None,
            })
    }

    /// The foreign keys: name → foreign key.
    pub fn foreign_keys(&self) -> impl Iterator<Item = (&str, &ForeignKey)> {
        self.constraints
            .iter()
            .filter_map(|(name, c)| match &c.kind {
                ConstraintKind::ForeignKey(fk) => Some((name.as_str(), fk)),
                _ => None,
            })
    }
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
            for (name, constraint) in &table.constraints {
                out.insert(
                    format!("constraint {table_name}.{name}"),
                    constraint.definition.clone(),
                );
            }
            for (name, index) in &table.indexes {
                out.insert(format!("index {name}"), index.definition.clone());
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

    /// The tables, each after those its foreign keys reference; ties by
    /// name (see [`dependency_order`]).
    pub fn creation_order(&self) -> Vec<&str> {
        let references: BTreeMap<&str, BTreeSet<&str>> = self
            .tables
            .iter()
            .map(|(name, table)| {
                let targets = table
                    .foreign_keys()
                    .map(|(_, fk)| fk.to_table.as_str())
                    .collect();
                (name.as_str(), targets)
            })
            .collect();
        dependency_order(&references)
    }
}
