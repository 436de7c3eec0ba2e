//! The bookkeeping table on a database: creating it, adding its checksum
//! column, checking its columns, and whether it records a migration.

use sea_orm::{ConnectionTrait, DbErr};

use crate::backend::transport::Reader;
use crate::pure::bookkeeping::{COLUMNS, add_checksum_sql, create_sql};
use crate::pure::checksum::COLUMN as CHECKSUM;
use crate::pure::history::History;
use sea_orm::Statement;

/// Whether the bookkeeping table records a migration, asked with `query`
/// (a step's recheck) on `db`, inside the step's write-locked transaction.
pub(crate) async fn is_recorded<C: ConnectionTrait>(
    db: &C,
    query: Statement,
) -> Result<bool, DbErr> {
    let row = db.query_one_raw(query).await?;
    Ok(row
        .map(|r| r.try_get::<i32>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// `CREATE TABLE IF NOT EXISTS seaql_migrations …`, as sea-orm-migration makes it.
pub(crate) async fn create_bookkeeping<C: ConnectionTrait>(
    db: &C,
    history: &History,
) -> Result<(), DbErr> {
    let create = create_sql(crate::backend::of(db.get_database_backend()), history);
    db.execute_unprepared(&create).await.map(|_| ())
}

/// Adds the checksum column to a bookkeeping table made before checksums
/// were kept; does nothing when it is there (or when there is no table: one
/// made now has the column). Run under the migration lock, inside the
/// transaction that records (on SQLite, write-locked).
pub(crate) async fn add_checksum_column<C: ConnectionTrait>(
    db: &C,
    history: &History,
) -> Result<(), DbErr> {
    let backend = crate::backend::of(db.get_database_backend());
    let table = history.quoted_table(backend);
    let Some(list) = backend.columns_of(history.schema(), history.table()) else {
        // The DDL does nothing when the column is there. A simple query (no
        // parameters): safe behind a transaction pooler.
        db.execute_unprepared(&add_checksum_sql(backend, &table))
            .await?;
        return Ok(());
    };
    let columns = db
        .query_all_raw(Statement::from_string(backend.backend(), list))
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

/// Refuses a bookkeeping table whose columns the migrator could not read
/// back (PostgreSQL): `version` or `applied_at` missing, or any of its
/// columns of another type (a `bytea` checksum, say), naming the column and
/// the `ALTER` that fixes it. One catalog query, made under the lock before
/// the run's first write; a missing table (made by the run) or checksum
/// column (added by the run) passes. SQLite keeps what it is given
/// whatever a column's declared type, so nothing is read there.
pub(crate) async fn check_columns<C: Reader + ?Sized>(
    db: &C,
    history: &History,
) -> Result<(), crate::Error> {
    let backend = crate::backend::of(db.backend());
    let table = history.qualified(backend, history.table());
    let Some(sql) = backend.column_types(&table) else {
        return Ok(());
    };
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
    for (column, types, expected) in COLUMNS {
        let quoted = crate::backend::transport::quote_ident(column);
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
