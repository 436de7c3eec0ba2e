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

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::SchemaManager;

use crate::Error;
use crate::ops::read::is_undefined_table;
use crate::pure::catalog::Catalog;
use crate::pure::history::History;

pub use crate::model::recorded::{ALEMBIC_TABLE, AlembicRevision};

/// What a database is taken over as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Takeover {
    /// Built by the Alembic migrator, at this revision.
    Alembic(AlembicRevision),
    /// Built some other way (the platform's `create_all()` fallback, a
    /// restore): baselined at the migration with this many steps.
    Baseline(usize),
}

impl Takeover {
    /// How many of the history's migrations it stands for.
    pub(crate) fn count(&self) -> usize {
        match self {
            Takeover::Alembic(found) => found.count,
            Takeover::Baseline(count) => *count,
        }
    }
}

/// Checks the schema against what migrations 1..N build (see
/// [`differences`]), then records them as applied in one transaction. Call
/// with the migration lock held. Returns `false` when another run took the
/// database over meanwhile. With `accept_differences` a differing schema is
/// taken over all the same, each accepted difference logged.
pub(crate) async fn adopt(
    db: &DatabaseConnection,
    history: &History,
    how: &Takeover,
    accept_differences: bool,
) -> Result<bool, Error> {
    let count = how.count();
    let names = history.names();
    let recorded = span(&names[..count]);
    let (differences, shared) = differences(db, history, count).await?;
    if let (Takeover::Baseline(_), false) = (how, shared) {
        // Nothing of the schema is there: a baseline would record
        // migrations that never ran, accepting every table as missing.
        return Err(Error::BaselineEmpty {
            at: names[count - 1].to_owned(),
        });
    }
    if !differences.is_empty() {
        if !accept_differences {
            return Err(match how {
                Takeover::Alembic(found) => Error::SchemaDrift {
                    verb: "adopting",
                    against: format!("Alembic revision {}", found.revision),
                    differences,
                },
                Takeover::Baseline(_) => Error::SchemaDrift {
                    verb: "baselining",
                    against: format!("what {recorded} build"),
                    differences,
                },
            });
        }
        for difference in &differences {
            tracing::warn!(
                "accepted difference: {}",
                crate::model::escape::escape(difference)
            );
        }
    }
    let backend = db.get_database_backend();
    let failed = || Error::db(format!("recording the adoption in {}", history.table()));
    let mut rows = Vec::with_capacity(count);
    for migration in &history.migrations[..count] {
        let checksum = crate::pure::checksum::of(migration.as_ref(), backend).await;
        rows.push((migration.name(), checksum));
    }
    let record =
        crate::pure::bookkeeping::record_adoption(crate::backend::of(backend), history, &rows);
    let txn = db.begin().await.map_err(failed())?;
    let timeout = format!(
        "SET LOCAL statement_timeout = '{}'",
        crate::backend::postgres::default_expr::STATEMENT_TIMEOUT
    );
    let timed = match backend {
        DbBackend::Postgres => txn.execute_unprepared(&timeout).await.map(|_| ()),
        _ => Ok(()),
    };
    // A bookkeeping table made before checksums were kept gets the column.
    if let Err(e) = match timed {
        Ok(()) => crate::ops::record::add_checksum_column(&txn, history).await,
        Err(e) => Err(e),
    } {
        let _ = txn.rollback().await;
        return Err(failed()(e));
    }
    let inserted = match txn.execute_unprepared(&record).await {
        Ok(done) => done.rows_affected(),
        Err(e) => {
            let _ = txn.rollback().await;
            return Err(failed()(e));
        }
    };
    txn.commit().await.map_err(failed())?;
    if inserted == 0 {
        return Ok(false);
    }
    let accepted = if differences.is_empty() {
        String::new()
    } else {
        format!(
            " (accepting {} from the schema they build)",
            crate::model::error::plural(differences.len(), "difference")
        )
    };
    match how {
        Takeover::Alembic(found) => tracing::info!(
            "adopted the Alembic-built database at revision {}: recorded {recorded} as \
             applied{accepted}",
            found.revision,
        ),
        Takeover::Baseline(_) => tracing::info!(
            "baselined the database at {}: recorded {recorded} as applied{accepted}",
            names[count - 1]
        ),
    }
    Ok(true)
}

fn span(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{first} … {last}"),
    }
}

/// Every difference between the database's schema and what migrations
/// 1..`count` build: tables, columns (type, nullability, default, identity),
/// constraints, indexes and sequences, one line each. Column order is left
/// out. Defaults are compared as the catalog prints them; two that differ
/// are evaluated (see [`same_default`]) only when neither calls anything but
/// built-in casts of constants ([`crate::backend::postgres::default_expr`]), so `0.0`, `'0.0'`
/// and `'0'::double precision` are one default however a dump or a server
/// version spelled it, and no function of the database ever runs. Also
/// says whether the database has any of the tables they build.
pub(crate) async fn differences(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Vec<String>, bool), Error> {
    let (mut have, have_evaluable) = current(db, history).await?;
    let (want, want_evaluable) = expected(db, history, count).await?;
    let backend = db.get_database_backend();
    for (name, table) in &mut have.tables {
        let Some(wanted) = want.tables.get(name) else {
            continue;
        };
        for column in &mut table.columns {
            let Some(expected) = wanted.columns.iter().find(|c| c.name == column.name) else {
                continue;
            };
            let key = (name.clone(), column.name.clone());
            let (Some(a), Some(b)) = (&column.default, &expected.default) else {
                continue;
            };
            let evaluable = match backend {
                DbBackend::Postgres => {
                    have_evaluable.get(&key) == Some(&true)
                        && want_evaluable.get(&key) == Some(&true)
                }
                _ => {
                    crate::backend::postgres::default_expr::sqlite_literal(a)
                        && crate::backend::postgres::default_expr::sqlite_literal(b)
                }
            };
            if a != b
                && evaluable
                && column.data_type == expected.data_type
                && same_default(db, &column.data_type, a, b).await
            {
                column.default = expected.default.clone();
            }
        }
    }
    let shared = want
        .tables
        .keys()
        .any(|name| have.tables.contains_key(name));
    Ok((have.diff(&want, false), shared))
}

/// The database's catalog and which of its defaults may be evaluated, read
/// in one read-only transaction whose statements time out.
async fn current(
    db: &DatabaseConnection,
    history: &History,
) -> Result<(Catalog, crate::backend::postgres::default_expr::Evaluable), Error> {
    let failed = || Error::db("reading the schema before adoption");
    let exclude = [history.table(), ALEMBIC_TABLE];
    let txn = crate::backend::transport::Transaction::begin(db)
        .await
        .map_err(failed())?;
    let read = async {
        if db.get_database_backend() == DbBackend::Postgres {
            txn.execute(&format!(
                "SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '{}'",
                crate::backend::postgres::default_expr::STATEMENT_TIMEOUT
            ))
            .await?;
        }
        let catalog = Catalog::read_schema(&txn, history.schema(), &exclude).await?;
        let schema = crate::backend::transport::literal(history.schema());
        let evaluable = crate::backend::postgres::default_expr::evaluable(&txn, &schema).await?;
        Ok::<_, sea_orm::DbErr>((catalog, evaluable))
    }
    .await;
    let _ = txn.rollback().await;
    read.map_err(failed())
}

/// Whether two default expressions of a column of type `data_type` give the
/// same value. Call only with expressions that call no function
/// ([`crate::backend::postgres::default_expr`]). Evaluated by the database in a read-only
/// transaction that is rolled back, with a statement timeout and only
/// `pg_catalog` on the search path; anything that does not evaluate counts
/// as different.
async fn same_default(db: &DatabaseConnection, data_type: &str, a: &str, b: &str) -> bool {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let sql = format!(
                "BEGIN READ ONLY; \
                 SET LOCAL statement_timeout = '{timeout}'; \
                 SET LOCAL search_path = pg_catalog; \
                 SELECT (((({a}))::{data_type})::text IS NOT DISTINCT FROM \
                 ((({b}))::{data_type})::text)::text AS same; \
                 ROLLBACK",
                timeout = crate::backend::postgres::default_expr::STATEMENT_TIMEOUT
            );
            let Some(pool) = crate::backend::transport::postgres_pool(db) else {
                return false;
            };
            let Ok(mut conn) = pool.acquire().await else {
                return false;
            };
            let rows = sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await;
            match rows {
                Ok(rows) => rows.first().is_some_and(|row| {
                    use sea_orm::sqlx::Row;
                    row.try_get::<String, _>(0).is_ok_and(|same| same == "true")
                }),
                Err(_) => {
                    // The transaction is left aborted: end it before the
                    // connection goes back to the pool.
                    let _ =
                        sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe("ROLLBACK".to_owned()))
                            .execute(&mut *conn)
                            .await;
                    false
                }
            }
        }
        backend => {
            let sql =
                format!("SELECT CAST(({a}) AS {data_type}) IS CAST(({b}) AS {data_type}) AS same");
            match db.query_one_raw(Statement::from_string(backend, sql)).await {
                Ok(Some(row)) => row.try_get::<bool>("", "same").unwrap_or(false),
                _ => false,
            }
        }
    }
}

/// The catalog migrations 1..`count` build, made where it leaves no trace,
/// and which of its defaults may be evaluated.
async fn expected(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Catalog, crate::backend::postgres::default_expr::Evaluable), Error> {
    let failed = || Error::db("building the reference schema for adoption");
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let scratch = format!("kvshvl_adoption_check_{}", std::process::id());
            let create = format!(
                "SET LOCAL statement_timeout = '{}'; CREATE SCHEMA \"{scratch}\"; \
                 SET LOCAL search_path TO \"{scratch}\"",
                crate::backend::postgres::default_expr::STATEMENT_TIMEOUT
            );
            let read = |catalog, evaluable| Ok::<_, sea_orm::DbErr>((catalog, evaluable));
            let scratch_literal = crate::backend::transport::literal(&scratch);
            if let Some(batches) = recorded(history, count).await {
                // Simple queries in a transaction of its own: safe behind a
                // transaction-pooling proxy (see crate::backend::transport).
                let txn = crate::backend::transport::Transaction::begin(db)
                    .await
                    .map_err(failed())?;
                let built = async {
                    txn.execute(&create).await?;
                    for batch in batches.iter().filter(|b| !b.is_empty()) {
                        txn.execute(batch).await?;
                    }
                    read(
                        Catalog::read_schema(&txn, &scratch, &[]).await?,
                        crate::backend::postgres::default_expr::evaluable(&txn, &scratch_literal)
                            .await?,
                    )
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
                read(
                    Catalog::read_schema(&txn, &scratch, &[]).await?,
                    crate::backend::postgres::default_expr::evaluable(&txn, &scratch_literal)
                        .await?,
                )
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
            .await
            .map(|catalog| {
                (
                    catalog,
                    crate::backend::postgres::default_expr::Evaluable::new(),
                )
            });
            let _ = scratch.close().await;
            built.map_err(failed())
        }
    }
}

/// Each of migrations 1..`count` going up as one batch of SQL text, when
/// none of them reads the database (see [`crate::pure::capture::record`]).
async fn recorded(history: &History, count: usize) -> Option<Vec<String>> {
    let mut batches = Vec::with_capacity(count);
    for migration in &history.migrations[..count] {
        let statements = crate::pure::capture::record(
            migration.as_ref(),
            crate::model::run::Direction::Up,
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
    history: &History,
    tracked: bool,
) -> Result<bool, Error> {
    let table = history.qualified(crate::backend::of(db.get_database_backend()), ALEMBIC_TABLE);
    let sql = format!("SELECT version_num FROM {table}");
    let exists = match crate::backend::transport::Reader::query_all(db, sql).await {
        Ok(_) => true,
        Err(e) if is_undefined_table(db.get_database_backend(), &e) => false,
        Err(e) => return Err(Error::db(format!("reading {ALEMBIC_TABLE}"))(e)),
    };
    if !exists {
        return Ok(false);
    }
    if !tracked {
        return Err(Error::AlembicOnlyRecord);
    }
    db.execute_unprepared(&format!("DROP TABLE {table}"))
        .await
        .map_err(Error::db(format!("dropping {ALEMBIC_TABLE}")))?;
    Ok(true)
}
