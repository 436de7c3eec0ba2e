//! Replicas starting together: two runs of `up` at once on one new
//! database, each with a pool of its own, apply every migration exactly
//! once between them (PostgreSQL: the migration lock; SQLite: the file's
//! write lock taken by each step, which checks again that it is still to
//! be done).

use migration_core::runner::{self, Goal, Report, RunOptions};
use rstest::rstest;
use test_support::db::bookkeeping_rows;
use test_support::walk::{applied_names, catalog};
use test_support::{Backend, TestDb};

use crate::lifecycle::schema;
use crate::{NAMES, connect, first, history, line};

/// `up` on its own pool, on a task of its own.
fn replica(url: &str) -> tokio::task::JoinHandle<Result<Report, String>> {
    let url = url.to_owned();
    tokio::spawn(async move {
        let db = connect(&url).await;
        let report = runner::up(&db, &history(), &Goal::All, &RunOptions::default()).await;
        let _ = db.close().await;
        report.map_err(|e| line(&e))
    })
}

#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_apply_each_migration_once(#[case] backend: Backend) {
    for round in 0..4 {
        let test_db = TestDb::new(backend).await;
        let (a, b) = (replica(test_db.url()), replica(test_db.url()));
        let reports = [a.await.expect("a run"), b.await.expect("a run")];
        let mut applied = Vec::new();
        for report in &reports {
            let report = report
                .as_ref()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(report.current.as_deref(), Some(NAMES[3]), "round {round}");
            assert_eq!(report.pending, Vec::<String>::new(), "round {round}");
            applied.extend(report.steps.iter().map(|s| s.name.clone()));
        }
        applied.sort();
        assert_eq!(applied, first(4), "round {round}: {reports:#?}");

        let db = test_db.connect().await;
        assert_eq!(applied_names(&db).await, first(4), "round {round}");
        assert_eq!(bookkeeping_rows(&db).await, 4, "round {round}");
        assert_eq!(
            catalog(&db).await.objects(true),
            schema(backend, "content"),
            "round {round}"
        );
    }
}
