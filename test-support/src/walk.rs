//! The full walk through a migration history, shared by both migrator crates'
//! tests: up one migration at a time, comparing the schema with the Alembic
//! reference at that revision, then down one and back, comparing with the
//! step before.

use migration_core::catalog::Catalog;
use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::{Backend, TestDb, alembic};

/// Bookkeeping tables, left out of schema comparisons.
pub use crate::alembic::BOOKKEEPING;

/// Reads the catalog, bookkeeping left out.
pub async fn catalog(db: &DatabaseConnection) -> Catalog {
    match Catalog::read(db, BOOKKEEPING).await {
        Ok(catalog) => catalog,
        Err(e) => panic!("reading the catalog failed: {e}"),
    }
}

/// Applies (`true`) or rolls back one migration through the runner.
pub async fn step(db: &DatabaseConnection, history: &History, up: bool) {
    let result = if up {
        runner::up(db, history, &Goal::Steps(1), &RunOptions::default()).await
    } else {
        runner::down(db, history, &Goal::Steps(1), &RunOptions::default()).await
    };
    match result {
        Ok(report) => assert_eq!(report.steps.len(), 1, "one step expected: {report:?}"),
        Err(e) => panic!(
            "{} failed: {}",
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

/// PostgreSQL: after `up` to each migration, `pg_dump -s` of the database is
/// the Alembic dump at that revision, text for text (bookkeeping tables and
/// the dump's comments and settings aside); `down` gives back the previous
/// revision's dump exactly (but for the down steps listed in
/// [`alembic::DOWN_LIKE_ALEMBIC`], which give Alembic's own), and `up` again
/// this revision's.
pub async fn postgres_walk(database: &str, history: &History) {
    let revisions = alembic::revisions(database);
    let names = history.names();
    assert_eq!(
        revisions.len(),
        names.len(),
        "one Alembic revision per migration expected"
    );
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    assert_eq!(dump(&test_db), "", "a new database dumps empty");
    for (i, name) in names.iter().enumerate() {
        let revision = revisions[i];
        let up_fixture = format!("{database}/up/{}.sql", revision.id);
        let up = alembic::normalize(revision.up);
        step(&db, history, true).await;
        assert_eq!(applied_names(&db).await, names[..=i].to_vec());
        alembic::assert_same_dump(
            &up,
            &up_fixture,
            &dump(&test_db),
            &format!("after up to {name}"),
        );
        step(&db, history, false).await;
        assert_eq!(applied_names(&db).await, names[..i].to_vec());
        let (down_fixture, down) = alembic::expected_after_down(database, i + 1);
        alembic::assert_same_dump(
            &down,
            &down_fixture,
            &dump(&test_db),
            &format!("after down from {name}"),
        );
        step(&db, history, true).await;
        alembic::assert_same_dump(
            &up,
            &up_fixture,
            &dump(&test_db),
            &format!("after down and up again to {name}"),
        );
    }
    let _ = db.close().await;
}

/// SQLite: after `up` to each migration the tables, their columns in order
/// and the index names are PostgreSQL's at that revision; `down` returns the
/// catalog exactly (types, defaults, keys, indexes) to what it was before.
pub async fn sqlite_walk(database: &str, history: &History) {
    let reference = alembic_catalogs(database).await;
    let names = history.names();
    let test_db = TestDb::new(Backend::Sqlite).await;
    let db = test_db.connect().await;
    let mut before = catalog(&db).await;
    for (i, name) in names.iter().enumerate() {
        step(&db, history, true).await;
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
        step(&db, history, false).await;
        assert_no_diff(
            catalog(&db).await.diff(&before, false),
            &format!("after down from {name}, compared with before its up"),
        );
        step(&db, history, true).await;
        assert_no_diff(
            catalog(&db).await.diff(&after, false),
            &format!("after down and up again to {name}"),
        );
        before = after;
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
