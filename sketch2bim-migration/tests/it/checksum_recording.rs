//! Databases without every checksum: a bookkeeping table made before
//! checksums were kept gets the column from the first run that records
//! something (waiting for its readers no longer than the lock wait), and
//! sea-orm's own reader still reads it; adoption records checksums, and a row
//! written by sea-orm's own insert is unrecorded, not edited.

use rstest::rstest;
use sea_orm::EntityTrait;
use sea_orm_migration::MigratorTrait;
use test_support::cli::{WorkDir, cli};
use test_support::db::exec;
use test_support::migrations::Migrations;
use test_support::{Backend, TestDb, alembic};

use crate::checksum::{POSTGRES, all_recorded, expected, has_checksum_column, names, recorded};
use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

/// A database migrated before checksums were kept: reading commands add
/// nothing; the first run that records a migration adds the column; `repair`
/// records the rest; sea-orm's own reader reads the table throughout.
#[rstest]
#[case::postgres(Backend::Postgres)]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn a_table_without_the_column_gets_it(#[case] backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    exec(&db, "ALTER TABLE seaql_migrations DROP COLUMN checksum").await;

    let verify = cli(BIN, &dir, url, &["verify"]).ok();
    let n = migrations().len();
    assert_eq!(verify.stdout_lines().len(), n, "{verify:#?}");
    assert!(
        verify
            .stdout_lines()
            .iter()
            .all(|l| l.ends_with("  no checksum recorded")),
        "{verify:#?}"
    );
    assert_eq!(
        verify.stderr_lines(),
        vec![format!(
            "sketch2bim: 0 of {} applied match what this binary renders; {n} have no checksum \
             recorded (applied before checksums were kept, or by another tool): run repair to \
             record them",
            Migrations::count(n)
        )]
    );
    cli(BIN, &dir, url, &["status"]).ok();
    assert!(!has_checksum_column(&db).await, "a read command added it");

    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();
    assert!(!has_checksum_column(&db).await, "down added it");
    let dry = cli(BIN, &dir, url, &["up", "--dry-run"]).ok();
    assert_eq!(
        &dry.stdout_lines()[..2],
        &[
            "-- the bookkeeping table's checksum column (up)".to_owned(),
            match backend {
                Backend::Postgres => {
                    "ALTER TABLE IF EXISTS \"public\".\"seaql_migrations\" ADD COLUMN IF NOT \
                     EXISTS checksum varchar;"
                }
                Backend::Sqlite => "ALTER TABLE \"seaql_migrations\" ADD COLUMN checksum varchar;",
            }
            .to_owned()
        ]
    );
    cli(BIN, &dir, url, &["up"]).ok();
    let mut want: Vec<(String, Option<String>)> =
        names().iter().map(|n| ((*n).to_owned(), None)).collect();
    // Only the head, rolled back and applied again, has its checksum.
    want[n - 1].1 = expected(backend).await.pop().map(|(_, checksum)| checksum);
    assert_eq!(recorded(&db).await, want);

    // sea-orm's own reader, as its CLI and `get_applied_migrations` use it.
    let rows = sea_orm_migration::seaql_migrations::Entity::find()
        .all(&db)
        .await
        .expect("sea-orm reads the bookkeeping table");
    assert_eq!(
        rows.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        names()
    );
    let applied = sketch2bim_migration::Migrator::get_applied_migrations(&db)
        .await
        .expect("get_applied_migrations");
    assert_eq!(
        applied.iter().map(|m| m.name()).collect::<Vec<_>>(),
        names()
    );

    let repair = cli(BIN, &dir, url, &["repair"]).ok();
    assert_eq!(
        repair.stderr_lines().last().map(|l| (*l).to_owned()),
        Some(format!(
            "sketch2bim: recorded the checksums of {}: {}",
            Migrations::count(n - 1),
            migrations().first(n - 1).join(", ")
        ))
    );
    assert_eq!(recorded(&db).await, all_recorded(backend).await);
}

/// A row written by sea-orm's own insert (no checksum) is unrecorded, not
/// edited; adopting an Alembic-built database records its checksums.
#[tokio::test]
async fn adoption_records_checksums_and_foreign_rows_are_unrecorded() {
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    alembic::build(&db, "sketch2bim", 5).await;
    // A dry run shows the adoption as it will run, checksums included, and
    // changes nothing.
    let dry = cli(
        BIN,
        &dir,
        url,
        &["up", "--dry-run", "--to", "m005_add_sketchup_url"],
    )
    .ok();
    let lines = dry.stdout_lines();
    assert_eq!(
        &lines[..3],
        &[
            "-- adoption of Alembic revision 005 (up)",
            "BEGIN;",
            "ALTER TABLE IF EXISTS \"public\".\"seaql_migrations\" ADD COLUMN IF NOT EXISTS \
             checksum varchar;",
        ],
        "{dry:#?}"
    );
    assert!(
        lines[3].starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"seaql_migrations\""),
        "{dry:#?}"
    );
    let insert = lines[4];
    assert!(
        insert.starts_with(
            "INSERT INTO \"public\".\"seaql_migrations\" (version, applied_at, checksum) \
             SELECT column1, "
        ),
        "{dry:#?}"
    );
    for (name, checksum) in &POSTGRES[..5] {
        assert!(
            insert.contains(&format!("('{name}', '{checksum}')")),
            "{insert}"
        );
    }
    assert!(!insert.contains("m006_"), "{insert}");
    assert_eq!(&lines[5..], &["COMMIT;", ""], "{dry:#?}");
    assert!(
        !test_support::db::has_bookkeeping(&db).await,
        "a dry run recorded something"
    );
    cli(BIN, &dir, url, &["adopt"]).ok();
    assert_eq!(
        recorded(&db).await,
        all_recorded(Backend::Postgres).await[..5]
    );

    // m006 recorded the way sea-orm's CLI records it.
    cli(BIN, &dir, url, &["up", "--to", "m006_remove_api_keys"]).ok();
    exec(
        &db,
        "UPDATE seaql_migrations SET checksum = NULL WHERE version = 'm006_remove_api_keys'",
    )
    .await;
    let verify = cli(BIN, &dir, url, &["verify"]).ok();
    assert_eq!(
        verify.stderr_lines(),
        vec![
            "sketch2bim: 5 of 6 migrations applied match what this binary renders; 1 has no \
             checksum recorded (applied before checksums were kept, or by another tool): run \
             repair to record it"
        ]
    );
    let status = cli(BIN, &dir, url, &["status"]).ok();
    assert_eq!(status.stderr, "", "an unrecorded checksum is no warning");
}

/// Adding the column waits for the table's readers no longer than the lock
/// wait, and `repair` on a table that has it takes no lock they hold off.
#[tokio::test]
async fn the_checksum_column_waits_for_readers_no_longer_than_the_lock_wait() {
    use sea_orm::TransactionTrait;
    let test_db = TestDb::postgres().await;
    let db = test_db.connect().await;
    let dir = WorkDir::new();
    let url = test_db.url();
    cli(BIN, &dir, url, &["up"]).ok();
    exec(&db, "ALTER TABLE seaql_migrations DROP COLUMN checksum").await;
    cli(BIN, &dir, url, &["down", "-n", "1"]).ok();

    // An application reads the bookkeeping table in a transaction it keeps open.
    let reader = test_db.connect().await;
    let open = reader.begin().await.expect("begin");
    exec(&open, "SELECT count(*) FROM seaql_migrations").await;
    let up = cli(BIN, &dir, url, &["--table-lock-timeout", "200ms", "up"]);
    assert_eq!(up.code, 1, "{up:#?}");
    assert_eq!(
        up.stderr_lines(),
        vec![
            "error: adding the checksum column to seaql_migrations failed: canceling statement \
             due to lock timeout"
        ]
    );
    assert!(!has_checksum_column(&db).await, "half-added");
    open.commit().await.expect("commit");
    cli(BIN, &dir, url, &["up"]).ok();
    assert!(has_checksum_column(&db).await);

    // With the column there, repair only updates rows: a reader does not
    // hold it up.
    cli(BIN, &dir, url, &["repair"]).ok();
    exec(
        &db,
        "UPDATE seaql_migrations SET checksum = NULL WHERE version = 'm001_initial_schema'",
    )
    .await;
    let open = reader.begin().await.expect("begin");
    exec(&open, "SELECT count(*) FROM seaql_migrations").await;
    let repair = cli(BIN, &dir, url, &["--table-lock-timeout", "200ms", "repair"]).ok();
    assert_eq!(
        repair.stderr_lines().last().copied(),
        Some("sketch2bim: recorded the checksums of 1 migration: m001_initial_schema")
    );
    open.commit().await.expect("commit");
}
