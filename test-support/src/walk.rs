//! The full walk through a migration history, shared by both migrator crates'
//! tests: up one migration at a time, comparing the schema with the Alembic
//! reference at that revision, then down one and back, comparing with the
//! step before; then every migration written since the Alembic history, each
//! proven the same way on a database with rows in every table, whatever it
//! does, with no test to edit; and at head a row of every table read back
//! through the entities.

use migration_core::catalog::Catalog;
use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::future::Future;
use std::pin::Pin;

use crate::{Backend, TestDb, alembic, rows};

/// Bookkeeping tables, left out of schema comparisons.
pub use crate::alembic::BOOKKEEPING;

/// Reads the catalog, bookkeeping left out.
pub async fn catalog(db: &DatabaseConnection) -> Catalog {
    match Catalog::read(db, BOOKKEEPING).await {
        Ok(catalog) => catalog,
        Err(e) => panic!("reading the catalog failed: {e}"),
    }
}

/// Whether the database has a table named `table` (bookkeeping left out).
pub async fn table_exists(db: &DatabaseConnection, table: &str) -> bool {
    catalog(db)
        .await
        .column_names()
        .iter()
        .any(|(t, _)| t == table)
}

/// Applies (`true`) or rolls back one migration through the runner.
pub async fn step(db: &DatabaseConnection, history: &History, up: bool) {
    step_of(db, history, "the next migration", up).await;
}

/// [`step`], naming the migration, `name`, when it fails.
async fn step_of(db: &DatabaseConnection, history: &History, name: &str, up: bool) {
    let result = if up {
        runner::up(db, history, &Goal::Steps(1), &RunOptions::default()).await
    } else {
        runner::down(db, history, &Goal::Steps(1), &RunOptions::default()).await
    };
    match result {
        Ok(report) => assert_eq!(report.steps.len(), 1, "one step expected: {report:?}"),
        Err(e) => panic!(
            "{} of {name} failed: {}",
            if up { "up" } else { "down" },
            migration_core::one_line(&e, &[])
        ),
    }
}

fn assert_no_diff(diff: Vec<String>, context: &str) {
    assert!(
        diff.is_empty(),
        "{context}: the catalog differs in {} places:\n  {}",
        diff.len(),
        diff.join("\n  ")
    );
}

/// The reference catalogs of `database` ("ask" or "sketch2bim") at every
/// revision, index 0 being the empty database: each Alembic dump loaded into
/// a fresh PostgreSQL database (which then dumps as the fixture does, so the
/// databases [`alembic::build`] makes are the ones Alembic made).
pub async fn alembic_catalogs(database: &str) -> Vec<Catalog> {
    let empty = TestDb::postgres().await;
    let db = empty.connect().await;
    let mut catalogs = vec![catalog(&db).await];
    let _ = db.close().await;
    for (i, revision) in alembic::revisions(database).iter().enumerate() {
        let reference = TestDb::postgres().await;
        let db = reference.connect().await;
        alembic::build_schema_only(&db, database, i + 1).await;
        alembic::assert_same_dump(
            &alembic::normalize(revision.up),
            &format!("{database}/up/{}.sql", revision.id),
            &dump(&reference),
            "loaded from the fixture",
        );
        catalogs.push(catalog(&db).await);
        let _ = db.close().await;
    }
    catalogs
}

/// `pg_dump -s` of the test database, normalized as the fixtures are.
pub fn dump(test_db: &TestDb) -> String {
    alembic::normalize(&alembic::pg_dump(test_db.url()))
}

/// Reads one row of every table through the entities and returns the tables
/// that have none (`entities::sketch2bim::tables_without_rows`); a row that
/// does not decode is an error.
pub type ReadBack = for<'a> fn(&'a DatabaseConnection) -> Reading<'a>;

/// What a [`ReadBack`] returns.
pub type Reading<'a> = Pin<Box<dyn Future<Output = Result<Vec<&'static str>, DbErr>> + Send + 'a>>;

/// PostgreSQL: after `up` to each migration of the Alembic history,
/// `pg_dump -s` of the database is the Alembic dump at that revision, text
/// for text (bookkeeping tables and the dump's comments and settings aside);
/// `down` gives back the previous revision's dump exactly (but for the down
/// steps listed in [`alembic::DOWN_LIKE_ALEMBIC`], which give Alembic's own),
/// and `up` again this revision's. Every migration after the Alembic history
/// is proven by [`prove_later`] on a database with rows in every table, and
/// at head a row of every table is read back through the entities.
pub async fn postgres_walk(database: &str, history: &History, read_back: ReadBack) {
    let revisions = alembic::revisions(database);
    let names = history.names();
    assert_alembic_prefix(database, &names);
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    assert_eq!(dump(&test_db), "", "a new database dumps empty");
    for (i, name) in names.iter().enumerate().take(revisions.len()) {
        let revision = revisions[i];
        let up_fixture = format!("{database}/up/{}.sql", revision.id);
        let up = alembic::normalize(revision.up);
        step_of(&db, history, name, true).await;
        assert_eq!(applied_names(&db).await, names[..=i].to_vec());
        alembic::assert_same_dump(
            &up,
            &up_fixture,
            &dump(&test_db),
            &format!("after up to {name}"),
        );
        step_of(&db, history, name, false).await;
        assert_eq!(applied_names(&db).await, names[..i].to_vec());
        let (down_fixture, down) = alembic::expected_after_down(database, i + 1);
        alembic::assert_same_dump(
            &down,
            &down_fixture,
            &dump(&test_db),
            &format!("after down from {name}"),
        );
        step_of(&db, history, name, true).await;
        alembic::assert_same_dump(
            &up,
            &up_fixture,
            &dump(&test_db),
            &format!("after down and up again to {name}"),
        );
    }
    prove_later(&test_db, &db, history, revisions.len()).await;
    let _ = db.close().await;
    assert_reads_back(&test_db, read_back).await;
}

/// SQLite: after `up` to each migration of the Alembic history the tables,
/// their columns in order and the index names are PostgreSQL's at that
/// revision; `down` returns the catalog exactly (types, defaults, keys,
/// indexes) to what it was before. Every later migration is proven by
/// [`prove_later`], and at head a row of every table is read back through
/// the entities.
pub async fn sqlite_walk(database: &str, history: &History, read_back: ReadBack) {
    let reference = alembic_catalogs(database).await;
    let names = history.names();
    assert_alembic_prefix(database, &names);
    let alembic_steps = reference.len() - 1;
    let test_db = TestDb::new(Backend::Sqlite).await;
    let db = test_db.connect().await;
    let mut before = catalog(&db).await;
    for (i, name) in names.iter().enumerate().take(alembic_steps) {
        step_of(&db, history, name, true).await;
        assert_eq!(applied_names(&db).await, names[..=i].to_vec());
        let after = catalog(&db).await;
        assert_eq!(
            after.column_names(),
            reference[i + 1].column_names(),
            "after up to {name}: tables and columns differ from PostgreSQL's"
        );
        let mut sqlite_indexes = after.index_names();
        sqlite_indexes.retain(|n| !n.starts_with("sqlite_autoindex_"));
        let mut pg_indexes = reference[i + 1].index_names();
        // PostgreSQL backs primary keys and UNIQUE constraints with indexes;
        // SQLite with automatic ones.
        pg_indexes.retain(|n| !n.ends_with("_pkey") && n != "uq_org_user");
        assert_eq!(
            sqlite_indexes, pg_indexes,
            "after up to {name}: index names differ"
        );
        step_of(&db, history, name, false).await;
        assert_no_diff(
            catalog(&db).await.diff(&before, false),
            &format!("after down from {name}, compared with before its up"),
        );
        step_of(&db, history, name, true).await;
        assert_no_diff(
            catalog(&db).await.diff(&after, false),
            &format!("after down and up again to {name}"),
        );
        before = after;
    }
    prove_later(&test_db, &db, history, alembic_steps).await;
    let _ = db.close().await;
    assert_reads_back(&test_db, read_back).await;
}

/// The history starts with the Alembic revisions, one migration each.
fn assert_alembic_prefix(database: &str, names: &[&str]) {
    let revisions = alembic::revisions(database);
    assert!(
        names.len() >= revisions.len(),
        "{database} has {} Alembic revisions but only {} migrations: {names:?}",
        revisions.len(),
        names.len()
    );
    for (name, revision) in names.iter().zip(revisions) {
        assert!(
            name.starts_with(&format!("m{}_", revision.id)),
            "{name} stands where Alembic revision {} does",
            revision.id
        );
    }
}

/// Proves every migration after the first `from` (the Alembic history) the
/// way the Alembic contract proves the earlier ones, on a database with a
/// row in every table: the catalog (and on PostgreSQL `pg_dump -s`, which
/// also shows views, functions, triggers and CHECK constraints) after `up`
/// then `down` is the one before `up`, and after `up` again the one after
/// the first `up`. A failure names the migration and shows the difference.
pub async fn prove_later(
    test_db: &TestDb,
    db: &DatabaseConnection,
    history: &History,
    from: usize,
) {
    let names = history.names();
    let postgres = test_db.backend() == Backend::Postgres;
    let snapshot = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            let catalog = catalog(&db).await;
            let dump = if postgres {
                dump(test_db)
            } else {
                String::new()
            };
            (catalog, dump)
        }
    };
    assert_eq!(applied_names(db).await, names[..from].to_vec());
    for (i, name) in names.iter().enumerate().skip(from) {
        rows::fill_empty_tables(db, &catalog(db).await).await;
        let before = snapshot(db).await;
        step_of(db, history, name, true).await;
        assert_eq!(applied_names(db).await, names[..=i].to_vec());
        let after = snapshot(db).await;
        rows::fill_empty_tables(db, &after.0).await;
        step_of(db, history, name, false).await;
        assert_eq!(applied_names(db).await, names[..i].to_vec());
        assert_same_snapshot(
            name,
            "up then down does not give back the schema before its up",
            &before,
            &snapshot(db).await,
        );
        step_of(db, history, name, true).await;
        assert_same_snapshot(
            name,
            "up after its down does not give the schema its first up gave",
            &after,
            &snapshot(db).await,
        );
    }
    rows::fill_empty_tables(db, &catalog(db).await).await;
}

fn assert_same_snapshot(
    name: &str,
    what: &str,
    expected: &(Catalog, String),
    actual: &(Catalog, String),
) {
    let diff = actual.0.diff(&expected.0, true);
    let dump_diff = crate::diff::unified(&expected.1, "expected", &actual.1, "migrated database");
    assert!(
        diff.is_empty() && expected.1 == actual.1,
        "{name}: {what}; the catalog differs in {} places:\n  {}\n{}",
        diff.len(),
        diff.join("\n  "),
        if dump_diff.is_empty() {
            String::new()
        } else {
            format!("pg_dump -s differs:\n{dump_diff}")
        }
    );
}

/// At head, a fresh pool reads a row of every table back through the
/// entities.
async fn assert_reads_back(test_db: &TestDb, read_back: ReadBack) {
    let db = test_db.connect().await;
    match read_back(&db).await {
        Ok(empty) => assert!(
            empty.is_empty(),
            "at head, the entities read no row from {empty:?}"
        ),
        Err(e) => panic!("at head, reading a row of every table through the entities failed: {e}"),
    }
    let _ = db.close().await;
}

/// Names in `seaql_migrations`, in name order.
pub async fn applied_names(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await;
    match rows {
        Ok(rows) => rows
            .iter()
            .map(|r| r.try_get::<String>("", "version").expect("version"))
            .collect(),
        Err(e) => panic!("reading seaql_migrations failed: {e}"),
    }
}
