//! The bookkeeping table's SQL: sea-orm-migration's `seaql_migrations`
//! (`version`, `applied_at` in Unix seconds), which the stock tooling reads
//! too, plus the nullable `checksum` column ([`crate::pure::checksum`]).

use sea_orm::{Schema, Statement};
use sea_orm_migration::seaql_migrations;

use crate::model::run::Direction;
use crate::pure::checksum::COLUMN as CHECKSUM;
use crate::pure::dialect::Dialect;
use crate::pure::history::History;
use crate::pure::quote::literal;

/// The query telling whether `table` (quoted) records migration `name`.
pub(crate) fn is_recorded_statement(dialect: &dyn Dialect, table: &str, name: &str) -> Statement {
    Statement::from_sql_and_values(
        dialect.backend(),
        format!(
            "SELECT count(*) AS n FROM {table} WHERE version = {}",
            dialect.placeholder(1)
        ),
        [name.into()],
    )
}

/// The bookkeeping row's INSERT (up, with the migration's checksum) or
/// DELETE (down).
pub(crate) fn record_statement(
    dialect: &dyn Dialect,
    table: &str,
    name: &str,
    direction: Direction,
    checksum: Option<&str>,
) -> Statement {
    match direction {
        Direction::Up => Statement::from_sql_and_values(
            dialect.backend(),
            format!(
                "INSERT INTO {table} (version, applied_at, {CHECKSUM}) VALUES ({}, {}, {})",
                dialect.placeholder(1),
                dialect.placeholder(2),
                dialect.placeholder(3)
            ),
            [
                name.into(),
                now_unix().into(),
                checksum.map(str::to_owned).into(),
            ],
        ),
        Direction::Down => Statement::from_sql_and_values(
            dialect.backend(),
            format!(
                "DELETE FROM {table} WHERE version = {}",
                dialect.placeholder(1)
            ),
            [name.into()],
        ),
    }
}

/// [`bookkeeping_table`] as SQL.
pub(crate) fn create_sql(dialect: &dyn Dialect, history: &History) -> String {
    dialect
        .backend()
        .build(&bookkeeping_table(dialect, history))
        .to_string()
}

/// `CREATE TABLE IF NOT EXISTS` of the bookkeeping table: sea-orm-migration's
/// `version` and `applied_at`, and the checksum ([`crate::pure::checksum`]).
pub(crate) fn bookkeeping_table(
    dialect: &dyn Dialect,
    history: &History,
) -> sea_orm::sea_query::TableCreateStatement {
    use sea_orm::sea_query::{Alias, ColumnDef};
    let mut create =
        Schema::new(dialect.backend()).create_table_from_entity(seaql_migrations::Entity);
    if dialect.has_schemas() {
        create.table((
            Alias::new(history.schema.as_str()),
            Alias::new(history.table.as_str()),
        ));
    } else {
        create.table(Alias::new(history.table.as_str()));
    }
    // Nullable, and unknown to sea-orm's own CLI, which leaves it empty.
    create.col(ColumnDef::new(Alias::new(CHECKSUM)).string());
    create.if_not_exists();
    create
}

pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The DDL adding the checksum column to `table` (quoted).
pub(crate) fn add_checksum_sql(dialect: &dyn Dialect, table: &str) -> String {
    dialect.add_checksum_sql(table, CHECKSUM)
}

/// `repair`: records `checksum` as migration `name`'s, in `table` (quoted);
/// values inline (a simple query).
pub(crate) fn set_checksum_sql(table: &str, name: &str, checksum: &str) -> String {
    format!(
        "UPDATE {table} SET {CHECKSUM} = {} WHERE version = {}",
        literal(checksum),
        literal(name)
    )
}

/// One batch (simple queries, safe behind a transaction pooler) that makes
/// the bookkeeping table if needed and records `rows` (name, checksum) as
/// applied now, unless the table already records something (another run
/// took the database over first): an adoption or a baseline.
pub(crate) fn record_adoption(
    dialect: &dyn Dialect,
    history: &History,
    rows: &[(&str, Option<String>)],
) -> String {
    let table = history.quoted_table(dialect);
    let values = rows
        .iter()
        .map(|(name, checksum)| {
            format!(
                "({}, {})",
                literal(name),
                checksum.as_deref().map_or("NULL".to_owned(), literal)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{create};\n\
         INSERT INTO {table} (version, applied_at, {CHECKSUM}) \
         SELECT column1, {now}, column2 FROM (VALUES {values}) AS adopted \
         WHERE NOT EXISTS (SELECT 1 FROM {table})",
        create = create_sql(dialect, history),
        now = now_unix(),
    )
}

/// The bookkeeping columns the migrator reads back, with the PostgreSQL
/// types (`pg_type.typname`) it can read them as, and how to name them.
pub(crate) const COLUMNS: [(&str, &[&str], &str); 3] = [
    ("version", &["varchar", "text"], "varchar (or text)"),
    ("applied_at", &["int8"], "bigint"),
    (CHECKSUM, &["varchar", "text"], "varchar (or text)"),
];
