//! The boot-time check at head, counted on the wire: the startup API,
//! `Migrator::up(&db, None)` and the `up` command each send exactly one
//! statement, the SELECT of the bookkeeping table: no DDL, no lock, no
//! transaction, no second connection.

use migration_core::runner::{self, Goal, RunOptions};
use sea_orm_migration::MigratorTrait;
use sketch2bim_migration::Migrator;
use test_support::TestDb;
use test_support::cli::{WorkDir, cli};
use test_support::proxy::{self, Counts};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// The one statement the check sends, a simple query (no prepared statement,
/// which a transaction-pooling proxy could not keep).
const THE_SELECT: &str = "Q SELECT * FROM \"public\".\"seaql_migrations\" ORDER BY version";

fn take(counts: &std::sync::Mutex<Counts>) -> Counts {
    let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::take(&mut *counts)
}

/// One SELECT and nothing else; `connections`, when given, the connections
/// opened (an application's pool may open one of its own accord while
/// connections are handed back to it, so in-process calls leave it out).
#[track_caller]
fn assert_one_select(sent: &Counts, connections: Option<usize>, what: &str) {
    assert_eq!(
        (sent.statements.as_slice(), sent.executed()),
        ([THE_SELECT.to_owned()].as_slice(), 1),
        "{what} at head: {sent:#?}"
    );
    if let Some(connections) = connections {
        assert_eq!(sent.connections, connections, "{what} at head: {sent:#?}");
    }
}

#[tokio::test]
async fn at_head_the_check_sends_one_select() {
    let test_db = TestDb::postgres().await;
    {
        let db = test_db.connect().await;
        runner::up(&db, &super::history(), &Goal::All, &RunOptions::default())
            .await
            .expect("up");
        let _ = db.close().await;
    }
    let (url, counts) = proxy::in_front_of(test_db.url()).expect("proxy");

    // An application's pool, connected before the check.
    let mut options = sea_orm::ConnectOptions::new(url.as_str());
    options
        .sqlx_logging(false)
        .max_connections(4)
        .min_connections(1);
    let app = sea_orm::Database::connect(options)
        .await
        .expect("connect through the proxy");
    take(&counts);

    for _ in 0..3 {
        let report = sketch2bim_migration::migrate_on_startup(&app)
            .await
            .expect("startup at head");
        assert!(report.applied.is_empty(), "{report:#?}");
        assert_one_select(&take(&counts), None, "the startup API");
    }

    // Through sea-orm-migration's trait, as an application may call it.
    for _ in 0..3 {
        Migrator::up(&app, None)
            .await
            .expect("Migrator::up at head");
        assert_one_select(&take(&counts), None, "Migrator::up");
    }
    let _ = app.close().await;
    take(&counts);

    // The command, a process of its own: its connection and the SELECT.
    let dir = WorkDir::new();
    cli(BIN, &dir, &url, &["up"]).ok();
    assert_one_select(&take(&counts), Some(1), "`up`");
}
