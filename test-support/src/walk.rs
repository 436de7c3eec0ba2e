//! The full walk through a migration history, shared by both migrator crates'
//! tests: up one migration at a time, comparing the catalog with the Alembic
//! reference at that revision, then down one and back, comparing with the
//! step before.

use migration_core::catalog::Catalog;
use migration_core::runner::{self, Goal, History, RunOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::{Backend, TestDb, alembic};

/// Bookkeeping tables, left out of schema comparisons.
pub const BOOKKEEPING: &[&str] = &["seaql_migrations", "alembic_version"];

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
/// revision, index 0 being the empty database, built on PostgreSQL from the
/// Alembic steps.
pub async fn alembic_catalogs(database: &str) -> Vec<Catalog> {
    let reference = TestDb::postgres().await;
    let db = reference.connect().await;
    let mut catalogs = vec![catalog(&db).await];
    for (revision, sql) in alembic::steps(database) {
        if let Err(e) = db.execute_unprepared(sql).await {
            panic!("Alembic step {database} {revision} failed: {e}");
        }
        catalogs.push(catalog(&db).await);
    }
    let _ = db.close().await;
    catalogs
}

/// PostgreSQL: after `up` to each migration the catalog equals Alembic's at
/// that revision, column positions included; `down` returns it to the
/// previous revision's (positions aside), and `up` again to this one.
pub async fn postgres_walk(database: &str, history: &History) {
    let reference = alembic_catalogs(database).await;
    let names = history.names();
    assert_eq!(
        reference.len(),
        names.len() + 1,
        "one Alembic step per migration expected"
    );
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    for (i, name) in names.iter().enumerate() {
        step(&db, history, true).await;
        assert_eq!(applied_names(&db).await, names[..=i].to_vec());
        assert_no_diff(
            catalog(&db).await.diff(&reference[i + 1], true),
            &format!(
                "after up to {name}, compared with Alembic revision {:03}",
                i + 1
            ),
        );
        step(&db, history, false).await;
        assert_eq!(applied_names(&db).await, names[..i].to_vec());
        assert_no_diff(
            catalog(&db).await.diff(&reference[i], false),
            &format!("after down from {name}, compared with Alembic revision {i:03}"),
        );
        step(&db, history, true).await;
        assert_no_diff(
            catalog(&db).await.diff(&reference[i + 1], true),
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
            .map(|r| r.try_get::<String>("", "version").unwrap_or_default())
            .collect(),
        Err(e) => panic!("reading seaql_migrations failed: {e}"),
    }
}
