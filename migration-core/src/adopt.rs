//! Taking over a database that the Alembic migrator built.
//!
//! Such a database records its position in a one-row `alembic_version` table
//! ('001' … '010'), and nothing in our bookkeeping. Revision N maps to our
//! migration N of the same database. Before adopting, the database's tables
//! and columns are compared with what our migrations 1..N build (in a scratch
//! schema inside a transaction that is rolled back, or an in-memory SQLite
//! database); a difference means the schema was changed by hand, and adoption
//! is refused with the list. Adopting records migrations 1..N as applied in
//! one transaction, under the migration lock, so replicas adopt once.
//!
//! Reading commands (`status`, `current`, the health helpers) write nothing:
//! they report an adoptable database as being at revision N already.
//! `alembic_version` stays, so the previous deploy still works if it has to
//! come back; `drop-alembic-version` removes it once that is no longer needed.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use sea_orm_migration::SchemaManager;

use crate::Error;
use crate::catalog::Catalog;
use crate::lock::sqlstate;
use crate::runner::{History, create_bookkeeping, placeholder, quote_ident};

/// The Alembic migrator's bookkeeping table.
pub const ALEMBIC_TABLE: &str = "alembic_version";

/// The Alembic revision found in a database our bookkeeping does not track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlembicRevision {
    /// As recorded: `005`.
    pub revision: String,
    /// How many of our migrations it stands for: 5.
    pub count: usize,
}

fn is_undefined_table(e: &DbErr) -> bool {
    sqlstate(e).as_deref() == Some("42P01") || e.to_string().contains("no such table")
}

/// Reads `alembic_version` (one SELECT): `None` when there is no such table;
/// an error when it is empty, has several rows or names a revision this
/// history does not have.
pub(crate) async fn read_alembic<C: crate::sql::Reader + ?Sized>(
    db: &C,
    history: &History,
) -> Result<Option<AlembicRevision>, Error> {
    let sql = format!("SELECT version_num FROM {ALEMBIC_TABLE} ORDER BY version_num");
    let rows = match db.query_all(sql).await {
        Ok(rows) => rows,
        Err(e) if is_undefined_table(&e) => return Ok(None),
        Err(e) => return Err(Error::db(format!("reading {ALEMBIC_TABLE}"))(e)),
    };
    let found: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()
        .map_err(Error::db(format!("reading {ALEMBIC_TABLE}")))?;
    let known = history.names().len();
    let range = format!("001 … {known:03}");
    match found.as_slice() {
        [] => Err(Error::Refused(format!(
            "{ALEMBIC_TABLE} is empty, so the Alembic revision of this database is unknown; \
             nothing was changed"
        ))),
        [revision] => match revision.parse::<usize>() {
            Ok(n) if (1..=known).contains(&n) && *revision == format!("{n:03}") => {
                Ok(Some(AlembicRevision {
                    revision: revision.clone(),
                    count: n,
                }))
            }
            _ => Err(Error::Refused(format!(
                "{ALEMBIC_TABLE} records revision '{revision}', which this binary does not know \
                 (it knows {range}); nothing was changed"
            ))),
        },
        many => Err(Error::Refused(format!(
            "{ALEMBIC_TABLE} holds {} rows ({}) where Alembic keeps one; nothing was changed",
            many.len(),
            many.iter()
                .map(|r| format!("'{r}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Checks the schema against revision `found`, then records migrations
/// 1..N as applied in one transaction. Call with the migration lock held.
/// Returns `false` when another run adopted the database meanwhile.
pub(crate) async fn adopt(
    db: &DatabaseConnection,
    history: &History,
    found: &AlembicRevision,
) -> Result<bool, Error> {
    verify_schema(db, history, found).await?;
    let backend = db.get_database_backend();
    let failed = || Error::db(format!("recording the adoption in {}", history.table()));
    let txn = db.begin().await.map_err(failed())?;
    create_bookkeeping(&txn, history).await.map_err(failed())?;
    let table = quote_ident(backend, history.table());
    let count = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await
        .map_err(failed())?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()
        .map_err(failed())?
        .unwrap_or(0);
    if count > 0 {
        txn.rollback().await.map_err(failed())?;
        return Ok(false);
    }
    let now = chrono::Utc::now().timestamp();
    let names = history.names();
    for name in &names[..found.count] {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO {table} (version, applied_at) VALUES ({}, {})",
                placeholder(backend, 1),
                placeholder(backend, 2)
            ),
            [(*name).into(), now.into()],
        ))
        .await
        .map_err(failed())?;
    }
    txn.commit().await.map_err(failed())?;
    tracing::info!(
        "adopted the Alembic-built database at revision {}: recorded {} as applied",
        found.revision,
        span(&names[..found.count])
    );
    Ok(true)
}

fn span(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{first} … {last}"),
    }
}

/// Refuses, listing every difference, when the database's tables and columns
/// are not what migrations 1..N build.
async fn verify_schema(
    db: &DatabaseConnection,
    history: &History,
    found: &AlembicRevision,
) -> Result<(), Error> {
    let exclude = [history.table(), ALEMBIC_TABLE];
    let have = Catalog::read(db, &exclude)
        .await
        .map_err(Error::db("reading the schema before adoption"))?;
    let want = expected(db, history, found.count).await?;
    let diff = have
        .tables_and_columns()
        .diff(&want.tables_and_columns(), false);
    if diff.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "not adopting: the schema differs from Alembic revision {} in {} place{} \
         (changed by hand?): {}; nothing was changed",
        found.revision,
        diff.len(),
        if diff.len() == 1 { "" } else { "s" },
        diff.join("; ")
    )))
}

/// The catalog migrations 1..`count` build, made where it leaves no trace.
async fn expected(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<Catalog, Error> {
    let failed = || Error::db("building the reference schema for adoption");
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let scratch = format!("kvshvl_adoption_check_{}", std::process::id());
            let create =
                format!("CREATE SCHEMA \"{scratch}\"; SET LOCAL search_path TO \"{scratch}\"");
            if let Some(batches) = recorded(history, count).await {
                // Simple queries in a transaction of its own: safe behind a
                // transaction-pooling proxy (see crate::sql).
                let txn = crate::sql::Transaction::begin(db).await.map_err(failed())?;
                let built = async {
                    txn.execute(&create).await?;
                    for batch in batches.iter().filter(|b| !b.is_empty()) {
                        txn.execute(batch).await?;
                    }
                    Catalog::read(&txn, &[]).await
                }
                .await;
                let _ = txn.rollback().await;
                return built.map_err(failed());
            }
            // A migration that reads the database runs through sea-orm.
            let txn = db.begin().await.map_err(failed())?;
            let built = async {
                txn.execute_unprepared(&create).await?;
                let manager = SchemaManager::new(&txn);
                for migration in &history.migrations[..count] {
                    migration.up(&manager).await?;
                }
                Catalog::read(&txn, &[]).await
            }
            .await;
            let _ = txn.rollback().await;
            built.map_err(failed())
        }
        _ => {
            let scratch = sea_orm::Database::connect("sqlite::memory:")
                .await
                .map_err(failed())?;
            let built = async {
                let manager = SchemaManager::new(&scratch);
                for migration in &history.migrations[..count] {
                    migration.up(&manager).await?;
                }
                Catalog::read(&scratch, &[]).await
            }
            .await;
            let _ = scratch.close().await;
            built.map_err(failed())
        }
    }
}

/// Each of migrations 1..`count` going up as one batch of SQL text, when
/// none of them reads the database (see [`crate::dry_run::record`]).
async fn recorded(history: &History, count: usize) -> Option<Vec<String>> {
    let mut batches = Vec::with_capacity(count);
    for migration in &history.migrations[..count] {
        let statements = crate::dry_run::record(
            migration.as_ref(),
            crate::runner::Direction::Up,
            DbBackend::Postgres,
        )
        .await?;
        batches.push(
            statements
                .iter()
                .map(Statement::to_string)
                .collect::<Vec<_>>()
                .join(";\n"),
        );
    }
    Some(batches)
}

/// Drops `alembic_version` once our bookkeeping records the adoption.
/// Call with the migration lock held.
pub(crate) async fn drop_alembic_version(
    db: &DatabaseConnection,
    tracked: bool,
) -> Result<bool, Error> {
    let sql = format!("SELECT version_num FROM {ALEMBIC_TABLE}");
    let exists = match crate::sql::Reader::query_all(db, sql).await {
        Ok(_) => true,
        Err(e) if is_undefined_table(&e) => false,
        Err(e) => return Err(Error::db(format!("reading {ALEMBIC_TABLE}"))(e)),
    };
    if !exists {
        return Ok(false);
    }
    if !tracked {
        return Err(Error::Refused(format!(
            "{ALEMBIC_TABLE} is this database's only record of its migrations: run `up` \
             (or `adopt`) first; nothing was changed"
        )));
    }
    db.execute_unprepared(&format!("DROP TABLE {ALEMBIC_TABLE}"))
        .await
        .map_err(Error::db(format!("dropping {ALEMBIC_TABLE}")))?;
    Ok(true)
}
