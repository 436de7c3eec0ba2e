//! A migration whose `use_transaction()` is `Some(false)` (the fixture's
//! m003, an index built with `lock_safe`) runs outside a transaction on
//! PostgreSQL: on a connection of its own, every statement sent while
//! that connection is in no transaction block, the bookkeeping row
//! written after them. What the server was sent is read from a proxy.

use migration_core::runner::{self, Goal, RunOptions};
use test_support::TestDb;
use test_support::db::int;
use test_support::proxy::{Proxy, Sent};
use test_support::walk::applied_names;

use crate::{NAMES, connect, first, history, line};

/// Position in `sent` of the one statement containing `text`.
fn position_of(sent: &[Sent], text: &str) -> usize {
    let found: Vec<usize> = (0..sent.len())
        .filter(|&i| sent[i].sql.contains(text))
        .collect();
    match found.as_slice() {
        [i] => *i,
        _ => panic!("not one statement with {text:?}: {sent:#?}"),
    }
}

/// `(sql, in a transaction block)` of every statement `connection` sent.
fn sent_on(sent: &[Sent], connection: usize) -> Vec<(&str, bool)> {
    sent.iter()
        .filter(|s| s.connection == connection)
        .map(|s| (s.sql.as_str(), s.in_transaction))
        .collect()
}

/// How many valid indexes `ix_notes_pinned` there are.
async fn index_count(db: &sea_orm::DatabaseConnection) -> i64 {
    int(
        db,
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = 'ix_notes_pinned' AND i.indisvalid",
    )
    .await
}

#[tokio::test]
async fn an_index_built_concurrently_runs_outside_a_transaction() {
    let test_db = TestDb::postgres().await;
    let proxy = Proxy::start(test_db.url());
    let db = connect(proxy.url()).await;
    // What the test reads goes around the proxy.
    let check = test_db.connect().await;
    let options = RunOptions::default();
    runner::up(&db, &history(), &Goal::Steps(2), &options)
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    proxy.take();

    let up = runner::up(&db, &history(), &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    assert_eq!(up.steps.len(), 1);
    assert_eq!(up.steps[0].name, NAMES[2]);
    let sent = proxy.take();
    let create = position_of(&sent, "CREATE INDEX CONCURRENTLY");
    let own = sent[create].connection;
    assert_eq!(
        sent_on(&sent, own),
        vec![
            (
                "SET lock_timeout = '2000ms'; SET application_name = 'migrating \
                 m003_index_notes_pinned'",
                false
            ),
            ("DROP INDEX CONCURRENTLY IF EXISTS ix_notes_pinned", false),
            (
                "CREATE INDEX CONCURRENTLY ix_notes_pinned ON notes (pinned)",
                false
            ),
            ("RESET lock_timeout; RESET application_name", false),
        ],
        "{sent:#?}"
    );
    // Recorded once its statements succeeded, on another connection, by
    // itself.
    let record = position_of(&sent, "VALUES ('m003_index_notes_pinned'");
    assert!(record > create, "{sent:#?}");
    assert_ne!(sent[record].connection, own);
    assert!(!sent[record].in_transaction, "{sent:#?}");
    assert!(
        sent[record]
            .sql
            .starts_with(r#"INSERT INTO "public"."seaql_migrations" (version, applied_at, checksum) VALUES ('m003_index_notes_pinned', "#),
        "{sent:#?}"
    );
    assert_eq!(applied_names(&check).await, first(3));
    assert_eq!(index_count(&check).await, 1);

    // Against it, m004 runs in the transaction that records it: one batch
    // sent in a transaction block, with its row, then COMMIT.
    runner::up(&db, &history(), &Goal::Steps(1), &options)
        .await
        .unwrap_or_else(|e| panic!("up: {}", line(&e)));
    let sent = proxy.take();
    let rename = position_of(&sent, "RENAME COLUMN");
    assert!(sent[rename].in_transaction, "{sent:#?}");
    assert!(
        sent[rename].sql.contains(
            "ALTER TABLE \"notes\" RENAME COLUMN \"body\" TO \"content\";\nINSERT INTO \
             \"public\".\"seaql_migrations\" (version, applied_at, checksum) VALUES \
             ('m004_rename_body_to_content', "
        ),
        "{sent:#?}"
    );
    let batch = sent_on(&sent, sent[rename].connection);
    let at = batch
        .iter()
        .position(|(sql, _)| sql.contains("RENAME COLUMN"))
        .expect("the batch");
    assert_eq!(
        (batch[at - 1], batch.get(at + 1)),
        (("BEGIN", false), Some(&("COMMIT", true))),
        "{sent:#?}"
    );

    // Rolled back, m003 drops its index outside a transaction too.
    runner::down(&db, &history(), &Goal::Steps(2), &options)
        .await
        .unwrap_or_else(|e| panic!("down: {}", line(&e)));
    let sent = proxy.take();
    let drop = position_of(&sent, "DROP INDEX CONCURRENTLY");
    assert_eq!(
        sent_on(&sent, sent[drop].connection),
        vec![
            (
                "SET lock_timeout = '2000ms'; SET application_name = 'migrating \
                 m003_index_notes_pinned'",
                false
            ),
            ("DROP INDEX CONCURRENTLY IF EXISTS ix_notes_pinned", false),
            ("RESET lock_timeout; RESET application_name", false),
        ],
        "{sent:#?}"
    );
    let unrecord = position_of(&sent, "WHERE version = 'm003_index_notes_pinned'");
    assert!(
        unrecord > drop && !sent[unrecord].in_transaction,
        "{sent:#?}"
    );
    assert_eq!(applied_names(&check).await, first(2));
    assert_eq!(index_count(&check).await, 0);
}
