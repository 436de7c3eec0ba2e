//! The harness itself: a throwaway cluster starts from the installed binaries,
//! and every test database is new, empty and gone afterwards.

use sea_orm::{ConnectionTrait, Database, Statement};
use test_support::{TestDb, start_throwaway_cluster};

#[tokio::test]
async fn throwaway_cluster_serves_queries() {
    let url = start_throwaway_cluster().expect("throwaway cluster");
    let db = Database::connect(&url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 40 + 2 AS n",
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.try_get::<i32>("", "n").expect("n"), 42);
}

#[tokio::test]
async fn each_postgres_test_database_is_new_and_dropped_afterwards() {
    let test_db = TestDb::postgres().await;
    let name = test_db.name();
    let db = test_db.connect().await;
    let backend = db.get_database_backend();
    let tables = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(tables.try_get::<i32>("", "n").expect("n"), 0);
    db.close().await.expect("close");
    drop(test_db);

    let admin = Database::connect(test_support::server_url())
        .await
        .expect("admin");
    let left = admin
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT count(*)::int AS n FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .expect("query")
        .expect("row");
    assert_eq!(left.try_get::<i32>("", "n").expect("n"), 0);
}

#[tokio::test]
async fn each_sqlite_test_file_is_removed_afterwards() {
    let test_db = TestDb::sqlite().await;
    let path = test_db.name();
    let db = test_db.connect().await;
    db.execute_unprepared("CREATE TABLE t (x integer)")
        .await
        .expect("create");
    db.close().await.expect("close");
    assert!(std::path::Path::new(&path).exists());
    drop(test_db);
    assert!(!std::path::Path::new(&path).exists());
}
