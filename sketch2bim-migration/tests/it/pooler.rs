//! Every command and the startup API through a real PgBouncer in
//! transaction mode (server connections shared between clients), and a
//! connection through an IPv6 literal host.

use sea_orm::{ConnectionTrait, Statement};
use test_support::cli::{Run, WorkDir, cli, run_concurrently};
use test_support::migrations::Migrations;
use test_support::walk::{applied_names, catalog};
use test_support::{TestDb, pgbouncer};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// Every migration's name, oldest first.
fn names() -> Vec<&'static str> {
    migrations().names()
}

fn assert_status(status: &Run, applied: usize) {
    let lines = status.stdout_lines();
    let m = migrations();
    let width = m.width();
    assert_eq!(lines.len(), m.len(), "{status:#?}");
    for (i, line) in lines.iter().enumerate() {
        let state = if i < applied { "applied" } else { "pending" };
        assert!(
            line.starts_with(&format!("{:<width$}  {state}", m.name(i))),
            "line {i}: {status:#?}"
        );
    }
}

#[tokio::test]
async fn up_status_down_and_up_again_through_pgbouncer() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let url = pgbouncer::url_for(&test_db.name());
    let dir = WorkDir::new();

    let m = migrations();
    let up = cli(BIN, &dir, &url, &["up"]).ok();
    assert_eq!(up.applied(), names(), "{up:#?}");
    assert_eq!(up.stderr_lines().len(), m.len() + 1, "{up:#?}");
    assert!(
        up.stderr_lines()[m.len()].starts_with(&format!(
            "sketch2bim: applied {} in ",
            Migrations::count(m.len())
        )),
        "{up:#?}"
    );
    assert_eq!(applied_names(&db).await, names());

    assert_status(&cli(BIN, &dir, &url, &["status"]).ok(), m.len());
    assert_eq!(
        cli(BIN, &dir, &url, &["current"]).ok().stdout,
        format!("{}\n", m.head())
    );

    let down = cli(BIN, &dir, &url, &["down", "-n", "1"]).ok();
    assert_eq!(down.stderr_lines().len(), 2, "{down:#?}");
    assert!(
        down.stderr_lines()[0].starts_with(&format!("rolled back {} (", m.head())),
        "{down:#?}"
    );
    assert_eq!(applied_names(&db).await, m.first(m.len() - 1));
    assert_status(&cli(BIN, &dir, &url, &["status"]).ok(), m.len() - 1);

    let up = cli(BIN, &dir, &url, &["up"]).ok();
    assert_eq!(up.applied(), [m.head()], "{up:#?}");
    assert_eq!(applied_names(&db).await, names());

    let again = cli(BIN, &dir, &url, &["up"]).ok();
    assert_eq!(again.stderr_lines().len(), 1, "{again:#?}");
    assert!(
        again.stderr_lines()[0].ends_with(&format!("; at {} (head)", m.head())),
        "{again:#?}"
    );
}

#[tokio::test]
async fn six_concurrent_ups_through_pgbouncer_apply_each_migration_once() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let url = pgbouncer::url_for(&test_db.name());

    let runs = run_concurrently(BIN, 6, &url, &["up"]);
    let failed: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
    assert!(
        failed.is_empty(),
        "{} of 6 runs failed: {failed:#?}",
        failed.len()
    );
    let mut all: Vec<&str> = runs.iter().flat_map(Run::applied).collect();
    all.sort();
    assert_eq!(
        all,
        names(),
        "each migration applied by exactly one run: {runs:#?}"
    );
    assert_eq!(applied_names(&db).await, names());
}

#[tokio::test]
async fn six_concurrent_statuses_through_pgbouncer() {
    let test_db = TestDb::postgres().await;
    let url = pgbouncer::url_for(&test_db.name());
    cli(BIN, &WorkDir::new(), &url, &["up", "-n", "4"]).ok();

    let runs = run_concurrently(BIN, 6, &url, &["status"]);
    for status in &runs {
        assert_eq!(status.code, 0, "{runs:#?}");
        assert_status(status, 4);
        assert_eq!(status.stderr, "", "{status:#?}");
    }
}

#[tokio::test]
async fn check_through_pgbouncer() {
    let test_db = TestDb::postgres().await;
    let url = pgbouncer::url_for(&test_db.name());
    let dir = WorkDir::new();
    cli(BIN, &dir, &url, &["up"]).ok();
    let tables = catalog(&test_db.connect().await).await.tables.len();

    let check = cli(BIN, &dir, &url, &["check"]).ok();
    assert_eq!(check.stdout, "", "{check:#?}");
    assert_eq!(
        check.stderr_lines(),
        vec![format!(
            "sketch2bim: the database matches the entities ({tables} tables)"
        )],
        "{check:#?}"
    );
}

/// An app's pool through PgBouncer, with sea-orm's default options (its
/// statement cache included): three replicas start together.
#[tokio::test]
async fn the_startup_api_through_pgbouncer() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let url = pgbouncer::url_for(&test_db.name());

    let mut apps = Vec::new();
    for _ in 0..3 {
        apps.push(
            sea_orm::Database::connect(url.as_str())
                .await
                .expect("connect through pgbouncer"),
        );
    }
    let reports = futures_join(&apps).await;
    let mut all: Vec<String> = Vec::new();
    for report in &reports {
        let report = report.as_ref().expect("startup migration");
        assert_eq!(report.current.as_deref(), Some(migrations().head()));
        assert!(report.pending.is_empty());
        all.extend(report.applied.iter().cloned());
    }
    all.sort();
    assert_eq!(all, names(), "each migration applied once: {reports:#?}");
    assert_eq!(applied_names(&db).await, names());

    for app in &apps {
        let report = sketch2bim_migration::migrate_on_startup(app)
            .await
            .expect("at head");
        assert!(report.applied.is_empty());
        assert_eq!(
            sketch2bim_migration::current(app).await.expect("current"),
            Some(migrations().head().to_owned())
        );
        assert_eq!(
            sketch2bim_migration::pending(app).await.expect("pending"),
            Vec::<String>::new()
        );
    }
}

async fn futures_join(
    apps: &[sea_orm::DatabaseConnection],
) -> Vec<Result<migration_core::startup::StartupReport, migration_core::Error>> {
    let handles: Vec<_> = apps
        .iter()
        .map(|app| {
            let app = app.clone();
            tokio::spawn(async move { sketch2bim_migration::migrate_on_startup(&app).await })
        })
        .collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("a replica"));
    }
    out
}

/// `postgres://user@[::1]:port/db`: the IPv6 literal reaches the server
/// (here through PgBouncer, which listens on `::1`).
#[tokio::test]
async fn an_ipv6_literal_host_connects() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let url = pgbouncer::ipv6_url_for(&test_db.name());
    assert!(url.contains("@[::1]:"), "{url}");
    let dir = WorkDir::new();

    let up = cli(BIN, &dir, &url, &["up"]).ok();
    assert_eq!(up.applied(), names(), "{up:#?}");
    assert_eq!(applied_names(&db).await, names());
    assert_status(&cli(BIN, &dir, &url, &["status"]).ok(), migrations().len());

    // Nothing listens on port 1: the error says why, by address.
    let refused = cli(
        BIN,
        &dir,
        "postgres://app:hunter2@[::1]:1/sketch2bim",
        &["status"],
    );
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert_eq!(
        refused.stderr_lines(),
        vec![
            "error: cannot connect to postgres://app:***@[::1]:1/sketch2bim: timed out after 5 s \
             ([::1]:1: connection refused (os error 111))"
        ]
    );
}

/// `-s` sets the search path as a startup parameter of each connection (a
/// `SET` would hold on one of the proxy's server connections only).
/// PgBouncer 1.18 does not pass startup options on, so it refuses the
/// connection: a run never migrates another schema than the one asked for.
#[tokio::test]
async fn a_schema_through_pgbouncer_is_refused_rather_than_ignored() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    db.execute_unprepared("CREATE SCHEMA tenant")
        .await
        .expect("create schema");
    let url = pgbouncer::url_for(&test_db.name());
    let dir = WorkDir::new();

    let refused = cli(BIN, &dir, &url, &["-s", "tenant", "up"]);
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert_eq!(
        refused.stderr_lines(),
        vec![format!(
            "error: cannot connect to {url}: unsupported startup parameter: options"
        )],
        "{refused:#?}"
    );
    assert_eq!(applied_names_in(&db, "tenant").await, 0);
    assert_eq!(applied_names_in(&db, "public").await, 0);

    // Directly, the same run migrates that schema.
    cli(BIN, &dir, test_db.url(), &["-s", "tenant", "up"]).ok();
    assert_eq!(
        applied_names_in(&db, "tenant").await,
        i64::try_from(migrations().len()).expect("a count")
    );
    assert_eq!(applied_names_in(&db, "public").await, 0);
}

/// Rows of `schema.seaql_migrations` (0 when there is no such table).
async fn applied_names_in(db: &sea_orm::DatabaseConnection, schema: &str) -> i64 {
    let sql = format!(
        "SELECT CASE WHEN to_regclass('{schema}.seaql_migrations') IS NULL THEN 0 \
         ELSE (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM \
         {schema}.seaql_migrations', false, true, '')))[1]::text::bigint END"
    );
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a count")
}

/// An Alembic-built database at revision 005: six replicas run `up` at once
/// through PgBouncer; one adopts it (its schema compared in a scratch schema
/// built on the proxy's connections), all exit 0, each migration is recorded
/// once; then `drop-alembic-version`.
#[tokio::test]
async fn six_concurrent_ups_adopt_an_alembic_database_once_through_pgbouncer() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    test_support::alembic::build(&db, "sketch2bim", 5).await;
    let url = pgbouncer::url_for(&test_db.name());

    let runs = run_concurrently(BIN, 6, &url, &["up"]);
    let failed: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
    assert!(
        failed.is_empty(),
        "{} of 6 runs failed: {failed:#?}",
        failed.len()
    );
    let adopted: Vec<&Run> = runs
        .iter()
        .filter(|r| {
            r.stderr_lines().first()
                == Some(
                    &"adopted the Alembic-built database at revision 005: recorded \
                      m001_initial_schema … m005_add_sketchup_url as applied",
                )
        })
        .collect();
    assert_eq!(adopted.len(), 1, "{runs:#?}");
    let mut all: Vec<&str> = runs.iter().flat_map(Run::applied).collect();
    all.sort();
    assert_eq!(all, names()[5..], "{runs:#?}");
    assert_eq!(applied_names(&db).await, names());

    let dir = WorkDir::new();
    let dropped = cli(BIN, &dir, &url, &["drop-alembic-version"]).ok();
    assert_eq!(
        dropped.stderr_lines(),
        vec!["sketch2bim: dropped alembic_version"]
    );
    let left = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) FROM pg_class WHERE relname = 'alembic_version'",
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a count");
    assert_eq!(left, 0);
}
