//! The startup API an application calls at boot, `migrate_on_startup` as
//! `migrator!` declares it: on a new database it applies everything; at
//! head, the case of every boot after the first, it sends one statement,
//! a SELECT of the bookkeeping table, and nothing else.

use std::sync::{Arc, Mutex};

use migration_core::startup::StartupReport;
use rstest::rstest;
use sea_orm::DatabaseConnection;
use test_support::proxy::{Proxy, Sent};
use test_support::walk::applied_names;
use test_support::{Backend, TestDb};

use crate::{NAMES, at_head, connect, first, fixture};

/// An application's pool that records every statement it sends:
/// PostgreSQL's as they cross a proxy to the server, SQLite's through
/// sea-orm's metric callback (every statement on SQLite goes through
/// sea-orm).
struct Watched {
    db: DatabaseConnection,
    proxy: Option<Proxy>,
    sqlite: Arc<Mutex<Vec<String>>>,
}

impl Watched {
    async fn new(test_db: &TestDb) -> Watched {
        let sqlite = Arc::new(Mutex::new(Vec::new()));
        match test_db.backend() {
            Backend::Postgres => {
                let proxy = Proxy::start(test_db.url());
                let db = connect(proxy.url()).await;
                Watched {
                    db,
                    proxy: Some(proxy),
                    sqlite,
                }
            }
            Backend::Sqlite => {
                let mut db = connect(test_db.url()).await;
                let log = Arc::clone(&sqlite);
                db.set_metric_callback(move |info| {
                    log.lock()
                        .expect("the log")
                        .push(info.statement.to_string());
                });
                Watched {
                    db,
                    proxy: None,
                    sqlite,
                }
            }
        }
    }

    /// The SQL of every statement sent since the last call. On PostgreSQL
    /// each must have been a simple query (safe behind a transaction
    /// pooler) sent outside a transaction.
    fn take(&self) -> Vec<String> {
        match &self.proxy {
            Some(proxy) => proxy
                .take()
                .into_iter()
                .map(|sent| match sent {
                    Sent {
                        kind: 'Q',
                        in_transaction: false,
                        sql,
                        ..
                    } => sql,
                    other => panic!("not a simple query outside a transaction: {other:?}"),
                })
                .collect(),
            None => std::mem::take(&mut *self.sqlite.lock().expect("the log")),
        }
    }
}

fn report(applied: Vec<String>) -> StartupReport {
    StartupReport {
        database: "notes",
        auto_run: true,
        applied,
        current: Some(NAMES[3].to_owned()),
        head: Some(NAMES[3].to_owned()),
        pending: Vec::new(),
        adopted: None,
        edited: Vec::new(),
    }
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn at_head_the_boot_time_check_sends_one_select(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    at_head(&test_db).await;
    let app = Watched::new(&test_db).await;
    app.take();

    let at_boot = fixture::migrate_on_startup(&app.db)
        .await
        .unwrap_or_else(|e| panic!("{}", crate::line(&e)));
    assert_eq!(at_boot, report(Vec::new()));
    assert_eq!(
        at_boot.to_string(),
        "notes: up to date at m004_rename_body_to_content"
    );
    let select = match backend {
        Backend::Postgres => r#"SELECT * FROM "public"."seaql_migrations" ORDER BY version"#,
        Backend::Sqlite => r#"SELECT * FROM "seaql_migrations" ORDER BY version"#,
    };
    assert_eq!(app.take(), vec![select.to_owned()]);

    // Every boot after it the same.
    for _ in 0..3 {
        fixture::migrate_on_startup(&app.db)
            .await
            .unwrap_or_else(|e| panic!("{}", crate::line(&e)));
    }
    assert_eq!(app.take(), vec![select.to_owned(); 3]);
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn the_first_boot_applies_every_migration(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = connect(test_db.url()).await;

    let first_boot = fixture::migrate_on_startup(&db)
        .await
        .unwrap_or_else(|e| panic!("{}", crate::line(&e)));
    assert_eq!(first_boot, report(first(4)));
    assert_eq!(
        first_boot.to_string(),
        "notes: applied m001_create_notes, m002_add_pinned_to_notes, \
         m003_index_notes_pinned, m004_rename_body_to_content; at m004_rename_body_to_content"
    );
    assert_eq!(applied_names(&db).await, first(4));
}
