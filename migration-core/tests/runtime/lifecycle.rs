//! A database's life under the runner and under `Migrator::up` and friends:
//! up to head, status, one migration down and up again, with the schema
//! and the data read back at each point.

use std::collections::BTreeMap;

use migration_core::runner::{self, Direction, Goal, Report, RunOptions};
use rstest::rstest;
use sea_orm::{DbErr, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use test_support::db::{exec, has_bookkeeping, strings};
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::{NAMES, first, fixture, history, line};

/// The schema at head, or with `notes.body` not yet renamed (before
/// m004): one line per object, as [`Catalog::objects`] writes it.
///
/// [`Catalog::objects`]: migration_core::catalog::Catalog::objects
pub(crate) fn schema(backend: Backend, text_column: &str) -> BTreeMap<String, String> {
    let objects: Vec<(String, &str)> = match backend {
        Backend::Postgres => vec![
            ("table notes".into(), ""),
            ("column notes.id".into(), "#1 integer NOT NULL"),
            (format!("column notes.{text_column}"), "#2 text NOT NULL"),
            (
                "column notes.pinned".into(),
                "#3 boolean NOT NULL DEFAULT false",
            ),
            ("constraint notes.notes_pkey".into(), "PRIMARY KEY (id)"),
            (
                "index ix_notes_pinned".into(),
                "CREATE INDEX ix_notes_pinned ON notes USING btree (pinned)",
            ),
            (
                "index notes_pkey".into(),
                "CREATE UNIQUE INDEX notes_pkey ON notes USING btree (id)",
            ),
        ],
        Backend::Sqlite => vec![
            ("table notes".into(), ""),
            ("column notes.id".into(), "#1 integer NOT NULL"),
            (format!("column notes.{text_column}"), "#2 text NOT NULL"),
            (
                "column notes.pinned".into(),
                "#3 boolean NOT NULL DEFAULT FALSE",
            ),
            ("constraint notes.PRIMARY KEY".into(), "PRIMARY KEY (id)"),
            (
                "index ix_notes_pinned".into(),
                "INDEX ON notes (pinned) [c]",
            ),
        ],
    };
    objects
        .into_iter()
        .map(|(key, description)| (key, description.to_owned()))
        .collect()
}

/// `(name, direction)` of every step a run took.
fn steps(report: &Report) -> Vec<(&str, Direction)> {
    report
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.direction))
        .collect()
}

/// `(current, pending)` of a report.
fn position(report: &Report) -> (Option<&str>, Vec<&str>) {
    (
        report.current.as_deref(),
        report.pending.iter().map(String::as_str).collect(),
    )
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn up_status_down_one_and_up_again(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let history = history();
    let options = RunOptions::default();

    // A new database: everything pending, and reading it creates nothing.
    let status = runner::status(&db, &history).await.expect("status");
    assert_eq!(position(&status), (None, NAMES.to_vec()));
    assert_eq!(status.head.as_deref(), Some(NAMES[3]));
    assert!(
        !has_bookkeeping(&db).await,
        "status created the bookkeeping"
    );

    let up = runner::up(&db, &history, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    assert_eq!(
        steps(&up),
        NAMES
            .iter()
            .map(|n| (*n, Direction::Up))
            .collect::<Vec<_>>()
    );
    assert_eq!(position(&up), (Some(NAMES[3]), vec![]));
    assert_eq!(up.edited, Vec::<String>::new());
    assert_eq!(applied_names(&db).await, first(4));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "content"));

    let status = runner::status(&db, &history).await.expect("status");
    assert_eq!(position(&status), (Some(NAMES[3]), vec![]));
    assert_eq!(steps(&status), vec![]);

    // A row written at head comes through the round trip as it was.
    exec(&db, "INSERT INTO notes (id, content) VALUES (1, 'first')").await;
    let down = runner::down(&db, &history, &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("down: {}", line(&e)));
    assert_eq!(steps(&down), vec![(NAMES[3], Direction::Down)]);
    assert_eq!(position(&down), (Some(NAMES[2]), vec![NAMES[3]]));
    assert_eq!(applied_names(&db).await, first(3));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "body"));
    assert_eq!(
        strings(&db, "SELECT body FROM notes").await,
        vec![Some("first".to_owned())]
    );

    let again = runner::up(&db, &history, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("up again: {}", line(&e)));
    assert_eq!(steps(&again), vec![(NAMES[3], Direction::Up)]);
    assert_eq!(position(&again), (Some(NAMES[3]), vec![]));
    assert_eq!(applied_names(&db).await, first(4));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "content"));
    assert_eq!(
        strings(&db, "SELECT content FROM notes").await,
        vec![Some("first".to_owned())]
    );

    // At head there is nothing to do, either way of asking.
    let noop = runner::up(&db, &history, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("up at head: {}", line(&e)));
    assert_eq!(steps(&noop), vec![]);
    assert_eq!(applied_names(&db).await, first(4));
}

/// Every migration down, through the one outside a transaction, and back
/// up: the empty schema, then head's again.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn down_to_nothing_and_up_again(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = crate::at_head(&test_db).await;
    let history = history();
    let options = RunOptions::default();

    let down = runner::down(&db, &history, &Goal::All, &options)
        .await
        .unwrap_or_else(|e| panic!("down: {}", line(&e)));
    assert_eq!(
        steps(&down),
        NAMES
            .iter()
            .rev()
            .map(|n| (*n, Direction::Down))
            .collect::<Vec<_>>()
    );
    assert_eq!(position(&down), (None, NAMES.to_vec()));
    assert_eq!(applied_names(&db).await, Vec::<String>::new());
    assert_eq!(catalog(&db).await.objects(true), BTreeMap::new());

    let up = runner::up(&db, &history, &Goal::To(NAMES[2].to_owned()), &options)
        .await
        .unwrap_or_else(|e| panic!("up to m003: {}", line(&e)));
    assert_eq!(position(&up), (Some(NAMES[2]), vec![NAMES[3]]));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "body"));
}

/// What an application calls: `Migrator::up`, `down` and `status` (the
/// `MigratorTrait` calls `migrator!` routes through the runner), and the
/// health-check functions it declares.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn the_migrator_trait_calls_an_application_makes(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    assert_eq!(fixture::head(), NAMES[3]);
    assert_eq!(fixture::current(&db).await.expect("current"), None);
    assert_eq!(fixture::pending(&db).await.expect("pending"), first(4));

    fixture::Migrator::up(&db, Some(2)).await.expect("up 2");
    assert_eq!(applied_names(&db).await, first(2));
    fixture::Migrator::status(&db).await.expect("status");
    fixture::Migrator::up(&db, None).await.expect("up");
    assert_eq!(applied_names(&db).await, first(4));
    assert_eq!(
        fixture::current(&db).await.expect("current"),
        Some(NAMES[3].to_owned())
    );
    fixture::Migrator::down(&db, Some(1)).await.expect("down 1");
    assert_eq!(applied_names(&db).await, first(3));
    assert_eq!(
        fixture::pending(&db).await.expect("pending"),
        vec![NAMES[3].to_owned()]
    );

    // A transaction cannot hold the guarantees: refused, nothing run.
    let txn = db.begin().await.expect("begin");
    let refused = fixture::Migrator::up(&txn, None).await;
    txn.rollback().await.expect("rollback");
    assert_eq!(
        refused.map_err(|e| e.to_string()),
        Err(DbErr::Migration(
            "Notes's Migrator::up needs the DatabaseConnection (pass &db), not a transaction: \
             the migration lock holds a connection of its own and every migration runs in a \
             transaction of its own"
                .to_owned()
        )
        .to_string())
    );
    assert_eq!(applied_names(&db).await, first(3));
    assert_eq!(catalog(&db).await.objects(true), schema(backend, "body"));
}
