//! The lock-safe helpers (`migration_core::lock_safe`) on real PostgreSQL
//! and SQLite: what they leave in the catalog, how an interrupted concurrent
//! build recovers, and backfills in batches, called directly and through the
//! runner in a migration outside a transaction. Every table here is the
//! test's own (`zz_…`), so the Sketch2BIM history is not involved.

use migration_core::dry_run;
use migration_core::lock_safe;
use migration_core::runner::{self, Direction, Goal, History, RunOptions};
use rstest::rstest;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::prelude::*;
use test_support::db::{exec, exec_in, int, strings};
use test_support::walk::applied_names;
use test_support::{Backend, TestDb};

/// `zz_lock_safe` with `rows` rows: ids 1..=rows, `code` = `c<id>`, `note`
/// and `batch` NULL.
async fn table_with_rows(db: &DatabaseConnection, rows: u32) {
    exec(
        db,
        "CREATE TABLE zz_lock_safe (id integer PRIMARY KEY, code varchar NOT NULL, \
         note varchar, batch integer)",
    )
    .await;
    let insert = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "INSERT INTO zz_lock_safe (id, code) SELECT g, 'c' || g FROM generate_series(1, {rows}) g"
        ),
        _ => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows}) \
             INSERT INTO zz_lock_safe (id, code) SELECT n, 'c' || n FROM g"
        ),
    };
    exec(db, &insert).await;
}

/// `(definition, valid)` of index `name`: `pg_get_indexdef` and
/// `pg_index.indisvalid` on PostgreSQL, `sqlite_master.sql` on SQLite
/// (always valid); `None` when there is no such index.
async fn index(db: &DatabaseConnection, name: &str) -> Option<(String, bool)> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let sql = format!(
                "SELECT pg_get_indexdef(i.indexrelid) || '|' || i.indisvalid::text \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE c.relname = '{name}'"
            );
            let rows = strings(db, &sql).await;
            rows.into_iter().flatten().next().map(|row| {
                let (def, valid) = row.rsplit_once('|').expect("definition|valid");
                (def.to_owned(), valid == "true")
            })
        }
        _ => {
            let sql =
                format!("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{name}'");
            let rows = strings(db, &sql).await;
            rows.into_iter().flatten().next().map(|def| (def, true))
        }
    }
}

fn backend_of(db: &DatabaseConnection) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// On PostgreSQL indexes are built concurrently and valid, and a run
/// recovers from an invalid one; on SQLite they are built and dropped, and
/// one that fails leaves nothing.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn indexes_are_built_dropped_and_recover(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    table_with_rows(&db, 100).await;
    let manager = SchemaManager::new(&db);

    lock_safe::create_index_concurrently(
        &manager,
        "ix_zz_lock_safe_note",
        "zz_lock_safe",
        &["note", "id"],
    )
    .await
    .expect("the index is built");
    let built = match backend {
        Backend::Postgres => (
            "CREATE INDEX ix_zz_lock_safe_note ON public.zz_lock_safe USING btree (note, id)",
            true,
        ),
        Backend::Sqlite => (
            "CREATE INDEX ix_zz_lock_safe_note ON zz_lock_safe (note, id)",
            true,
        ),
    };
    let built = Some((built.0.to_owned(), built.1));
    assert_eq!(index(&db, "ix_zz_lock_safe_note").await, built);
    // Running it again changes nothing.
    lock_safe::create_index_concurrently(
        &manager,
        "ix_zz_lock_safe_note",
        "zz_lock_safe",
        &["note", "id"],
    )
    .await
    .expect("the index is built again");
    assert_eq!(index(&db, "ix_zz_lock_safe_note").await, built);

    // A unique index over duplicates fails; on PostgreSQL it leaves an
    // INVALID index behind, on SQLite nothing.
    exec(&db, "UPDATE zz_lock_safe SET code = 'c1' WHERE id = 2").await;
    let failed = lock_safe::create_unique_index_concurrently(
        &manager,
        "ix_zz_lock_safe_code",
        "zz_lock_safe",
        &["code"],
    )
    .await
    .expect_err("duplicate codes");
    let (message, left) = match backend {
        Backend::Postgres => (
            "could not create unique index \"ix_zz_lock_safe_code\"",
            Some((
                "CREATE UNIQUE INDEX ix_zz_lock_safe_code ON public.zz_lock_safe USING btree (code)"
                    .to_owned(),
                false,
            )),
        ),
        Backend::Sqlite => ("UNIQUE constraint failed: zz_lock_safe.code", None),
    };
    assert_eq!(migration_core::describe_db_err(&failed), message);
    assert_eq!(index(&db, "ix_zz_lock_safe_code").await, left);

    // Once the data is fixed, the same call drops the leftover and builds it.
    exec(&db, "UPDATE zz_lock_safe SET code = 'c2' WHERE id = 2").await;
    lock_safe::create_unique_index_concurrently(
        &manager,
        "ix_zz_lock_safe_code",
        "zz_lock_safe",
        &["code"],
    )
    .await
    .expect("the unique index is built once the duplicates are gone");
    let valid = match backend {
        Backend::Postgres => {
            "CREATE UNIQUE INDEX ix_zz_lock_safe_code ON public.zz_lock_safe USING btree (code)"
        }
        Backend::Sqlite => "CREATE UNIQUE INDEX ix_zz_lock_safe_code ON zz_lock_safe (code)",
    };
    assert_eq!(
        index(&db, "ix_zz_lock_safe_code").await,
        Some((valid.to_owned(), true))
    );
    let duplicate = db
        .execute_unprepared("INSERT INTO zz_lock_safe (id, code) VALUES (1000, 'c1')")
        .await
        .expect_err("the unique index holds");
    assert_eq!(
        migration_core::describe_db_err(&duplicate),
        match backend {
            Backend::Postgres =>
                "duplicate key value violates unique constraint \"ix_zz_lock_safe_code\"",
            Backend::Sqlite => "UNIQUE constraint failed: zz_lock_safe.code",
        }
    );

    // Dropping, twice: the second finds nothing to drop.
    for _ in 0..2 {
        lock_safe::drop_index_concurrently(&manager, "ix_zz_lock_safe_code")
            .await
            .expect("dropped");
        assert_eq!(index(&db, "ix_zz_lock_safe_code").await, None);
    }
    assert_eq!(index(&db, "ix_zz_lock_safe_note").await, built);
    assert_eq!(backend_of(&db), backend);
}

/// The backfill's `set`: the note, and which statement wrote the row (one
/// more than the highest batch so far, read once per statement).
const SET: &str =
    "note = 'backfilled', batch = (SELECT coalesce(max(batch), 0) + 1 FROM zz_lock_safe)";

/// `(batch, rows)` per batch, in order.
async fn batches(db: &DatabaseConnection) -> Vec<Option<String>> {
    strings(
        db,
        "SELECT CAST(batch AS text) || ':' || CAST(count(*) AS text) FROM zz_lock_safe WHERE note = 'backfilled' \
         GROUP BY batch ORDER BY batch",
    )
    .await
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn backfills_in_batches_until_nothing_is_pending(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    table_with_rows(&db, 2500).await;
    // One row is not pending, and stays as it is.
    exec(&db, "UPDATE zz_lock_safe SET note = 'kept' WHERE id = 7").await;
    let manager = SchemaManager::new(&db);

    let updated =
        lock_safe::backfill_in_batches(&manager, "zz_lock_safe", "id", SET, "note IS NULL", 1000)
            .await
            .expect("backfilled");
    assert_eq!(updated, 2499);
    let expected: Vec<Option<String>> = ["1:1000", "2:1000", "3:499"]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
    assert_eq!(batches(&db).await, expected);
    assert_eq!(
        int(&db, "SELECT count(*) FROM zz_lock_safe WHERE note IS NULL").await,
        0
    );
    assert_eq!(
        strings(&db, "SELECT note FROM zz_lock_safe WHERE id = 7").await,
        vec![Some("kept".to_owned())]
    );

    // Nothing pending: one statement, no row.
    let again =
        lock_safe::backfill_in_batches(&manager, "zz_lock_safe", "id", SET, "note IS NULL", 1000)
            .await
            .expect("nothing to do");
    assert_eq!(again, 0);
    assert_eq!(batches(&db).await, expected);

    let zero = lock_safe::backfill_in_batches(&manager, "zz_lock_safe", "id", SET, "true", 0)
        .await
        .expect_err("a batch size of 0 is refused");
    assert_eq!(
        zero,
        DbErr::Custom("backfill of zz_lock_safe: the batch size must be at least 1".to_owned())
    );
}

/// `zz_lock_safe` with 2,500 rows.
struct CreateTable;
/// Backfills `note`, outside a transaction.
struct Backfill;
/// Builds an index concurrently inside the migration's transaction: wrong.
struct IndexInTransaction;

impl MigrationName for CreateTable {
    fn name(&self) -> &str {
        "m001_create_zz_lock_safe"
    }
}
impl MigrationName for Backfill {
    fn name(&self) -> &str {
        "m002_backfill_zz_lock_safe_note"
    }
}
impl MigrationName for IndexInTransaction {
    fn name(&self) -> &str {
        "m003_index_zz_lock_safe_in_a_transaction"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec_in(
            manager,
            "CREATE TABLE zz_lock_safe (id integer PRIMARY KEY, code varchar NOT NULL, \
             note varchar, batch integer)",
        )
        .await?;
        exec_in(
            manager,
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2500) \
             INSERT INTO zz_lock_safe (id, code) SELECT n, 'c' || n FROM g",
        )
        .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Backfill {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        lock_safe::backfill_in_batches(manager, "zz_lock_safe", "id", SET, "note IS NULL", 1000)
            .await
            .map(|_| ())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IndexInTransaction {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        lock_safe::create_index_concurrently(
            manager,
            "ix_zz_lock_safe_code",
            "zz_lock_safe",
            &["code"],
        )
        .await
    }
}

struct LockSafe;

#[async_trait::async_trait]
impl MigratorTrait for LockSafe {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTable),
            Box::new(Backfill),
            Box::new(IndexInTransaction),
        ]
    }
}

impl migration_core::Described for LockSafe {
    const DATABASE: migration_core::Database = migration_core::Database {
        name: "lock_safe",
        title: "LockSafe",
        url_env: "LOCK_SAFE_DATABASE_URL",
        default_sqlite_file: "lock_safe.sqlite",
        crate_dir: ".",
        alembic_revisions: 0,
    };

    fn summaries() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// Through the runner, a backfill outside a transaction updates every
/// pending row: the runner cannot send it as recorded in advance (how many
/// batches it takes depends on the data), so it runs it against the
/// database.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_backfill_migration_updates_every_row_through_the_runner(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let history = History::of::<LockSafe>();
    let options = RunOptions::default();
    let report = runner::up(&db, &history, &Goal::Steps(2), &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    let applied: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        applied,
        vec![
            "m001_create_zz_lock_safe",
            "m002_backfill_zz_lock_safe_note"
        ]
    );
    let expected: Vec<Option<String>> = ["1:1000", "2:1000", "3:500"]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
    assert_eq!(batches(&db).await, expected);
    assert_eq!(
        int(&db, "SELECT count(*) FROM zz_lock_safe WHERE note IS NULL").await,
        0
    );
    assert_eq!(
        applied_names(&db).await,
        vec![
            "m001_create_zz_lock_safe",
            "m002_backfill_zz_lock_safe_note"
        ]
    );
}

#[tokio::test]
async fn the_dry_run_of_a_backfill_shows_the_pending_count_and_one_batch() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<LockSafe>();
    let options = RunOptions::default();
    runner::up(&db, &history, &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    let plan = dry_run::plan(&db, &history, Direction::Up, &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("{}", migration_core::one_line(&e, &[])));
    assert_eq!(plan.len(), 1);
    let statements = &plan[0].statements;
    assert_eq!(statements.len(), 6, "{statements:#?}");
    // Outside a transaction: the lock wait and the name on the session, the
    // migration's statements, the session put back, then its row.
    assert_eq!(statements[0], "SET lock_timeout = '2000ms'");
    assert_eq!(
        statements[1],
        "SET application_name = 'migrating m002_backfill_zz_lock_safe_note'"
    );
    assert_eq!(
        statements[2],
        "SELECT count(*) FROM zz_lock_safe WHERE note IS NULL"
    );
    assert_eq!(
        statements[3],
        format!(
            "UPDATE zz_lock_safe SET {SET} WHERE id IN \
             (SELECT id FROM zz_lock_safe WHERE note IS NULL LIMIT 1000)"
        )
    );
    assert_eq!(statements[4], "RESET lock_timeout; RESET application_name");
    assert!(
        statements[5].starts_with(
            "INSERT INTO \"public\".\"seaql_migrations\" (version, applied_at, checksum) \
             VALUES ('m002_backfill_zz_lock_safe_note', "
        ),
        "{statements:#?}"
    );
    // The dry run changed nothing.
    assert_eq!(
        int(&db, "SELECT count(*) FROM zz_lock_safe WHERE note IS NULL").await,
        2500
    );
}

#[tokio::test]
async fn a_concurrent_index_build_in_a_transactional_migration_is_refused_by_postgres() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let history = History::of::<LockSafe>();
    let options = RunOptions::default();
    let failed = runner::up(&db, &history, &Goal::All, &options)
        .await
        .expect_err("CREATE INDEX CONCURRENTLY inside a transaction");
    assert_eq!(
        migration_core::one_line(&failed, &[]),
        "migration m003_index_zz_lock_safe_in_a_transaction failed while applying it: \
         DROP INDEX CONCURRENTLY cannot run inside a transaction block"
    );
    assert_eq!(index(&db, "ix_zz_lock_safe_code").await, None);
    assert_eq!(
        applied_names(&db).await,
        vec![
            "m001_create_zz_lock_safe",
            "m002_backfill_zz_lock_safe_note"
        ]
    );
}
