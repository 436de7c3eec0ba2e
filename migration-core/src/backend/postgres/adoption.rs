//! PostgreSQL's side of taking over a database: the schema as it is, read
//! in a read-only transaction; the schema migrations 1..N build, in a
//! scratch schema inside a transaction that is rolled back; and whether two
//! defaults give the same value, evaluated with only `pg_catalog` on the
//! search path and a statement timeout.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::SchemaManager;

use crate::Error;
use crate::backend::postgres::default_expr::{Evaluable, STATEMENT_TIMEOUT, evaluable};
use crate::backend::transport::{Transaction, literal, postgres_pool};
use crate::model::recorded::ALEMBIC_TABLE;
use crate::pure::catalog::Catalog;
use crate::pure::history::History;

/// The statement every adoption transaction starts with.
pub(crate) fn adoption_prologue() -> String {
    format!("SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
}

/// The database's catalog and which of its defaults may be evaluated, read
/// in one read-only transaction whose statements time out.
pub(crate) async fn current(
    db: &DatabaseConnection,
    history: &History,
) -> Result<(Catalog, Evaluable), Error> {
    let failed = || Error::db("reading the schema before adoption");
    let exclude = [history.table(), ALEMBIC_TABLE];
    let txn = Transaction::begin(db).await.map_err(failed())?;
    let read = async {
        txn.execute(&format!(
            "SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"
        ))
        .await?;
        let catalog = Catalog::read_schema(&txn, history.schema(), &exclude).await?;
        let schema = literal(history.schema());
        let evaluable = evaluable(&txn, &schema).await?;
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
pub(crate) async fn same_default(
    db: &DatabaseConnection,
    data_type: &str,
    a: &str,
    b: &str,
) -> bool {
    let sql = format!(
        "BEGIN READ ONLY; \
             SET LOCAL statement_timeout = '{timeout}'; \
             SET LOCAL search_path = pg_catalog; \
             SELECT (((({a}))::{data_type})::text IS NOT DISTINCT FROM \
             ((({b}))::{data_type})::text)::text AS same; \
             ROLLBACK",
        timeout = STATEMENT_TIMEOUT
    );
    let Some(pool) = postgres_pool(db) else {
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
            let _ = sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe("ROLLBACK".to_owned()))
                .execute(&mut *conn)
                .await;
            false
        }
    }
}

/// The catalog migrations 1..`count` build, made where it leaves no trace,
/// and which of its defaults may be evaluated.
pub(crate) async fn expected(
    db: &DatabaseConnection,
    history: &History,
    count: usize,
) -> Result<(Catalog, Evaluable), Error> {
    let failed = || Error::db("building the reference schema for adoption");
    let scratch = format!("kvshvl_adoption_check_{}", std::process::id());
    let create = format!(
        "SET LOCAL statement_timeout = '{}'; CREATE SCHEMA \"{scratch}\"; \
             SET LOCAL search_path TO \"{scratch}\"",
        STATEMENT_TIMEOUT
    );
    let read = |catalog, evaluable| Ok::<_, sea_orm::DbErr>((catalog, evaluable));
    let scratch_literal = literal(&scratch);
    if let Some(batches) = batches(history, count).await {
        // Simple queries in a transaction of its own: safe behind a
        // transaction-pooling proxy (see crate::backend::transport).
        let txn = Transaction::begin(db).await.map_err(failed())?;
        let built = async {
            txn.execute(&create).await?;
            for batch in batches.iter().filter(|b| !b.is_empty()) {
                txn.execute(batch).await?;
            }
            read(
                Catalog::read_schema(&txn, &scratch, &[]).await?,
                evaluable(&txn, &scratch_literal).await?,
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
            evaluable(&txn, &scratch_literal).await?,
        )
    }
    .await;
    let _ = txn.rollback().await;
    built.map_err(failed())
}

/// Each of migrations 1..`count` going up as one batch of SQL text, when
/// none of them reads the database (see [`crate::pure::capture::batch`]).
async fn batches(history: &History, count: usize) -> Option<Vec<String>> {
    let mut batches = Vec::with_capacity(count);
    for migration in &history.migrations[..count] {
        let statements = crate::pure::capture::batch(
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
