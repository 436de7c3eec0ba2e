//! The bookkeeping table's SQL: sea-orm-migration's `seaql_migrations`
//! (`version`, `applied_at` in Unix seconds), which the stock tooling reads
//! too, plus the nullable `checksum` column ([`crate::pure::checksum`]).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Schema, Statement};
use sea_orm_migration::seaql_migrations;

use crate::backend::transport::literal;
use crate::pure::checksum::COLUMN as CHECKSUM;
use crate::pure::history::History;
use crate::pure::plan::Direction;

/// The query telling whether `table` (quoted) records migration `name`.
pub(crate) fn is_recorded_statement(backend: DbBackend, table: &str, name: &str) -> Statement {
    Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT count(*) AS n FROM {table} WHERE version = {}",
            placeholder(backend, 1)
        ),
        [name.into()],
    )
}

/// SQLite: whether `table` (quoted) records migration `name`, read on `db`
/// (inside the step's write-locked transaction, where there is one).
pub(crate) async fn is_recorded<C: ConnectionTrait>(
    db: &C,
    table: &str,
    name: &str,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(is_recorded_statement(
            db.get_database_backend(),
            table,
            name,
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i32>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// The bookkeeping row's INSERT (up, with the migration's checksum) or
/// DELETE (down).
pub(crate) fn record_statement(
    backend: DbBackend,
    table: &str,
    name: &str,
    direction: Direction,
    checksum: Option<&str>,
) -> Statement {
    match direction {
        Direction::Up => Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO {table} (version, applied_at, {CHECKSUM}) VALUES ({}, {}, {})",
                placeholder(backend, 1),
                placeholder(backend, 2),
                placeholder(backend, 3)
            ),
            [
                name.into(),
                now_unix().into(),
                checksum.map(str::to_owned).into(),
            ],
        ),
        Direction::Down => Statement::from_sql_and_values(
            backend,
            format!(
                "DELETE FROM {table} WHERE version = {}",
                placeholder(backend, 1)
            ),
            [name.into()],
        ),
    }
}

/// `CREATE TABLE IF NOT EXISTS seaql_migrations …`, as sea-orm-migration makes it.
pub(crate) async fn create_bookkeeping<C: ConnectionTrait>(
    db: &C,
    history: &History,
) -> Result<(), DbErr> {
    let create = create_sql(db.get_database_backend(), history);
    db.execute_unprepared(&create).await.map(|_| ())
}

/// [`bookkeeping_table`] as SQL.
pub(crate) fn create_sql(backend: DbBackend, history: &History) -> String {
    backend
        .build(&bookkeeping_table(backend, history))
        .to_string()
}

/// `CREATE TABLE IF NOT EXISTS` of the bookkeeping table: sea-orm-migration's
/// `version` and `applied_at`, and the checksum ([`crate::pure::checksum`]).
pub(crate) fn bookkeeping_table(
    backend: DbBackend,
    history: &History,
) -> sea_orm::sea_query::TableCreateStatement {
    use sea_orm::sea_query::{Alias, ColumnDef};
    let mut create = Schema::new(backend).create_table_from_entity(seaql_migrations::Entity);
    match backend {
        DbBackend::Postgres => create.table((
            Alias::new(history.schema.as_str()),
            Alias::new(history.table.as_str()),
        )),
        _ => create.table(Alias::new(history.table.as_str())),
    };
    // Nullable, and unknown to sea-orm's own CLI, which leaves it empty.
    create.col(ColumnDef::new(Alias::new(CHECKSUM)).string());
    create.if_not_exists();
    create
}

pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Adds the checksum column to a bookkeeping table made before checksums
/// were kept; does nothing when it is there (or when there is no table: one
/// made now has the column). Run under the migration lock, inside the
/// transaction that records (on SQLite, write-locked).
pub(crate) async fn add_checksum_column<C: ConnectionTrait>(
    db: &C,
    history: &History,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let table = history.quoted_table(backend);
    if backend == DbBackend::Postgres {
        // A simple query (no parameters): safe behind a transaction pooler.
        db.execute_unprepared(&add_checksum_sql(backend, &table))
            .await?;
        return Ok(());
    }
    let columns = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT name FROM pragma_table_info({})",
                literal(history.table())
            ),
        ))
        .await?;
    let names = columns
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    if !names.is_empty() && !names.iter().any(|n| n == CHECKSUM) {
        db.execute_unprepared(&add_checksum_sql(backend, &table))
            .await?;
    }
    Ok(())
}

/// The DDL adding the checksum column to `table` (quoted); on PostgreSQL a
/// no-op when the table or the column is missing or there already.
pub(crate) fn add_checksum_sql(backend: DbBackend, table: &str) -> String {
    match backend {
        DbBackend::Postgres => {
            format!("ALTER TABLE IF EXISTS {table} ADD COLUMN IF NOT EXISTS {CHECKSUM} varchar")
        }
        _ => format!("ALTER TABLE {table} ADD COLUMN {CHECKSUM} varchar"),
    }
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
    backend: DbBackend,
    history: &History,
    rows: &[(&str, Option<String>)],
) -> String {
    let table = history.quoted_table(backend);
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
        create = create_sql(backend, history),
        now = now_unix(),
    )
}

/// The bookkeeping columns the migrator reads back, with the PostgreSQL
/// types (`pg_type.typname`) it can read them as, and how to name them.
const COLUMNS: [(&str, &[&str], &str); 3] = [
    ("version", &["varchar", "text"], "varchar (or text)"),
    ("applied_at", &["int8"], "bigint"),
    (CHECKSUM, &["varchar", "text"], "varchar (or text)"),
];

/// Refuses a bookkeeping table whose columns the migrator could not read
/// back (PostgreSQL): `version` or `applied_at` missing, or any of its
/// columns of another type (a `bytea` checksum, say), naming the column and
/// the `ALTER` that fixes it. One catalog query, made under the lock before
/// the run's first write; a missing table (made by the run) or checksum
/// column (added by the run) passes. SQLite keeps what it is given
/// whatever a column's declared type, so nothing is read there.
pub(crate) async fn check_columns<C: crate::backend::transport::Reader + ?Sized>(
    db: &C,
    history: &History,
) -> Result<(), crate::Error> {
    if db.backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "SELECT a.attname::text AS name, t.typname::text AS base, \
                format_type(a.atttypid, a.atttypmod) AS shown \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = to_regclass({}) AND a.attnum > 0 AND NOT a.attisdropped",
        literal(&history.qualified(DbBackend::Postgres, history.table()))
    );
    let rows = db.query_all(sql).await.map_err(crate::Error::db(format!(
        "reading the columns of {}",
        history.table()
    )))?;
    let read = |row: &sea_orm::QueryResult| -> Result<(String, String, String), DbErr> {
        Ok((
            row.try_get("", "name")?,
            row.try_get("", "base")?,
            row.try_get("", "shown")?,
        ))
    };
    let found = rows
        .iter()
        .map(read)
        .collect::<Result<Vec<_>, _>>()
        .map_err(crate::Error::db(format!(
            "reading the columns of {}",
            history.table()
        )))?;
    if found.is_empty() {
        return Ok(());
    }
    let table = history.qualified(DbBackend::Postgres, history.table());
    for (column, types, expected) in COLUMNS {
        let quoted = crate::backend::transport::quote_ident(DbBackend::Postgres, column);
        let wanted = match types[0] {
            "int8" => "bigint",
            other => other,
        };
        let (found, fix) = match found.iter().find(|(name, ..)| name == column) {
            None if column == CHECKSUM => continue,
            None => (
                "missing".to_owned(),
                match column {
                    "applied_at" => {
                        format!(
                            "ALTER TABLE {table} ADD COLUMN {quoted} {wanted} NOT NULL DEFAULT 0"
                        )
                    }
                    _ => format!("ALTER TABLE {table} ADD COLUMN {quoted} {wanted} NOT NULL"),
                },
            ),
            Some((_, base, _)) if types.contains(&base.as_str()) => continue,
            Some((_, base, shown)) => {
                // A bytea checksum holds the text it was given as bytes.
                let using = match base.as_str() {
                    "bytea" => format!("convert_from({quoted}, 'UTF8')"),
                    _ => format!("{quoted}::{wanted}"),
                };
                (
                    format!("of type {shown}"),
                    format!(
                        "ALTER TABLE {table} ALTER COLUMN {quoted} TYPE {wanted} USING {using}"
                    ),
                )
            }
        };
        return Err(crate::Error::BookkeepingColumn {
            table: history.table().to_owned(),
            column: column.to_owned(),
            found,
            expected,
            fix,
        });
    }
    Ok(())
}
