//! `check` compares a database with the entities crate, table by table and
//! column by column.

use sea_orm::ConnectionTrait;
use test_support::cli::{Run, WorkDir, run};
use test_support::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

fn cli(dir: &WorkDir, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["-u", url];
    all.extend_from_slice(args);
    run(BIN, dir.path(), &[], &all)
}

async fn passes_on_a_fresh_database(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let dir = WorkDir::new();
    cli(&dir, test_db.url(), &["up"]).ok();
    let check = cli(&dir, test_db.url(), &["check"]).ok();
    assert_eq!(check.stdout, "");
    assert_eq!(
        check.stderr,
        "sketch2bim: the database matches the entities (9 tables)\n"
    );
}

#[tokio::test]
async fn check_passes_on_a_freshly_migrated_postgres_database() {
    passes_on_a_fresh_database(Backend::Postgres).await;
}

#[tokio::test]
async fn check_passes_on_a_freshly_migrated_sqlite_database() {
    passes_on_a_fresh_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn check_names_every_column_that_differs() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    cli(&dir, test_db.url(), &["up"]).ok();
    db.execute_unprepared(
        "ALTER TABLE jobs ADD COLUMN notes text; \
         ALTER TABLE jobs DROP COLUMN sketchup_url; \
         ALTER TABLE users ALTER COLUMN name SET NOT NULL; \
         ALTER TABLE payments ALTER COLUMN amount TYPE bigint; \
         DROP INDEX ix_organizations_slug; \
         CREATE TABLE audit_log (id integer PRIMARY KEY);",
    )
    .await
    .expect("hand changes");
    let check = cli(&dir, test_db.url(), &["check"]);
    assert_eq!(check.code, 1, "{check:#?}");
    assert_eq!(
        check.stdout_lines(),
        vec![
            "audit_log: table in the database, no entity has it",
            "jobs.notes: column in the database, not in the entity",
            "jobs.sketchup_url: column of the entity, missing from the database",
            "organizations.slug: unique in the entity, not in the database",
            "payments.amount: type bigint in the database, integer in the entity",
            "users.name: NOT NULL in the database, nullable in the entity",
        ]
    );
    assert_eq!(
        check.stderr_lines(),
        vec!["error: the database differs from the entities in 6 places (listed above)"]
    );
}
